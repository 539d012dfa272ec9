namespace MedVision.Torch.Nn;

/// <summary>
/// Channel dropout for (N, C, H, W) inputs: in training mode, zeroes whole channels with probability p
/// and scales the others by 1 / (1 − p) (torch.nn.Dropout2d).
/// </summary>
public sealed class Dropout2d : ChannelDropout
{
    /// <summary>Creates the layer.</summary>
    public Dropout2d(double p = 0.5) : base(p, 2) { }
}
