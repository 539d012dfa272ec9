using MedVision.Nets.Metrics.Segmentation;
using MedVision.Torch;

namespace MedVision.Nets.Inference;

/// <summary>
/// Gathers held-out cases — each predicted label map with its truth — measured as predicted and with the largest
/// connected component kept (the foreground as one, each class, and both in nnU-Net's order), then makes nnU-Net's
/// post-processing choice on all of them (<see cref="Choose"/>). Feed it a cross-validation's out-of-fold predictions
/// (<see cref="Training.SegmentationTrainer.Evaluate(Data.Segmentation.SegmentationLoader, SegmentationPostprocessingComparison?, CancellationToken)"/>)
/// to choose the post-processing of the folds' ensemble, as nnU-Net does, or a test set's predictions. Only the
/// measures are kept, not the maps. Safe to add cases from several threads.
/// </summary>
public sealed class SegmentationPostprocessingComparison
{
    private readonly SegmentationEvaluator _evaluator;
    private readonly Connectivity? _connectivity;
    private readonly List<SegmentationCase> _asPredicted = [], _classes = [], _foreground = [], _foregroundThenClasses = [];
    private readonly object _gate = new();

    /// <summary>
    /// A comparison measuring with <paramref name="evaluator"/> (its class count is the maps'; the choice needs the Dice
    /// only, so an evaluator <see cref="SegmentationEvaluator.WithoutSurfaceDistances"/> is fastest) and finding
    /// components with <paramref name="connectivity"/> — by default as the predictors do: edges in 2-D
    /// (<see cref="ImageSegmentationPredictor.ComponentConnectivity"/>), faces in 3-D
    /// (<see cref="SegmentationPredictor.ComponentConnectivity"/>).
    /// </summary>
    public SegmentationPostprocessingComparison(SegmentationEvaluator evaluator, Connectivity? connectivity = null)
    {
        _evaluator = evaluator ?? throw new ArgumentNullException(nameof(evaluator));
        if (connectivity is { } c && !Enum.IsDefined(c)) throw new ArgumentOutOfRangeException(nameof(connectivity), c, "Not a connectivity.");
        _connectivity = connectivity;
    }

    /// <summary>The classes of the maps (background included).</summary>
    public int Classes => _evaluator.NumClasses;

    /// <summary>The cases added so far.</summary>
    public int Cases
    {
        get
        {
            lock (_gate) return _asPredicted.Count;
        }
    }

    // Several structures: the foreground step is its own step (with one it is the per-class step).
    private bool SeveralStructures => _evaluator.NumClasses > 2;

    /// <summary>Adds one case: its predicted and true label maps (C order) of <paramref name="shape"/> (2 or 3 axes).</summary>
    /// <exception cref="ArgumentException">The shape does not describe the maps, or a label lies outside the classes.</exception>
    public void Add(ReadOnlySpan<int> predicted, ReadOnlySpan<int> truth, IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        CheckRank(shape.Count, nameof(shape));
        var asPredicted = _evaluator.Evaluate(predicted, truth, shape);   // (the evaluator checks the shape and the labels)
        var connectivity = _connectivity ?? (shape.Count == 2 ? ImageSegmentationPredictor.ComponentConnectivity : SegmentationPredictor.ComponentConnectivity);
        var classes = _evaluator.Evaluate(ConnectedComponents.KeepLargestPerClass(predicted, shape, connectivity: connectivity), truth, shape);
        SegmentationCase? foreground = null, both = null;
        if (SeveralStructures)
        {
            var kept = ConnectedComponents.KeepLargestForeground(predicted, shape, connectivity);
            foreground = _evaluator.Evaluate(kept, truth, shape);
            both = _evaluator.Evaluate(ConnectedComponents.KeepLargestPerClass(kept, shape, connectivity: connectivity), truth, shape);
        }
        lock (_gate)
        {
            _asPredicted.Add(asPredicted);
            _classes.Add(classes);
            if (foreground is not null)
            {
                _foreground.Add(foreground);
                _foregroundThenClasses.Add(both!);
            }
        }
    }

