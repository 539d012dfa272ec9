using MedVision.Nets.Data.Loading;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Optim;
using MedVision.Torch.TensorBoard;
using Microsoft.Extensions.Logging;

namespace MedVision.Nets.Training;

/// <summary>
/// Configures a <see cref="Trainer"/>, reading as a sentence:
/// <code>Trainer.Create(task).TrainOn(train).ValidateOn(val).TestOn(test).UseAdam(1e-3).ForEpochs(100)
///     .WithMultiStepSchedule(0.5, 0.75).SaveTo("runs/r18").Build();</code>
/// Options are checked when set and again in <see cref="Build"/>; the builder cannot be used after it.
/// </summary>
public sealed class TrainerBuilder
{
    private readonly ITrainingTask _task;
    private DataLoader? _train, _validation, _trainEvaluation, _test;
    private Func<IReadOnlyList<Tensor>, Optimizer>? _optimizer;
    // A schedule from the epochs, the optimizer steps per epoch (known once the run starts) and the optimizer.
    private Schedule? _schedule;
    private int _epochs = 1;
    private Device _device = Device.Cpu;
    private int _seed;
    private int? _patience;
    private double? _clip;
    private int _accumulation = 1;
    private double? _averagingDecay;
    private bool _averagingWarmup;
    private (double StartFraction, double LearningRate, int AnnealEpochs, AnnealStrategy Strategy)? _swa;
    private bool _mixedPrecision;
    private TensorBoardTarget? _tensorBoard;
    private string? _output;
    private ILogger? _logger;
    private IProgress<TrainingProgress>? _progress;
    private bool _built;
    private ProcessGroup? _group;
    private DataParallelOptions? _dataParallel;

    internal TrainerBuilder(ITrainingTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        _task = task;
    }

    // What a cross-validation needs to know of a builder it completes for one fold.
    internal ITrainingTask Task => _task;

    internal bool IsBuilt => _built;

    // The calls a cross-validation makes itself for every fold (and so refuses from its caller), by name; empty when none was made.
    internal IEnumerable<string> FoldSettingsMade()
    {
        if (_train is not null) yield return "TrainOn";
        if (_validation is not null) yield return "ValidateOn";
        if (_trainEvaluation is not null) yield return "EvaluateTrainingOn";
        if (_test is not null) yield return "TestOn";
        if (_output is not null) yield return "SaveTo";
        if (_group is not null) yield return "DistributeOver";
    }

    /// <summary>Whether TensorBoard summaries were asked for (a cross-validation that writes them per fold refuses a second place).</summary>
    internal bool WritesTensorBoard => _tensorBoard is not null;

    /// <summary>The training batches (shuffled and augmented as the loader says).</summary>
    public TrainerBuilder TrainOn(DataLoader loader) => Set(() => _train = loader ?? throw new ArgumentNullException(nameof(loader)));

    /// <summary>The validation split: evaluated after every epoch and used for model selection and early stopping.</summary>
    public TrainerBuilder ValidateOn(DataLoader loader) => Set(() => _validation = loader ?? throw new ArgumentNullException(nameof(loader)));

    /// <summary>The training split without augmentation, to report the selected model's training metrics.</summary>
    public TrainerBuilder EvaluateTrainingOn(DataLoader loader) => Set(() => _trainEvaluation = loader ?? throw new ArgumentNullException(nameof(loader)));

    /// <summary>The test split: evaluated once, with the selected model, at the end.</summary>
    public TrainerBuilder TestOn(DataLoader loader) => Set(() => _test = loader ?? throw new ArgumentNullException(nameof(loader)));

    /// <summary>Any optimizer, created from the model's parameters.</summary>
    public TrainerBuilder UseOptimizer(Func<IReadOnlyList<Tensor>, Optimizer> factory) => Set(() => _optimizer = factory ?? throw new ArgumentNullException(nameof(factory)));

    /// <summary>Adam (the MedMNIST recipe uses learning rate 1e-3).</summary>
    public TrainerBuilder UseAdam(double learningRate = 1e-3, double weightDecay = 0)
    {
        // Checked here, not when Run builds the optimizer.
        RequireFinite(learningRate, nameof(learningRate), positive: true);
        RequireFinite(weightDecay, nameof(weightDecay), positive: false);
        return UseOptimizer(p => new Adam(p, learningRate, weightDecay: weightDecay));
    }

