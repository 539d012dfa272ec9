namespace MedVision.Nets.Explainability;

/// <summary>Colour scales that <see cref="Heatmap"/> maps values in [0, 1] through.</summary>
public enum Colormap
{
    /// <summary>Blue → cyan → yellow → red (OpenCV's and MATLAB's "jet"), the customary Grad-CAM rendering.</summary>
    Jet = 0,

    /// <summary>Dark purple → teal → yellow (matplotlib's "viridis", as a nine-point piecewise-linear approximation): perceptually ordered and readable in grey print and by colour-blind readers.</summary>
    Viridis = 1,

    /// <summary>Black → white.</summary>
    Grey = 2,
}
