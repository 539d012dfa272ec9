using MedVision.Nets.Data.Images;
using MedVision.Nets.Explainability;

namespace MedVision.Nets.Inference;

/// <summary>A prediction and the class-activation map that explains it (see <see cref="Predictor.Explain"/>).</summary>
/// <param name="Prediction">The prediction for the input.</param>
/// <param name="TargetClass">The class the map explains (the predicted one unless another was asked for).</param>
/// <param name="TargetClassName">That class's name.</param>
/// <param name="Map">The map at the model's input size, row-major over <paramref name="MapShape"/>, values in [0, 1].</param>
/// <param name="MapShape">(H, W) for images, (D, H, W) for volumes.</param>
public sealed record Explanation(Prediction Prediction, int TargetClass, string TargetClassName, float[] Map, IReadOnlyList<int> MapShape)
{
    /// <summary>The prediction for the input.</summary>
    public Prediction Prediction { get; init; } = Prediction ?? throw new ArgumentNullException(nameof(Prediction));

    /// <summary>That class's name.</summary>
    public string TargetClassName { get; init; } = TargetClassName ?? throw new ArgumentNullException(nameof(TargetClassName));

    /// <summary>The map at the model's input size, row-major over <see cref="MapShape"/>, values in [0, 1].</summary>
    public float[] Map { get; init; } = Map ?? throw new ArgumentNullException(nameof(Map));

    /// <summary>(H, W) for images, (D, H, W) for volumes.</summary>
    public IReadOnlyList<int> MapShape { get; init; } = MapShape ?? throw new ArgumentNullException(nameof(MapShape));

    /// <summary>
    /// Blends the map over <paramref name="image"/> (typically the original photograph, at any size; see
    /// <see cref="Heatmap.Overlay"/>). Images only.
    /// </summary>
    public RasterImage Overlay(RasterImage image, double alpha = 0.5, Colormap colormap = Colormap.Jet)
    {
        if (MapShape.Count != 2) throw new InvalidOperationException("Overlays are drawn for 2-D maps; this one is a volume.");
        return Heatmap.Overlay(image, Map, MapShape[1], MapShape[0], alpha, colormap);
    }
}
