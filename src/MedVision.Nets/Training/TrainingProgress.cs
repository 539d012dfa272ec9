namespace MedVision.Nets.Training;

/// <summary>Progress reported through <see cref="IProgress{T}"/> after every training step and epoch.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">Batches done in this epoch.</param>
/// <param name="StepsPerEpoch">Batches per epoch.</param>
/// <param name="Loss">Loss of the last batch.</param>
/// <param name="Completed">The record of the epoch when it has just finished, else null.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, EpochRecord? Completed);
