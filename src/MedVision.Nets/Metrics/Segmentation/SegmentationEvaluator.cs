using System.Globalization;
using MedVision.Torch;

namespace MedVision.Nets.Metrics.Segmentation;

/// <summary>
/// Evaluates label maps with several classes, one class at a time: Dice, IoU, Hausdorff, HD95, average symmetric
/// surface distance and normalised surface Dice per class and case, and their means over cases
/// (<see cref="SegmentationSummary"/>). Class 0 is the background and is left out unless
/// <see cref="IncludingBackground"/>. Immutable: each <c>With…</c> returns a new evaluator.
/// </summary>
/// <example><code>
/// var evaluator = SegmentationEvaluator.ForClasses(3).WithSpacing(2.0, 0.8, 0.8).WithSurfaceTolerance(2.0);
/// var cases = evaluator.Evaluate(logits, labels);   // (N, C, D, H, W) and (N, D, H, W)
/// Console.WriteLine(SegmentationSummary.Of(cases).MeanDice);
/// </code></example>
public sealed class SegmentationEvaluator
{
    private SegmentationEvaluator(int classes, double[]? spacing, bool background, double tolerance, bool surfaces)
    {
        NumClasses = classes;
        Spacing = spacing;
        IncludesBackground = background;
        SurfaceTolerance = tolerance;
        MeasuresSurfaces = surfaces;
    }

    /// <summary>The number of classes, background (0) included.</summary>
    public int NumClasses { get; }

    /// <summary>The voxel spacing per axis (null: 1 per axis).</summary>
    public IReadOnlyList<double>? Spacing { get; }

    /// <summary>Whether class 0 is evaluated too.</summary>
    public bool IncludesBackground { get; }

    /// <summary>The tolerance of the surface Dice, in spacing units (default 1).</summary>
    public double SurfaceTolerance { get; }

    /// <summary>Whether surface distances are measured (false: Dice and IoU only, and NaN distances).</summary>
    public bool MeasuresSurfaces { get; }

