namespace MedVision.Torch.Nn;

/// <summary>Batch normalisation of (N, C, D, H, W) inputs (torch.nn.BatchNorm3d).</summary>
public sealed class BatchNorm3d : BatchNorm
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public BatchNorm3d(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base("BatchNorm3d", new[] { 5 }, numFeatures, eps, momentum, affine, trackRunningStats) { }
}
