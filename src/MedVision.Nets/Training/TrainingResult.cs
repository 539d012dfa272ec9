namespace MedVision.Nets.Training;

/// <summary>The outcome of a training run: the history and the model selected by validation AUC, evaluated on every split.</summary>
/// <param name="History">One record per epoch (including epochs of an earlier run that was resumed).</param>
/// <param name="BestEpoch">The selected epoch (highest validation AUC; the first on ties; the last epoch when there is no validation split).</param>
/// <param name="Train">Selected model on the training split (NaN when no training evaluation set was given).</param>
/// <param name="Validation">Selected model on the validation split.</param>
/// <param name="Test">Selected model on the test split (NaN when no test set was given). Touched once, at the end.</param>
/// <param name="StoppedEarly">True when early stopping ended the run.</param>
/// <param name="OutputDirectory">Where checkpoints and history were written, or null.</param>
public sealed record TrainingResult(IReadOnlyList<EpochRecord> History, int BestEpoch, SplitMetrics Train, SplitMetrics Validation, SplitMetrics Test, bool StoppedEarly, string? OutputDirectory)
{
    /// <summary>One record per epoch (including epochs of an earlier run that was resumed).</summary>
    public IReadOnlyList<EpochRecord> History { get; init; } = History ?? throw new ArgumentNullException(nameof(History));

    /// <summary>Selected model on the training split (NaN when no training evaluation set was given).</summary>
    public SplitMetrics Train { get; init; } = Train ?? throw new ArgumentNullException(nameof(Train));

    /// <summary>Selected model on the validation split.</summary>
    public SplitMetrics Validation { get; init; } = Validation ?? throw new ArgumentNullException(nameof(Validation));

    /// <summary>Selected model on the test split (NaN when no test set was given). Touched once, at the end.</summary>
    public SplitMetrics Test { get; init; } = Test ?? throw new ArgumentNullException(nameof(Test));
}
