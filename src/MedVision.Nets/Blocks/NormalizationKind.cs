namespace MedVision.Nets.Blocks;

/// <summary>The normalisation layer a network puts after its convolutions.</summary>
public enum NormalizationKind
{
    /// <summary>Batch normalisation (BatchNorm2d/BatchNorm3d): statistics over the batch, running averages for inference.</summary>
    Batch,
    /// <summary>Instance normalisation (InstanceNorm2d/InstanceNorm3d): per-sample, per-channel statistics, no learnable affine.</summary>
    Instance,
}