    // Finite and > 0 (positive) or ≥ 0; written so that every NaN fails (ThrowIfNegativeOrZero lets a NaN with a
    // clear sign bit through).
    private static void RequireFinite(double value, string name, bool positive)
    {
        if (!double.IsFinite(value) || (positive ? !(value > 0) : !(value >= 0)))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be {(positive ? "positive" : "non-negative")} and finite.");
    }

    /// <summary>SGD with momentum.</summary>
    public TrainerBuilder UseSgd(double learningRate, double momentum = 0.9, double weightDecay = 0, bool nesterov = false)
    {
        RequireFinite(learningRate, nameof(learningRate), positive: true);
        RequireFinite(momentum, nameof(momentum), positive: false);
        RequireFinite(weightDecay, nameof(weightDecay), positive: false);
        if (nesterov && momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum above 0.", nameof(nesterov));
        return UseOptimizer(p => new Sgd(p, learningRate, momentum, weightDecay: weightDecay, nesterov: nesterov));
    }

    /// <summary>Any epoch-based learning-rate schedule, stepped after every epoch.</summary>
    public TrainerBuilder WithSchedule(Func<Optimizer, LearningRateScheduler> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return Set(() => _schedule = new Schedule((_, _, o) => factory(o)));
    }

    /// <summary>
    /// Any schedule counted in optimizer steps, stepped after every optimizer step (after each group of batches with
    /// gradient accumulation). The factory gets the optimizer and the run's total number of optimizer steps (epochs ×
    /// steps per epoch), e.g. <c>(o, total) =&gt; new PolynomialLR(o, total, 0.9)</c>.
    /// </summary>
    public TrainerBuilder WithStepSchedule(Func<Optimizer, int, LearningRateScheduler> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return Set(() => _schedule = new Schedule(
            (epochs, steps, o) => factory(o, OptimizerSteps((long)epochs * steps, $"The run ({epochs} epochs of {steps} optimizer steps)")), PerStep: true));
    }

    /// <summary>Multiplies the learning rate by <paramref name="gamma"/> at the given fractions of the epochs (MedMNIST: 0.5 and 0.75, γ = 0.1).</summary>
    public TrainerBuilder WithMultiStepSchedule(double firstFraction = 0.5, double secondFraction = 0.75, double gamma = 0.1)
    {
        if (firstFraction is <= 0 or >= 1 || secondFraction is <= 0 or >= 1 || secondFraction < firstFraction)
            throw new ArgumentOutOfRangeException(nameof(firstFraction), "milestone fractions must satisfy 0 < first ≤ second < 1");
        // Milestones at floor(fraction · epochs), at least epoch 1 (a milestone at or past the last epoch never fires).
        return Set(() => _schedule = new Schedule((epochs, _, o) => new MultiStepLR(o, new[] { Math.Max(1, (int)(firstFraction * epochs)), Math.Max(1, (int)(secondFraction * epochs)) }.Distinct(), gamma)));
    }

    /// <summary>
    /// Cosine annealing over the epochs after an optional linear warm-up (<see cref="CosineAnnealingLR"/> with T_max the
    /// epochs after the warm-up): the learning rate falls from the optimizer's towards <paramref name="minLearningRate"/>,
    /// reached as the run ends.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The warm-up is negative or the minimum is negative or not finite.</exception>
    /// <exception cref="InvalidOperationException">(From <see cref="Build"/>) the warm-up leaves no epoch to anneal over.</exception>
    public TrainerBuilder WithCosineSchedule(int warmupEpochs = 0, double minLearningRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupEpochs);
        RequireFinite(minLearningRate, nameof(minLearningRate), positive: false);
        return Set(() => _schedule = new Schedule((epochs, _, o) => new CosineAnnealingLR(o, epochs - warmupEpochs, minLearningRate, warmupEpochs), WarmupEpochs: warmupEpochs));
    }

