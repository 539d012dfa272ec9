namespace MedVision.Torch.Nn;

/// <summary>Batch normalisation of (N, C, H, W) inputs (torch.nn.BatchNorm2d).</summary>
public sealed class BatchNorm2d : BatchNorm
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public BatchNorm2d(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base("BatchNorm2d", new[] { 4 }, numFeatures, eps, momentum, affine, trackRunningStats) { }
}
