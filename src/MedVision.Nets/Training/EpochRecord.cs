namespace MedVision.Nets.Training;

/// <summary>One line of the training history.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's batches.</param>
/// <param name="TrainLossTerms">Mean of each loss term.</param>
/// <param name="LearningRate">Learning rate of the first parameter group during the epoch.</param>
/// <param name="Validation">Validation metrics after the epoch.</param>
/// <param name="Seconds">Wall time of the epoch including validation.</param>
public sealed record EpochRecord(int Epoch, double TrainLoss, IReadOnlyDictionary<string, double> TrainLossTerms, double LearningRate, SplitMetrics Validation, double Seconds)
{
    /// <summary>Mean of each loss term.</summary>
    public IReadOnlyDictionary<string, double> TrainLossTerms { get; init; } = TrainLossTerms ?? throw new ArgumentNullException(nameof(TrainLossTerms));

    /// <summary>Validation metrics after the epoch.</summary>
    public SplitMetrics Validation { get; init; } = Validation ?? throw new ArgumentNullException(nameof(Validation));
}
