namespace MedVision.Nets.Training;

/// <summary>The outcome of one fold of a cross-validation.</summary>
public sealed class CrossValidationFold
{
    private readonly int[,] _validationLabels;
    private readonly double[,] _validationScores;

    internal CrossValidationFold(CrossValidationSplit split, TrainingResult training, int[,] validationLabels, double[,] validationScores, SplitMetrics validation, SplitMetrics test)
    {
        _validationLabels = validationLabels;
        _validationScores = validationScores;
        Split = split;
        Training = training;
        Validation = validation;
        Test = test;
    }

    /// <summary>The fold's samples and folder.</summary>
    public CrossValidationSplit Split { get; }

    /// <summary>The fold's index, from 0.</summary>
    public int Index => Split.Index;

    /// <summary>The fold's folder, or null when the cross-validation saves nothing.</summary>
    public string? Directory => Split.Directory;

    /// <summary>The fold's training run: its history and the selected epoch.</summary>
    public TrainingResult Training { get; }

    /// <summary>The selected model on the fold's own validation samples (its out-of-fold predictions).</summary>
    public SplitMetrics Validation { get; }

    /// <summary>The selected model on the test split (NaN when the cross-validation has none).</summary>
    public SplitMetrics Test { get; }

    /// <summary>
    /// The selected model's predictions of the fold's validation samples (copies), in the order of
    /// <see cref="CrossValidationSplit.ValidationIndices"/>: labels (n, L) and scores (n, K). Held out for this model, so
    /// e.g. the place to fit its temperature (<see cref="Metrics.TemperatureScaling"/>).
    /// </summary>
    public (int[,] Labels, double[,] Scores) GetValidationPredictions() => ((int[,])_validationLabels.Clone(), (double[,])_validationScores.Clone());

    // The predictions themselves (not copied), for the cross-validation that made them.
    internal int[,] ValidationLabels => _validationLabels;
    internal double[,] ValidationScores => _validationScores;

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"fold {Index + 1}: selected epoch {Training.BestEpoch + 1}, validation AUC {Validation.Auc:F4} ACC {Validation.Acc:F4}") +
        (double.IsNaN(Test.Auc) ? "" : FormattableString.Invariant($", test AUC {Test.Auc:F4} ACC {Test.Acc:F4}"));
}
