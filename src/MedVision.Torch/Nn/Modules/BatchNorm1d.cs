namespace MedVision.Torch.Nn;

/// <summary>Batch normalisation of (N, C) or (N, C, L) inputs (torch.nn.BatchNorm1d).</summary>
public sealed class BatchNorm1d : BatchNorm
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public BatchNorm1d(long numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base("BatchNorm1d", new[] { 2, 3 }, numFeatures, eps, momentum, affine, trackRunningStats) { }
}
