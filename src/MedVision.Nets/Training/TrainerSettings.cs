using MedVision.Nets.Data.Loading;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Optim;
using Microsoft.Extensions.Logging;

namespace MedVision.Nets.Training;

/// <summary>The validated configuration a <see cref="TrainerBuilder"/> hands to a <see cref="Trainer"/>.</summary>
internal sealed record TrainerSettings(
    ITrainingTask Task,
    DataLoader Train,
    DataLoader? Validation,
    DataLoader? TrainEvaluation,
    DataLoader? Test,
    Func<IReadOnlyList<Tensor>, Optimizer> OptimizerFactory,
    Func<Optimizer, int, LearningRateScheduler>? SchedulerFactory, // (optimizer, optimizer steps per epoch)
    bool SchedulePerStep,
    Func<Optimizer, ReduceLROnPlateau>? PlateauFactory,
    int Epochs,
    Device Device,
    int Seed,
    int? EarlyStoppingPatience,
    double? GradientClipNorm,
    string? OutputDirectory,
    ILogger? Logger,
    IProgress<TrainingProgress>? Progress,
    ProcessGroup? Group = null,
    DataParallelOptions? DataParallel = null,
    int AccumulationSteps = 1,
    double? WeightAveragingDecay = null,
    bool MixedPrecision = false,
    StochasticWeightAveragingSettings? Swa = null,
    bool WeightAveragingWarmup = false,
    TensorBoardTarget? TensorBoard = null);

/// <summary>Stochastic weight averaging from <see cref="StartEpoch"/> (0-based) on, with <see cref="SwaLR"/>'s settings.</summary>
internal sealed record StochasticWeightAveragingSettings(int StartEpoch, double LearningRate, int AnnealEpochs, AnnealStrategy Strategy);
