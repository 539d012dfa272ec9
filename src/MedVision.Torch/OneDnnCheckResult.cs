namespace MedVision.Torch;

/// <summary>The outcome of <see cref="Tensors.OneDnnSelfCheck"/>.</summary>
public enum OneDnnCheckResult
{
    /// <summary>oneDNN's convolution gradients were wrong; oneDNN has been turned off for this process.</summary>
    Failed = 0,

    /// <summary>oneDNN's convolution gradients matched the float64 reference; oneDNN stays on.</summary>
    Passed = 1,

    /// <summary>Not checked: <c>MEDVISION_ONEDNN</c> was set, libtorch has no oneDNN, or oneDNN was already off.</summary>
    Skipped = 2,
}
