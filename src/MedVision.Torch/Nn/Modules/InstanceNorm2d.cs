namespace MedVision.Torch.Nn;

/// <summary>Instance normalisation of 2-D feature maps (torch.nn.InstanceNorm2d).</summary>
public sealed class InstanceNorm2d : InstanceNorm
{
    /// <summary>Creates the layer; arguments in PyTorch's order (affine and running statistics off by default).</summary>
    public InstanceNorm2d(long numFeatures, double eps = 1e-5, double momentum = 0.1, bool affine = false, bool trackRunningStats = false)
        : base(2, numFeatures, eps, momentum, affine, trackRunningStats) { }
}
