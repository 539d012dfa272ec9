using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Explainability;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Inference;

/// <summary>A prediction and the map that explains it: a class-activation map or a gradient attribution (see <see cref="Predictor.Explain(FloatImage, CamMethod, int?)"/> and <see cref="Predictor.Explain(FloatImage, AttributionMethod, int?, AttributionOptions?)"/>).</summary>
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
    /// For the attributions that add up to the change of the class's logit from a baseline to the input — integrated
    /// gradients, DeepLIFT, GradientSHAP, DeepLIFT SHAP — the sum of the attributions minus that change (Captum's
    /// convergence delta; see <see cref="Attributions.ConvergenceDeltas"/>), before the map was scaled to [0, 1]; with
    /// test-time flips the mean over the flipped copies. Near 0 when the attributions are complete; compare it with
    /// <see cref="ScoreChange"/> (e.g. to see whether integrated gradients need more steps). Null for the other methods,
    /// for class-activation maps, and for the averaged map of an ensemble of several models (scaled maps averaged; an
    /// ensemble of one reports its model's).
    /// </summary>
    public double? ConvergenceDelta { get; init; }

    /// <summary>
    /// Beside <see cref="ConvergenceDelta"/>: the change of the class's logit from the baseline (the mean over the SHAP
    /// methods' references or draws) to the input, which the attributions share out. Null where the delta is.
    /// </summary>
    public double? ScoreChange { get; init; }

    /// <summary>
    /// Blends the map over <paramref name="image"/> (typically the original photograph, at any size; see
    /// <see cref="Heatmap.Overlay"/>). Images only.
    /// </summary>
    public RasterImage Overlay(RasterImage image, double alpha = 0.5, Colormap colormap = Colormap.Jet)
    {
        if (MapShape.Count != 2) throw new InvalidOperationException("Overlays are drawn for 2-D maps; this one is a volume.");
        return Heatmap.Overlay(image, Map, MapShape[1], MapShape[0], alpha, colormap);
    }

    /// <summary>The grid of the model input the map lies on, in the scans' world; known when a volume was explained (<c>Predictor.ExplainFile</c>, <c>ExplainVolume</c>, <c>ExplainVolumes</c>, with either kind of method).</summary>
    internal VolumeGrid? InputGrid { get; init; }

    /// <summary>The grid of the (first) scan that was explained, as it was given.</summary>
    internal VolumeGrid? SourceGrid { get; init; }

    /// <summary>
    /// The map of a volume as a <see cref="NiftiImage"/> on the model input's grid: (X, Y, Z) = (W, H, D), with the
    /// world affine that preparation gave that grid (reorienting, resampling, cropping and resizing followed), so that
    /// a viewer shows it where it belongs — or, for a map of a <see cref="FloatImage"/> given to
    /// <see cref="Predictor.Explain(FloatImage, CamMethod, int?)"/>, whose world is unknown, with no orientation.
    /// </summary>
    /// <exception cref="InvalidOperationException">The map is 2-D.</exception>
    public NiftiImage ToInputVolume()
    {
        if (MapShape.Count != 3) throw new InvalidOperationException("This map is 2-D (an image's); only volumes' maps are NIfTI volumes.");
        int[] shape = [MapShape[2], MapShape[1], MapShape[0]];
        var voxels = (float[])Map.Clone();
        return InputGrid is { } grid
            ? new NiftiImage(voxels, shape, grid.Affine.VoxelSizes.Select(v => (float)v).ToArray(), NiftiDataType.Float32, grid.Affine, grid.AffineCode)
            : new NiftiImage(voxels, shape);
    }

    /// <summary>
    /// The map resampled onto the grid of the scan that was explained (for several channels, the first), as it was
    /// given — the file's own voxels, before any reorienting, resampling, cropping or resizing — so that it overlays
    /// the scan in a viewer (ITK-SNAP, 3D Slicer) or on its slices; trilinear, the input's edge values out to half an
    /// input voxel beyond its outer voxel centres (what its edge voxels summarise), zero beyond (what the model did not
    /// see, e.g. what a foreground crop cut off).
    /// <c>NiftiWriter.Write(path, explanation.ToSourceVolume())</c> saves it beside the scan.
    /// </summary>
    /// <exception cref="InvalidOperationException">The map is 2-D, or it explains a <see cref="FloatImage"/>, whose source grid is unknown.</exception>
    public NiftiImage ToSourceVolume()
    {
        var source = SourceGrid ?? throw new InvalidOperationException("This map explains an image given as pixels, whose scan is unknown: explain the volume with Predictor.ExplainFile, ExplainVolume or ExplainVolumes.");
        return Placed(source.Shape, source.Affine, source.AffineCode);
    }

    /// <summary>The map resampled onto <paramref name="reference"/>'s grid through the world coordinates of both (as <see cref="ToSourceVolume"/> places it): e.g. onto another series of the same session.</summary>
    /// <exception cref="InvalidOperationException">The map is 2-D, or it explains a <see cref="FloatImage"/>, whose world is unknown.</exception>
    /// <exception cref="ArgumentException">The reference grid does not overlap the map's.</exception>
    public NiftiImage ToVolume(NiftiImage reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return Placed(reference.Shape, reference.Affine, reference.AffineCode);
    }

    /// <summary>The map resampled onto <paramref name="grid"/> (as <see cref="ToSourceVolume"/> places it on the source grid).</summary>
    internal NiftiImage PlacedOn(VolumeGrid grid) => Placed(grid.Shape, grid.Affine, grid.AffineCode);

    private NiftiImage Placed(IReadOnlyList<int> shape, NiftiAffine affine, NiftiXformCode code)
    {
        if (InputGrid is null) throw new InvalidOperationException("This map explains an image given as pixels, whose place in the world is unknown: explain the volume with Predictor.ExplainFile, ExplainVolume or ExplainVolumes.");
        // The input's edge voxels summarise the scan out to half a voxel beyond their centres: the scan's rim that the
        // model saw gets the map's edge values, the rest 0.
        return ToInputVolume().ResampleWithinReach(shape, affine, code);
    }
}