    private static void CheckRank(int rank, string parameter)
    {
        if (rank is not (2 or 3)) throw new ArgumentException($"Components are found in 2-D images and 3-D volumes; the maps have {rank} axes.", parameter);
    }

    /// <summary>
    /// Adds a batch as <see cref="SegmentationEvaluator.Evaluate(Tensor, Tensor)"/> takes it: scores (N, classes,
    /// spatial…), whose arg-max is taken, or labels (N, spatial…) of an integer type, against integer truth (N, spatial…)
    /// or (N, 1, spatial…).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes, types or labels do not fit (as the evaluator says).</exception>
    public void Add(Tensor prediction, Tensor truth)
    {
        var batch = _evaluator.LabelArrays(prediction, truth);   // the evaluator's checks, with its messages
        CheckRank(batch.Shape.Length, nameof(prediction));
        for (int i = 0; i < batch.Count; i++) Add(batch.Predicted(i), batch.Truth(i), batch.Shape);
    }

    /// <summary>
    /// nnU-Net's choice on the cases added: for maps of several structures, the foreground as one keeps its largest
    /// region when that raises some class's mean Dice and lowers none's
    /// (<see cref="SegmentationPostprocessing.ChooseKeepLargestForeground"/>); then, on top of what that step leaves,
    /// each class keeps its largest component when that raises its mean Dice
    /// (<see cref="SegmentationPostprocessing.ChooseKeepLargest"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">No case has been added.</exception>
    public SegmentationPostprocessingResult Choose()
    {
        lock (_gate)
        {
            if (_asPredicted.Count == 0) throw new InvalidOperationException("Add the held-out cases before choosing their post-processing.");
            var asPredicted = SegmentationSummary.Of(_asPredicted);
            var foreground = SeveralStructures ? SegmentationSummary.Of(_foreground) : null;
            bool keepForeground = foreground is not null && SegmentationPostprocessing.ChooseKeepLargestForeground(asPredicted, foreground);
            var before = keepForeground ? foreground! : asPredicted;
            var classes = SegmentationSummary.Of(keepForeground ? _foregroundThenClasses : _classes);
            var chosen = SegmentationPostprocessing.ChooseKeepLargest(before, classes);
            return new SegmentationPostprocessingResult(asPredicted, foreground, classes, new SegmentationPostprocessingChoice(keepForeground, chosen));
        }
    }
}

/// <summary>What <see cref="SegmentationPostprocessingComparison.Choose"/> measured and chose.</summary>
/// <param name="AsPredicted">The cases as predicted.</param>
/// <param name="ForegroundKept">The cases with the foreground's largest region kept; null for maps of one structure (the step is then the per-class one).</param>
/// <param name="ClassesKept">The cases with every class's largest component kept, on top of the foreground step when it is chosen.</param>
/// <param name="Choice">The post-processing chosen.</param>
public sealed record SegmentationPostprocessingResult(SegmentationSummary AsPredicted, SegmentationSummary? ForegroundKept, SegmentationSummary ClassesKept, SegmentationPostprocessingChoice Choice)
{
    /// <summary>The cases as predicted.</summary>
    public SegmentationSummary AsPredicted { get; init; } = AsPredicted ?? throw new ArgumentNullException(nameof(AsPredicted));

    /// <summary>The cases with every class's largest component kept, on top of the foreground step when it is chosen.</summary>
    public SegmentationSummary ClassesKept { get; init; } = ClassesKept ?? throw new ArgumentNullException(nameof(ClassesKept));

    /// <summary>The post-processing chosen.</summary>
    public SegmentationPostprocessingChoice Choice { get; init; } = Choice ?? throw new ArgumentNullException(nameof(Choice));

    /// <summary>What the per-class step was compared with: <see cref="ForegroundKept"/> when the foreground step is chosen, else <see cref="AsPredicted"/>.</summary>
    public SegmentationSummary BeforeClasses => Choice.KeepLargestForeground && ForegroundKept is { } kept ? kept : AsPredicted;
}
