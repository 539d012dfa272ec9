namespace MedVision.Nets.Explainability;

/// <summary>Which attributions <see cref="Attributions.ToMaps"/> shows, after summing them over the channels (as Captum's <c>sign</c>).</summary>
public enum AttributionSign
{
    /// <summary>The magnitude: evidence for and against the class alike.</summary>
    Absolute = 0,

    /// <summary>Only positive attributions: evidence for the class.</summary>
    Positive = 1,

    /// <summary>Only negative attributions, as magnitudes: evidence against the class.</summary>
    Negative = 2,
}