    /// <summary>
    /// Cosine annealing with warm restarts (SGDR, <see cref="CosineAnnealingWarmRestarts"/>) stepped after every optimizer
    /// step, so that the learning rate falls smoothly within each epoch as PyTorch's
    /// <c>scheduler.step(epoch + i / iters)</c> makes it: from the optimizer's rate towards
    /// <paramref name="minLearningRate"/> over a first cycle of <paramref name="firstCycleEpochs"/> epochs, then back to
    /// the optimizer's rate, each next cycle <paramref name="cycleMultiplier"/> times longer (restarts at epochs T₀,
    /// T₀ + T₀·m, …). The schedule counts optimizer steps, cycles of T₀ × steps-per-epoch of them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A cycle length or multiplier below 1, or a minimum that is negative or not finite.</exception>
    public TrainerBuilder WithWarmRestartsSchedule(int firstCycleEpochs, int cycleMultiplier = 1, double minLearningRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstCycleEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cycleMultiplier, 1);
        RequireFinite(minLearningRate, nameof(minLearningRate), positive: false);
        return Set(() => _schedule = new Schedule(
            (_, steps, o) => new CosineAnnealingWarmRestarts(o,
                OptimizerSteps((long)firstCycleEpochs * steps, $"The first warm-restart cycle ({firstCycleEpochs} epochs of {steps} optimizer steps)"),
                cycleMultiplier, minLearningRate), PerStep: true));
    }

    // A number of optimizer steps a schedule counts (an int, as LastEpoch); more is refused by name, not an overflow.
    private static int OptimizerSteps(long steps, string what) => steps <= int.MaxValue ? (int)steps
        : throw new InvalidOperationException($"{what} is {steps.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} optimizer steps, more than a learning-rate schedule counts ({int.MaxValue.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}).");

    /// <summary>
    /// Reduces the learning rate by <paramref name="factor"/> when the validation AUC (the model-selection metric) has
    /// not improved by a relative <paramref name="threshold"/> for more than <paramref name="patience"/> epochs
    /// (<see cref="ReduceLROnPlateau"/> in max mode), waiting <paramref name="cooldown"/> epochs after each reduction and
    /// never going below <paramref name="minLearningRate"/>. Needs <see cref="ValidateOn"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public TrainerBuilder WithPlateauSchedule(double factor = 0.1, int patience = 10, double threshold = 1e-4, int cooldown = 0, double minLearningRate = 0)
    {
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "factor must be in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        RequireFinite(threshold, nameof(threshold), positive: false);
        RequireFinite(minLearningRate, nameof(minLearningRate), positive: false);
        return Set(() => _schedule = new Schedule(null, Plateau: o => new ReduceLROnPlateau(o, PlateauMode.Max, factor, patience, threshold, cooldown: cooldown, minLearningRate: minLearningRate)));
    }

    /// <summary>
    /// The 1cycle policy over the whole run, stepped after every optimizer step (<see cref="OneCycleLR"/>): the learning
    /// rate rises from <paramref name="maxLearningRate"/>/25 to <paramref name="maxLearningRate"/> over the first
    /// <paramref name="warmupFraction"/> of the steps, then anneals to 1/10⁴ of its start; momentum (SGD's, or Adam's
    /// β1) cycles between 0.95 and 0.85 the other way unless <paramref name="cycleMomentum"/> is false. The optimizer's
    /// own learning rate is replaced.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The maximum is negative or not finite, or the fraction is outside [0, 1].</exception>
    public TrainerBuilder WithOneCycleSchedule(double maxLearningRate, double warmupFraction = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cosine, bool cycleMomentum = true)
    {
        RequireFinite(maxLearningRate, nameof(maxLearningRate), positive: true);
        if (!(warmupFraction >= 0 && warmupFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(warmupFraction), warmupFraction, "warmupFraction must be in [0, 1].");
        if (!Enum.IsDefined(annealStrategy)) throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "Unknown anneal strategy.");
        return WithStepSchedule((o, total) => new OneCycleLR(o, maxLearningRate, total, warmupFraction, annealStrategy, cycleMomentum));
    }

    /// <summary>Number of epochs (at least 1).</summary>
    public TrainerBuilder ForEpochs(int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        return Set(() => _epochs = epochs);
    }

    /// <summary>The device the model is moved to (batches must be created there too: set the loaders' device).</summary>
    public TrainerBuilder OnDevice(Device device)
    {
        if (device.IsCuda && !Tensors.Cuda.IsAvailable) throw new ArgumentException($"{device} was requested but CUDA is not available: {Tensors.Cuda.UnavailableReason}", nameof(device));
        if (device.IsCuda && device.Index >= Tensors.Cuda.DeviceCount)
            throw new ArgumentException($"{device} was requested but this machine has {Tensors.Cuda.DeviceCount} CUDA device(s).", nameof(device));
        return Set(() => _device = device);
    }

    /// <summary>Seeds libtorch's generator at the start of a fresh run (weights were already initialised by the caller).</summary>
    public TrainerBuilder WithSeed(int seed) => Set(() => _seed = seed);

    /// <summary>Stops when validation AUC has not improved for <paramref name="patience"/> epochs.</summary>
    public TrainerBuilder StopEarlyAfter(int patience)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        return Set(() => _patience = patience);
    }

    /// <summary>Clips the global gradient norm before each step.</summary>
    public TrainerBuilder ClipGradientsTo(double maxNorm)
    {
        // !(> 0) refuses every NaN (ThrowIfNegativeOrZero lets a NaN with a clear sign bit through).
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The largest gradient norm must be positive (∞ turns clipping off).");
        return Set(() => _clip = maxNorm);
    }

    /// <summary>
    /// Accumulates the gradients of <paramref name="steps"/> consecutive batches before each optimizer step, each batch's
    /// loss divided by the number of batches in its group: the update of a batch <paramref name="steps"/> times larger
    /// (exactly, for models without batch normalisation and equal batch sizes) in the memory of one batch. A group is
    /// never carried across epochs (the last one of an epoch may be shorter). Not with <see cref="DistributeOver"/>.
    /// </summary>
    public TrainerBuilder AccumulateGradients(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return Set(() => _accumulation = steps);
    }

    /// <summary>
    /// Keeps an exponential moving average of the weights (<see cref="ExponentialMovingAverage"/>, updated after every
    /// optimizer step) and evaluates, selects and returns the averaged weights instead of the last step's. The average is
    /// checkpointed with the run (<c>last.average.safetensors</c>), so resuming stays exact.
    /// </summary>
    /// <param name="decay">The weight of the old average per step, in [0, 1) (0.999 is common; smaller for short runs, or use <paramref name="warmup"/>).</param>
    /// <param name="warmup">Lower the decay of the first steps to (1 + n) / (10 + n) (<see cref="ExponentialMovingAverage.Warmup"/>), so that the untrained start is forgotten whatever the decay.</param>
    public TrainerBuilder AverageWeights(double decay = 0.999, bool warmup = false)
    {
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must lie in [0, 1).");
        return Set(() => (_averagingDecay, _averagingWarmup) = (decay, warmup));
    }

    /// <summary>
    /// Stochastic weight averaging (Izmailov et al., 2018; the recipe of torch.optim.swa_utils and of PyTorch Lightning's
    /// StochasticWeightAveraging callback). From epoch ⌊<paramref name="startFraction"/> · epochs⌋ (0-based) on, the
    /// schedule gives way to <see cref="SwaLR"/>, which anneals the learning rate to <paramref name="swaLearningRate"/>
    /// over <paramref name="annealEpochs"/> epochs and holds it; the weights at the end of each of those epochs are
    /// averaged with equal weight (<see cref="StochasticWeightAverage"/>). After each of them the averaged model — its
    /// batch-norm statistics recomputed with one forward pass over that epoch's training batches
    /// (<see cref="StochasticWeightAverage.UpdateBatchNorm(Torch.Nn.Module{Tensor, Tensor}, IEnumerable{Tensor})"/>, about a third of
    /// an epoch's time) — is the one evaluated and selected, as any epoch's model is. The average and the SWA schedule
    /// are checkpointed, so resuming stays exact. Not with <see cref="AverageWeights"/>.
    /// </summary>
    /// <param name="swaLearningRate">The learning rate the SWA epochs run at (PyTorch's swa_lr), positive and finite.</param>
    /// <param name="startFraction">The fraction of the epochs before averaging starts, in [0, 1) (Lightning's default 0.8).</param>
    /// <param name="annealEpochs">Epochs over which the learning rate moves to <paramref name="swaLearningRate"/>, ≥ 0.</param>
    /// <param name="annealStrategy">Cosine (the default) or linear movement.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public TrainerBuilder WithStochasticWeightAveraging(double swaLearningRate, double startFraction = 0.8, int annealEpochs = 10, AnnealStrategy annealStrategy = AnnealStrategy.Cosine)
    {
        RequireFinite(swaLearningRate, nameof(swaLearningRate), positive: true);
        if (!(startFraction >= 0 && startFraction < 1)) throw new ArgumentOutOfRangeException(nameof(startFraction), startFraction, "startFraction must be in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(annealEpochs);
        if (!Enum.IsDefined(annealStrategy)) throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "Unknown anneal strategy.");
        return Set(() => _swa = (startFraction, swaLearningRate, annealEpochs, annealStrategy));
    }

    /// <summary>
    /// Runs forward passes and losses (training and evaluation) under bfloat16 autocast (<see cref="Tensors.Autocast"/>)
    /// on the trainer's device: convolutions and matrix products compute in bfloat16, everything else in float32, and
    /// the weights, gradients, optimizer state and checkpoints stay float32. On processors with bfloat16 instructions
    /// (AVX-512 BF16, AMX) a CPU training step takes well under half the time (docs/benchmarks.md); on CUDA it needs a
    /// GPU with bfloat16 support (compute capability 8.0 or newer). Results differ from float32 training by bfloat16's
    /// rounding (about 3 significant digits in each product), which training usually absorbs; compare on your task.
    /// </summary>
    public TrainerBuilder UseMixedPrecision() => Set(() => _mixedPrecision = true);

    /// <summary>Writes checkpoints (last and best), history (CSV and JSON) and the result to <paramref name="directory"/>.</summary>
    public TrainerBuilder SaveTo(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (string.IsNullOrWhiteSpace(directory)) throw new ArgumentException("Give an output directory.", nameof(directory));
        return Set(() => _output = Path.GetFullPath(directory));
    }

    /// <summary>Logs one line per epoch.</summary>
    public TrainerBuilder LogTo(ILogger logger) => Set(() => _logger = logger ?? throw new ArgumentNullException(nameof(logger)));

    /// <summary>Reports progress after every step and epoch.</summary>
    public TrainerBuilder ReportProgressTo(IProgress<TrainingProgress> progress) => Set(() => _progress = progress ?? throw new ArgumentNullException(nameof(progress)));

    /// <summary>
    /// Writes TensorBoard summaries into <paramref name="logDirectory"/> (<c>tensorboard --logdir</c> shows them while
    /// the run goes): each step's loss (<c>train/batch_loss</c>), each epoch's loss and loss terms, learning rate,
    /// validation AUC, ACC and loss and duration, the selected model's measures at the end, and with
    /// <paramref name="parameterHistograms"/> a histogram of every parameter after each epoch. Only rank 0 writes in
    /// data-parallel training. A resumed run adds a new event file to the folder.
    /// </summary>
    public TrainerBuilder WriteTensorBoardTo(string logDirectory, bool parameterHistograms = false)
        => Set(() => _tensorBoard = TensorBoardTarget.ToDirectory(logDirectory, parameterHistograms));

    /// <summary>
    /// Writes the summaries of <see cref="WriteTensorBoardTo(string, bool)"/> to <paramref name="writer"/>, beside
    /// whatever else the caller writes there; the trainer flushes it after every epoch and leaves it open.
    /// </summary>
    public TrainerBuilder WriteTensorBoardTo(SummaryWriter writer, bool parameterHistograms = false)
        => Set(() => _tensorBoard = TensorBoardTarget.ToWriter(writer, parameterHistograms));

    /// <summary>
    /// Trains data-parallel over <paramref name="group"/> (every rank runs the same program): rank 0's weights are
    /// copied to all ranks, the training loader is given a <see cref="DistributedSampler"/> (each rank a disjoint shard
    /// of every epoch, so its batch size is per rank), gradients are averaged in buckets during backward, evaluation
    /// gathers the predictions of all ranks before computing metrics, and only rank 0 writes checkpoints, history and
    /// logs. Resuming needs the output folder visible to every rank.
    /// </summary>
    public TrainerBuilder DistributeOver(ProcessGroup group, DataParallelOptions? options = null)
        => Set(() => { _group = group ?? throw new ArgumentNullException(nameof(group)); _dataParallel = options; });

    /// <summary>Validates the configuration and creates the trainer.</summary>
    public Trainer Build()
    {
        ThrowIfBuilt();
        if (_train is null) throw new InvalidOperationException("Say what to train on: TrainOn(loader).");
        if (_optimizer is null) throw new InvalidOperationException("Choose an optimizer: UseAdam(), UseSgd() or UseOptimizer().");
        if (_patience is not null && _validation is null) throw new InvalidOperationException("Early stopping needs a validation set: ValidateOn(loader).");
        if (_schedule?.Plateau is not null && _validation is null) throw new InvalidOperationException("WithPlateauSchedule watches the validation AUC: ValidateOn(loader).");
        if (_accumulation > 1 && _group is { WorldSize: > 1 })
            throw new InvalidOperationException("Gradient accumulation is not supported with DistributeOver: every backward pass all-reduces the gradients. Use a larger per-rank batch or more ranks.");
        foreach (var (loader, name) in new[] { (_validation, "ValidateOn"), (_trainEvaluation, "EvaluateTrainingOn"), (_test, "TestOn") })
            if (loader?.Options.WeightedSampler is not null) throw new InvalidOperationException($"{name}: {Trainer.WeightedEvaluationLoader}");
        if (_group is { WorldSize: > 1 } g && _train.Options.Sampler is { } sampler && (sampler.Rank != g.Rank || sampler.WorldSize != g.WorldSize))
            throw new InvalidOperationException($"The training loader's {sampler} does not match the process group (rank {g.Rank} of {g.WorldSize}).");
        if (_schedule is { WarmupEpochs: > 0 } && _schedule.WarmupEpochs >= _epochs)
            throw new InvalidOperationException($"WithCosineSchedule: {_schedule.WarmupEpochs} warm-up epochs leave none of the {_epochs} epochs to anneal over.");
        if (_swa is not null && _averagingDecay is not null)
            throw new InvalidOperationException("Choose one kind of weight averaging: AverageWeights (an exponential moving average) or WithStochasticWeightAveraging.");
        _built = true;
        var swa = _swa is { } w ? new StochasticWeightAveragingSettings((int)Math.Floor(w.StartFraction * _epochs), w.LearningRate, w.AnnealEpochs, w.Strategy) : null;
        Func<Optimizer, int, LearningRateScheduler>? scheduler = null;
        if (_schedule?.Scheduler is { } create)
        {
            int epochs = _epochs;
            scheduler = (o, stepsPerEpoch) => create(epochs, stepsPerEpoch, o);
        }
        return new Trainer(new TrainerSettings(_task, _train, _validation, _trainEvaluation, _test, _optimizer, scheduler, _schedule?.PerStep ?? false, _schedule?.Plateau, _epochs, _device, _seed, _patience, _clip, _output, _logger, _progress, _group, _dataParallel, _accumulation, _averagingDecay, _mixedPrecision, swa, _averagingWarmup, _tensorBoard));
    }

    private TrainerBuilder Set(Action set)
    {
        ThrowIfBuilt();
        set();
        return this;
    }

    private void ThrowIfBuilt()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its trainer; start again with Trainer.Create(task).");
    }

    /// <summary>
    /// The chosen learning-rate schedule (each With…Schedule replaces the previous one whole): a scheduler created from
    /// the epochs, the optimizer steps per epoch and the optimizer, stepped after every optimizer step or every epoch;
    /// or a plateau schedule stepped with the validation AUC. WarmupEpochs is what Build checks against the epochs.
    /// </summary>
    private sealed record Schedule(
        Func<int, int, Optimizer, LearningRateScheduler>? Scheduler,
        bool PerStep = false,
        int WarmupEpochs = 0,
        Func<Optimizer, ReduceLROnPlateau>? Plateau = null);
}
