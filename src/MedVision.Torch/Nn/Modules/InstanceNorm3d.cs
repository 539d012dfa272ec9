namespace MedVision.Torch.Nn;

/// <summary>Instance normalisation of 3-D feature maps (torch.nn.InstanceNorm3d).</summary>
public sealed class InstanceNorm3d : InstanceNorm
{
    /// <summary>Creates the layer; arguments in PyTorch's order (affine and running statistics off by default).</summary>
    public InstanceNorm3d(long numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false)
        : base(3, numFeatures, eps, momentum, affine, trackRunningStats) { }
}