    /// <summary>An evaluator of label maps with values in [0, <paramref name="numClasses"/>), 0 the background.</summary>
    public static SegmentationEvaluator ForClasses(int numClasses)
    {
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "A label map needs at least two classes: background (0) and one structure.");
        return new SegmentationEvaluator(numClasses, null, false, 1.0, true);
    }

    /// <summary>The voxel spacing per axis (e.g. millimetres, in the label map's axis order) for the surface distances.</summary>
    public SegmentationEvaluator WithSpacing(params double[] spacing)
    {
        ArgumentNullException.ThrowIfNull(spacing);
        if (spacing.Length is < 1 or > 4 || spacing.Any(s => !(s > 0) || double.IsInfinity(s)))
            throw new ArgumentException($"Give 1 to 4 positive finite spacings, got [{string.Join(", ", spacing.Select(s => s.ToString(CultureInfo.InvariantCulture)))}].", nameof(spacing));
        return new SegmentationEvaluator(NumClasses, spacing.ToArray(), IncludesBackground, SurfaceTolerance, MeasuresSurfaces);
    }

    /// <summary>Evaluates class 0 as well.</summary>
    public SegmentationEvaluator IncludingBackground() => new(NumClasses, Spacing?.ToArray(), true, SurfaceTolerance, MeasuresSurfaces);

    /// <summary>The tolerance τ ≥ 0 of the normalised surface Dice, in spacing units.</summary>
    public SegmentationEvaluator WithSurfaceTolerance(double tolerance)
    {
        if (!(tolerance >= 0) || double.IsInfinity(tolerance)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must be a finite number ≥ 0.");
        return new SegmentationEvaluator(NumClasses, Spacing?.ToArray(), IncludesBackground, tolerance, MeasuresSurfaces);
    }

    /// <summary>Overlap only (Dice, IoU): skips the surface distances, which cost a distance transform per class.</summary>
    public SegmentationEvaluator WithoutSurfaceDistances() => new(NumClasses, Spacing?.ToArray(), IncludesBackground, SurfaceTolerance, false);

    /// <summary>Evaluates one label map against the truth.</summary>
    /// <param name="prediction">Predicted class per voxel, C order.</param>
    /// <param name="truth">True class per voxel, same shape.</param>
    /// <param name="shape">The sizes of the axes (1 to 4).</param>
    /// <exception cref="ArgumentException">The shape or spacing does not fit, or a label lies outside [0, classes).</exception>
    public SegmentationCase Evaluate(ReadOnlySpan<int> prediction, ReadOnlySpan<int> truth, IReadOnlyList<int> shape)
    {
        var grid = Grid.Of(shape, prediction.Length, nameof(shape), nameof(prediction));
        if (truth.Length != prediction.Length) throw new ArgumentException($"The truth has {truth.Length} voxels, the prediction {prediction.Length}.", nameof(truth));
        CheckLabels(prediction, nameof(prediction));
        CheckLabels(truth, nameof(truth));
        var spacing = grid.SpacingOf(Spacing, "spacing");
        var results = new List<SegmentationClassMetrics>();
        var p = new bool[prediction.Length];
        var t = new bool[truth.Length];
        for (int k = IncludesBackground ? 0 : 1; k < NumClasses; k++)
        {
            for (int i = 0; i < p.Length; i++)
            {
                p[i] = prediction[i] == k;
                t[i] = truth[i] == k;
            }
            var (intersection, predicted, actual) = SegmentationMetrics.Count(p, t);
            double dice = SegmentationMetrics.DiceOf(intersection, predicted, actual);
            double iou = SegmentationMetrics.IouOf(intersection, predicted, actual);
            double hd = double.NaN, hd95 = double.NaN, assd = double.NaN, nsd = double.NaN;
            if (MeasuresSurfaces)
            {
                var surface = SegmentationMetrics.Surface(p, t, grid, spacing);
                (hd, hd95, assd, nsd) = (surface.Hausdorff, surface.Hausdorff95, surface.AverageSymmetric, surface.SurfaceDice(SurfaceTolerance));
            }
            results.Add(new SegmentationClassMetrics(k, actual, predicted, dice, iou, hd, hd95, assd, nsd));
        }
        return new SegmentationCase(results);
    }

    /// <summary>
    /// Evaluates a batch: predictions as scores (N, C, spatial…) of a floating type (the arg-max over C is the
    /// label) or as labels (N, spatial…) of an integer type; truth as labels (N, spatial…) or (N, 1, spatial…).
    /// One case per image or scan.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes, types or labels do not fit; the message names them.</exception>
    public IReadOnlyList<SegmentationCase> Evaluate(Tensor prediction, Tensor truth)
    {
        var batch = LabelArrays(prediction, truth);
        var cases = new List<SegmentationCase>(batch.Count);
        for (int i = 0; i < batch.Count; i++) cases.Add(Evaluate(batch.Predicted(i), batch.Truth(i), batch.Shape));
        return cases;
    }

    /// <summary>A checked batch of label maps on the CPU: case i's predicted and true labels, and the spatial shape.</summary>
    internal sealed record LabelBatch(int[] PredictedLabels, int[] TruthLabels, int[] Shape, int Count)
    {
        private int PerCase => Count == 0 ? 0 : PredictedLabels.Length / Count;

        public ReadOnlySpan<int> Predicted(int i) => PredictedLabels.AsSpan(i * PerCase, PerCase);

        public ReadOnlySpan<int> Truth(int i) => TruthLabels.AsSpan(i * PerCase, PerCase);
    }

    /// <summary>
    /// A batch as <see cref="Evaluate(Tensor, Tensor)"/> takes it (scores or labels, truth with or without its channel
    /// axis), checked and brought to label arrays on the CPU.
    /// </summary>
    internal LabelBatch LabelArrays(Tensor prediction, Tensor truth)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(truth);
        using var scope = Tensors.NewDisposeScope();
        Tensor labels;
        if (prediction.ScalarType.IsFloatingPoint())
        {
            if (prediction.Dim < 3 || prediction.Size(1) != NumClasses)
                throw new ArgumentException($"Scores must be (N, {NumClasses}, spatial…), one channel per class, got [{string.Join(", ", prediction.Shape)}].", nameof(prediction));
            labels = prediction.ArgMax(1);
        }
        else if (prediction.ScalarType == ScalarType.Bool)
            throw new ArgumentException("Predictions must be scores (floating point) or class labels (an integer type), not bool.", nameof(prediction));
        else labels = prediction;
        if (labels.Dim < 2) throw new ArgumentException($"Labels must be (N, spatial…), got [{string.Join(", ", labels.Shape)}].", nameof(prediction));
        var target = truth.Dim == labels.Dim + 1 && truth.Size(1) == 1 ? truth.Squeeze(1) : truth;
        if (!target.Shape.SequenceEqual(labels.Shape))
            throw new ArgumentException($"The truth [{string.Join(", ", truth.Shape)}] does not fit the predicted labels [{string.Join(", ", labels.Shape)}].", nameof(truth));
        if (truth.ScalarType.IsFloatingPoint() || truth.ScalarType == ScalarType.Bool)
            throw new ArgumentException($"The truth must hold class labels of an integer type, got {truth.ScalarType}.", nameof(truth));
        var shape = labels.Shape.Skip(1).Select(s => checked((int)s)).ToArray();
        if (shape.Length > 4) throw new ArgumentException($"At most 4 spatial dimensions, got {shape.Length}.", nameof(prediction));
        CheckLabels(labels, nameof(prediction));
        CheckLabels(target, nameof(truth));
        var predicted = labels.To(ScalarType.Int32, Device.Cpu).Contiguous().ToArray<int>();
        var actual = target.To(ScalarType.Int32, Device.Cpu).Contiguous().ToArray<int>();
        return new LabelBatch(predicted, actual, shape, checked((int)labels.Size(0)));
    }

    // Before narrowing to int32, which would wrap large values into the class range.
    private void CheckLabels(Tensor labels, string parameterName)
    {
        if (labels.NumElements == 0) return;
        long min = labels.Min().Item<long>(), max = labels.Max().Item<long>();
        if (min < 0 || max >= NumClasses)
            throw new ArgumentOutOfRangeException(parameterName, min < 0 ? min : max, $"Label {(min < 0 ? min : max)} is outside [0, {NumClasses}).");
    }

    private void CheckLabels(ReadOnlySpan<int> labels, string parameterName)
    {
        foreach (var label in labels)
            if ((uint)label >= (uint)NumClasses)
                throw new ArgumentOutOfRangeException(parameterName, label, $"Label {label} is outside [0, {NumClasses}).");
    }
}
