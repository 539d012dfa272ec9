using System.Diagnostics;
using System.Globalization;
using System.Text;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;
using MedVision.Torch.TensorBoard;

namespace MedVision.Nets.Training;

/// <summary>One epoch of a segmentation run.</summary>
/// <param name="Epoch">The epoch (0-based).</param>
/// <param name="TrainLoss">The mean training loss.</param>
/// <param name="ValidationDice">The validation split's mean Dice over classes (NaN without validation).</param>
/// <param name="LearningRate">The learning rate of the epoch.</param>
/// <param name="Seconds">The epoch's wall-clock time.</param>
public sealed record SegmentationEpoch(int Epoch, double TrainLoss, double ValidationDice, double LearningRate, double Seconds);

/// <summary>What a segmentation run gives: every epoch, the selected epoch, and the selected model's validation measures.</summary>
public sealed class SegmentationTrainingResult
{
    internal SegmentationTrainingResult(IReadOnlyList<SegmentationEpoch> epochs, int bestEpoch, SegmentationSummary? validation, bool stoppedEarly)
    {
        Epochs = epochs;
        BestEpoch = bestEpoch;
        Validation = validation;
        StoppedEarly = stoppedEarly;
    }

    /// <summary>Every epoch run.</summary>
    public IReadOnlyList<SegmentationEpoch> Epochs { get; }

    /// <summary>The epoch whose weights the model holds at the end (best validation Dice; the last without validation).</summary>
    public int BestEpoch { get; }

    /// <summary>The selected model's measures on the validation split (null without validation).</summary>
    public SegmentationSummary? Validation { get; }

    /// <summary>Whether the run stopped early for lack of improvement.</summary>
    public bool StoppedEarly { get; }
}

/// <summary>
/// Trains a segmentation network (e.g. <see cref="Models.UNet"/>) on a <see cref="SegmentationLoader"/>: a loss of the
/// logits (N, C, spatial…) and the label maps (default Dice + cross-entropy; a network with one output channel is a
/// sigmoid network, validated as foreground where its logit is positive), an optimizer and an optional per-epoch
/// schedule; after each epoch the validation split's mean Dice (on whole scans through a
/// <see cref="SlidingWindowInferer"/> when one is given) selects the best weights, which the model holds at the end
/// and which are written to <c>best.safetensors</c> with the epoch history (<c>history.csv</c>) when a folder is
/// given. A <see cref="UNet"/> with deep supervision heads (<see cref="UNetBuilder.WithDeepSupervision"/>) is trained on
/// all its outputs: the loss is applied to each against labels downsampled to its size and summed with nnU-Net's
/// weights (<see cref="DeepSupervisionLoss"/>), and that sum is the reported training loss; validation uses the
/// full-resolution output only. Seeded: the same seed gives the same run. Build one with <see cref="Create"/>.
/// </summary>
public sealed class SegmentationTrainer
{
    /// <summary>The best weights' file name in the output folder.</summary>
    public const string BestModelFile = "best.safetensors";

    /// <summary>The history's file name in the output folder.</summary>
    public const string HistoryFile = "history.csv";

    /// <summary>The last epoch's weights, for resuming (with <see cref="LastOptimizerFile"/> and <see cref="LastStateFile"/>).</summary>
    public const string LastModelFile = "last.safetensors";

    /// <summary>The last epoch's optimizer state.</summary>
    public const string LastOptimizerFile = "last-optimizer.safetensors";

    /// <summary>The last epoch's run state (epoch, selection, schedule, random generator, history), written last.</summary>
    public const string LastStateFile = "last-state.json";

    /// <summary>The last epoch's weight average (with <see cref="SegmentationTrainerBuilder.AverageWeights"/>).</summary>
    public const string LastAverageFile = "last-average.safetensors";

    private readonly Module<Tensor, Tensor> _model;
    private readonly SegmentationTrainerBuilder.Settings _s;
    // The run's TensorBoard summaries, or null.
    private TensorBoardLog? _board;

    internal SegmentationTrainer(Module<Tensor, Tensor> model, SegmentationTrainerBuilder.Settings settings)
    {
        _model = model;
        _s = settings;
    }

    /// <summary>Starts a trainer of <paramref name="model"/>.</summary>
    public static SegmentationTrainerBuilder Create(Module<Tensor, Tensor> model) => new(model ?? throw new ArgumentNullException(nameof(model)));

    /// <summary>
    /// Runs the epochs; the model ends with the selected weights. With <paramref name="resume"/> and a folder
    /// (<see cref="SegmentationTrainerBuilder.SaveTo"/>) that holds a checkpoint, the run continues after the checkpoint's
    /// epoch with its weights, optimizer and schedule state, random generator, selection and history, and gives the
    /// same result as a run that was never interrupted.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is damaged or belongs to another run (another seed, network, optimizer or schedule).</exception>
    public SegmentationTrainingResult Run(bool resume = false, CancellationToken cancellationToken = default)
    {
        _model.To(_s.Device);
        using var optimizer = _s.Optimizer(_model.Parameters().ToList());
        // With weight averaging the averaged weights are validated, selected and kept; the optimizer steps the model's own.
        using var average = _s.AveragingDecay is double decay ? new ExponentialMovingAverage(_model, decay, _s.AveragingWarmup) : null;
        var scheduler = _s.Schedule?.Invoke(optimizer, _s.Epochs);
        if (_s.OutputDirectory is not null) Directory.CreateDirectory(_s.OutputDirectory);
        var history = new List<SegmentationEpoch>();
        Dictionary<string, Tensor>? best = null;
        int bestEpoch = -1, sinceBest = 0, start = 0;
        double bestDice = double.NegativeInfinity;
        SegmentationSummary? bestValidation = null; // the selected epoch's validation, measured when it was selected
        bool stoppedEarly = false;
        using var board = _s.TensorBoard?.Open();
        _board = board;
        if (resume && _s.OutputDirectory is { } folder && File.Exists(Path.Combine(folder, LastStateFile)))
        {
            (start, bestEpoch, bestDice, sinceBest) = Restore(folder, optimizer, scheduler, average, history);
            using var saved = SafeTensors.Load(Path.Combine(folder, BestModelFile));
            best = saved.ToDictionary(kv => kv.Key, kv => DisposeScope.Detach(kv.Value.Clone()));
        }
        else Tensors.ManualSeed((ulong)_s.Seed);
        try
        {
            for (int epoch = start; epoch < _s.Epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var watch = Stopwatch.StartNew();
                double lr = optimizer.ParameterGroups[0].LearningRate;
                double loss = TrainEpoch(optimizer, average, epoch, cancellationToken);
                double dice;
                // With weight averaging the average is validated and kept; the model's own weights come back after.
                using (average?.ApplyTo(_model))
                {
                    var summary = _s.Validation is null ? null : SegmentationSummary.Of(Evaluate(_s.Validation, cancellationToken));
                    dice = summary?.MeanDice ?? double.NaN;
                    if (summary is not null) _board?.Scalars(epoch, summary.Classes.Select(c => ($"validation/dice/class_{c.Class}", c.Dice)));
                    double score = double.IsNaN(dice) ? double.NegativeInfinity : dice;
                    if (bestEpoch < 0 || score > bestDice || _s.Validation is null)
                    {
                        (bestDice, bestEpoch, sinceBest, bestValidation) = (score, epoch, 0, summary);
                        DisposeAll(best);
                        best = _model.CloneStateDict();
                        if (_s.OutputDirectory is not null)
                            SafeTensors.Save(Path.Combine(_s.OutputDirectory, BestModelFile), best, new Dictionary<string, string>
                            {
                                ["epoch"] = (epoch + 1).ToString(CultureInfo.InvariantCulture),
                                ["validation_dice"] = dice.ToString("R", CultureInfo.InvariantCulture),
                            });
                    }
                    else sinceBest++;
                }
                scheduler?.Step();
                history.Add(new SegmentationEpoch(epoch, loss, dice, lr, watch.Elapsed.TotalSeconds));
                if (_board is not null)
                {
                    _board.Scalars(epoch, [("train/loss", loss), ("train/learning_rate", lr), ("validation/dice", dice), ("time/epoch_seconds", history[^1].Seconds)]);
                    _board.Parameters(_model, epoch);
                    _board.Flush();
                }
                _s.Progress?.Report(history[^1]);
                if (_s.OutputDirectory is not null)
                {
                    WriteHistory(history);
                    SaveCheckpoint(optimizer, scheduler, average, history, bestEpoch, bestDice, sinceBest);
                }
                if (_s.Patience is int patience && sinceBest >= patience && epoch + 1 < _s.Epochs)
                {
                    stoppedEarly = true;
                    break;
                }
            }
            _model.LoadStateDict(best!, strict: true);
        }
        finally
        {
            DisposeAll(best);
            _board = null;
        }
        // Measured again only when the selected epoch came before a resumption (its measures are not in the checkpoint).
        var validation = _s.Validation is null ? null : bestValidation ?? SegmentationSummary.Of(Evaluate(_s.Validation, cancellationToken));
        if (board is not null)
        {
            var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"Selected epoch {bestEpoch + 1} of {history.Count}{(stoppedEarly ? " (stopped early)" : "")}.\n");
            if (validation is not null)
            {
                board.Scalars(bestEpoch, [("selected/validation/dice", validation.MeanDice)]);
                text.Append("\n| class | cases | Dice | IoU |\n|---|---|---|---|\n");
                foreach (var c in validation.Classes) text.Append(CultureInfo.InvariantCulture, $"| {c.Class} | {c.Cases} | {c.Dice:F4} | {c.Iou:F4} |\n");
            }
            board.Text("result", text.ToString(), bestEpoch);
        }
        return new SegmentationTrainingResult(history, bestEpoch, validation, stoppedEarly);
    }

    /// <summary>Evaluates the model on a loader (evaluation mode, no gradients; whole scans through the sliding window when one is set).</summary>
    public IReadOnlyList<SegmentationCase> Evaluate(SegmentationLoader loader, CancellationToken cancellationToken = default) => Evaluate(loader, postprocessing: null, cancellationToken);

    /// <summary>
    /// Evaluates the model on a loader (as <see cref="Evaluate(SegmentationLoader, CancellationToken)"/>) and adds each
    /// case's predicted and true maps to <paramref name="postprocessing"/>, which then chooses the post-processing on
    /// them — for a cross-validation, one comparison fed every fold's validation cases chooses the post-processing of
    /// the folds' ensemble, as nnU-Net chooses it on the out-of-fold predictions. The maps are on the loader's grid (the
    /// prepared samples').
    /// </summary>
    public IReadOnlyList<SegmentationCase> Evaluate(SegmentationLoader loader, SegmentationPostprocessingComparison? postprocessing, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loader);
        bool training = _model.Training;
        _model.Eval();
        var cases = new List<SegmentationCase>();
        try
        {
            using var noGrad = Tensors.NoGrad();
            foreach (var batch in loader.Epoch(0, cancellationToken))
            {
                using (batch)
                using (var scope = Tensors.NewDisposeScope())
                {
                    var images = batch.Images.To(_s.Device);
                    Tensor logits;
                    using (MixedPrecisionRegion()) logits = _s.Inferer is { } inferer ? inferer.Infer(images, _model) : _model.Call(images);
                    logits = logits.To(ScalarType.Float32);
                    // One output channel is a sigmoid network: foreground where its logit is positive (classes 0 and 1).
                    long channels = logits.Size(1);
                    var predicted = channels == 1 ? logits.Squeeze(1).Gt(0).To(ScalarType.Int64) : logits;
                    var evaluator = _s.Evaluator ?? SegmentationEvaluator.ForClasses(checked((int)Math.Max(2, channels))).WithoutSurfaceDistances();
                    cases.AddRange(evaluator.Evaluate(predicted, batch.Labels));
                    postprocessing?.Add(predicted, batch.Labels);
                }
            }
        }
        finally
        {
            _model.Train(training);
        }
        return cases;
    }

    private double TrainEpoch(Optimizer optimizer, ExponentialMovingAverage? average, int epoch, CancellationToken cancellationToken)
    {
        _model.Train();
        double sum = 0;
        int step = 0, batches = _s.Train.BatchesPerEpoch, k = _s.AccumulationSteps;
        foreach (var batch in _s.Train.Epoch(epoch, cancellationToken))
        {
            using (batch)
            using (var scope = Tensors.NewDisposeScope())
            {
                // Gradient accumulation: one step per group of batches, each loss divided by the group's size so that
                // a step sees the group's mean gradient.
                var accumulation = AccumulationGroup.Of(step, batches, k);
                if (accumulation.IsFirst) optimizer.ZeroGrad();
                var loss = Loss(batch.Images.To(_s.Device), batch.Labels.To(_s.Device));
                double value = loss.Item();
                if (double.IsNaN(value) || double.IsInfinity(value))
                    throw new TrainingDivergedException(epoch, step, value, new Dictionary<string, double> { ["segmentation"] = value });
                (accumulation.Size == 1 ? loss : loss / accumulation.Size).Backward();
                if (accumulation.IsLast)
                {
                    if (_s.ClipNorm is double clip) GradientClipping.ClipGradNorm(_model.Parameters(), clip);
                    optimizer.Step();
                    average?.Update(_model);
                }
                _board?.BatchLoss((long)epoch * batches + step, value);
                sum += value;
                step++;
            }
        }
        return step == 0 ? double.NaN : sum / step;
    }

    // The training loss of a batch: of the logits, or for a U-Net with deep supervision heads the weighted sum over its
    // outputs against downsampled labels (nnU-Net's weights); the loss always of float32 logits.
    private Tensor Loss(Tensor images, Tensor labels)
    {
        if (_model is UNet { DeepSupervisionHeads: > 0 } unet)
        {
            IReadOnlyList<Tensor> outputs;
            using (MixedPrecisionRegion()) outputs = unet.ForwardWithDeepSupervision(images);
            return DeepSupervisionLoss.Compute(outputs.Select(o => o.To(ScalarType.Float32)).ToArray(), labels, _s.Loss);
        }
        Tensor logits;
        using (MixedPrecisionRegion()) logits = _model.Call(images);
        return _s.Loss(logits.To(ScalarType.Float32), labels);
    }

    private AutocastScope? MixedPrecisionRegion() => _s.MixedPrecision ? Tensors.Autocast(_s.Device.Type, ScalarType.BFloat16) : null;

    private void SaveCheckpoint(Optimizer optimizer, LearningRateScheduler? scheduler, ExponentialMovingAverage? average, List<SegmentationEpoch> history, int bestEpoch, double bestDice, int sinceBest)
    {
        var folder = _s.OutputDirectory!;
        SafeTensors.Save(Path.Combine(folder, LastModelFile), _model.StateDict());
        if (average is not null) SafeTensors.Save(Path.Combine(folder, LastAverageFile), average.StateDict);
        using (var state = optimizer.GetState()) state.Save(Path.Combine(folder, LastOptimizerFile));
        var schedule = scheduler?.GetState();
        var checkpoint = new Checkpoint
        {
            Epoch = history.Count - 1,
            BestEpoch = bestEpoch,
            BestDice = bestDice,
            EpochsSinceBest = sinceBest,
            Seed = _s.Seed,
            Epochs = _s.Epochs,
            RngState = Convert.ToBase64String(Tensors.GetRngState()),
            SchedulerType = schedule?.SchedulerType,
            Scheduler = schedule?.Values.ToDictionary(kv => kv.Key, kv => kv.Value),
            History = history.ToList(),
            AverageUpdates = average?.Updates,
            AverageWarmup = average?.Warmup,
        };
        // Written last: it names the epoch the weights and the optimizer state belong to.
        AtomicFile.WriteAllText(Path.Combine(folder, LastStateFile), System.Text.Json.JsonSerializer.Serialize(checkpoint, CheckpointJson));
    }

    private (int Start, int BestEpoch, double BestDice, int SinceBest) Restore(string folder, Optimizer optimizer, LearningRateScheduler? scheduler, ExponentialMovingAverage? average, List<SegmentationEpoch> history)
    {
        var path = Path.Combine(folder, LastStateFile);
        Checkpoint checkpoint;
        byte[] rng;
        try
        {
            checkpoint = System.Text.Json.JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(path), CheckpointJson) ?? throw new InvalidDataException($"{path} holds no checkpoint.");
            rng = Convert.FromBase64String(checkpoint.RngState ?? throw new InvalidDataException($"{path} has no random generator state."));
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            throw new InvalidDataException($"{path} is not a valid checkpoint: {e.Message}", e);
        }
        if (checkpoint.History is null || checkpoint.History.Any(h => h is null) || checkpoint.Epoch < 0 || checkpoint.Epoch != checkpoint.History.Count - 1
            || checkpoint.BestEpoch < 0 || checkpoint.BestEpoch > checkpoint.Epoch || checkpoint.EpochsSinceBest < 0)
            throw new InvalidDataException($"{path}: epoch {checkpoint.Epoch}, best epoch {checkpoint.BestEpoch} and a history of {checkpoint.History?.Count ?? 0} epoch(s) do not agree.");
        if (checkpoint.Seed != _s.Seed)
            throw new InvalidDataException($"The checkpoint in {folder} was made with seed {checkpoint.Seed}, not {_s.Seed}; resuming would not continue the same run.");
        if (scheduler is not null && checkpoint.Epochs != _s.Epochs)
            throw new InvalidDataException($"The checkpoint in {folder} belongs to a run of {checkpoint.Epochs} epochs, and its learning-rate schedule depends on that number; resume it with ForEpochs({checkpoint.Epochs}) (without a schedule a run may be extended).");
        if ((checkpoint.SchedulerType is null) != (scheduler is null))
            throw new InvalidDataException($"The checkpoint in {folder} was made {(scheduler is null ? "with" : "without")} a learning-rate schedule; resume it with the settings it was started with.");
        if ((checkpoint.AverageUpdates is null) != (average is null) || checkpoint.AverageUpdates < 0)
            throw new InvalidDataException($"The checkpoint in {folder} was made {(average is null ? "with" : "without")} a weight average (AverageWeights); resume it with the settings it was started with.");
        if (average is not null && (checkpoint.AverageWarmup ?? false) != average.Warmup)
            throw new InvalidDataException($"The checkpoint in {folder} was made {(average.Warmup ? "without" : "with")} the weight average's warm-up; resume it with the settings it was started with.");
        try
        {
            using (var weights = SafeTensors.Load(Path.Combine(folder, LastModelFile))) _model.LoadStateDict(weights, strict: true);
            using (var state = OptimizerState.Load(Path.Combine(folder, LastOptimizerFile))) optimizer.LoadState(state);
            if (scheduler is not null) scheduler.LoadState(new SchedulerState(checkpoint.SchedulerType!, checkpoint.Scheduler ?? new Dictionary<string, double>()));
            if (average is not null)
                using (var averaged = SafeTensors.Load(Path.Combine(folder, LastAverageFile))) average.LoadState(averaged, checkpoint.AverageUpdates!.Value);
            Tensors.SetRngState(rng);
        }
        catch (Exception e) when (e is ArgumentException or StateDictMismatchException)
        {
            throw new InvalidDataException($"The checkpoint in {folder} does not fit this run (network, optimizer or schedule): {e.Message}", e);
        }
        history.AddRange(checkpoint.History);
        return (checkpoint.Epoch + 1, checkpoint.BestEpoch, checkpoint.BestDice, checkpoint.EpochsSinceBest);
    }

    private static readonly System.Text.Json.JsonSerializerOptions CheckpointJson = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed class Checkpoint
    {
        public int Epoch { get; set; }
        public int BestEpoch { get; set; }
        public double BestDice { get; set; }
        public int EpochsSinceBest { get; set; }
        public int Seed { get; set; }
        public int Epochs { get; set; }
        public string? RngState { get; set; }
        public string? SchedulerType { get; set; }
        public Dictionary<string, double>? Scheduler { get; set; }
        public List<SegmentationEpoch>? History { get; set; }
        public long? AverageUpdates { get; set; }
        public bool? AverageWarmup { get; set; }
    }

    private void WriteHistory(List<SegmentationEpoch> history)
    {
        var text = new StringBuilder("epoch,train_loss,val_dice,lr,seconds\n");
        foreach (var e in history)
            text.Append(CultureInfo.InvariantCulture, $"{e.Epoch + 1},{e.TrainLoss:R},{e.ValidationDice:R},{e.LearningRate:R},{e.Seconds:F3}\n");
        var path = Path.Combine(_s.OutputDirectory!, HistoryFile);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text.ToString());
        File.Move(temporary, path, overwrite: true);
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
    }
}

/// <summary>
/// Configures a <see cref="SegmentationTrainer"/>:
/// <code>SegmentationTrainer.Create(unet).TrainOn(train).ValidateOn(validation).UseAdam(1e-3).WithCosineSchedule().ForEpochs(50).SaveTo("runs/unet").Build()</code>.
/// Options are checked when set and again in <see cref="Build"/>.
/// </summary>
public sealed class SegmentationTrainerBuilder
{
    private readonly Module<Tensor, Tensor> _model;
    private SegmentationLoader? _train, _validation;
    private Func<IReadOnlyList<Tensor>, Optimizer> _optimizer = p => new Adam(p, 1e-3);
    private Func<Optimizer, int, LearningRateScheduler>? _schedule;
    private Func<Tensor, Tensor, Tensor> _loss = (logits, labels) => DiceLoss.WithCrossEntropy(logits, labels);
    private SegmentationEvaluator? _evaluator;
    private SlidingWindowInferer? _inferer;
    private int _epochs = 1, _seed;
    private int? _patience;
    private double? _clip;
    private Device _device = Device.Cpu;
    private string? _output;
    private IProgress<SegmentationEpoch>? _progress;
    private bool _built;
    private bool _mixedPrecision;
    private int _accumulation = 1;
    private double? _averagingDecay;
    private bool _averagingWarmup;
    private TensorBoardTarget? _tensorBoard;

    internal SegmentationTrainerBuilder(Module<Tensor, Tensor> model) => _model = model;

    internal sealed record Settings(SegmentationLoader Train, SegmentationLoader? Validation, Func<IReadOnlyList<Tensor>, Optimizer> Optimizer,
        Func<Optimizer, int, LearningRateScheduler>? Schedule, Func<Tensor, Tensor, Tensor> Loss, SegmentationEvaluator? Evaluator, SlidingWindowInferer? Inferer,
        int Epochs, int Seed, int? Patience, double? ClipNorm, Device Device, string? OutputDirectory, IProgress<SegmentationEpoch>? Progress, bool MixedPrecision,
        int AccumulationSteps, double? AveragingDecay, bool AveragingWarmup, TensorBoardTarget? TensorBoard = null);

    /// <summary>The training batches.</summary>
    public SegmentationTrainerBuilder TrainOn(SegmentationLoader loader) => Set(() => _train = loader ?? throw new ArgumentNullException(nameof(loader)));

    /// <summary>The validation batches, whose mean Dice selects the best epoch.</summary>
    public SegmentationTrainerBuilder ValidateOn(SegmentationLoader loader) => Set(() => _validation = loader ?? throw new ArgumentNullException(nameof(loader)));

    /// <summary>The loss of the logits (N, C, spatial…) and the int64 label maps (N, spatial…). Default <see cref="DiceLoss.WithCrossEntropy"/>.</summary>
    public SegmentationTrainerBuilder WithLoss(Func<Tensor, Tensor, Tensor> loss) => Set(() => _loss = loss ?? throw new ArgumentNullException(nameof(loss)));

    /// <summary>The evaluator of the validation split (spacing, background, surface distances). Default: every foreground class, Dice and IoU only.</summary>
    public SegmentationTrainerBuilder EvaluateWith(SegmentationEvaluator evaluator) => Set(() => _evaluator = evaluator ?? throw new ArgumentNullException(nameof(evaluator)));

    /// <summary>Validates on whole scans through a sliding window (the training crops are smaller than the scans).</summary>
    public SegmentationTrainerBuilder ValidateWithSlidingWindow(SlidingWindowInferer inferer) => Set(() => _inferer = inferer ?? throw new ArgumentNullException(nameof(inferer)));

    /// <summary>Adam (the default, at 1e-3).</summary>
    public SegmentationTrainerBuilder UseAdam(double learningRate = 1e-3, double weightDecay = 0)
    {
        RequirePositive(learningRate, nameof(learningRate));
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay must be a finite number ≥ 0.");
        return Set(() => _optimizer = p => new Adam(p, learningRate, weightDecay: weightDecay));
    }

    /// <summary>
    /// SGD with Nesterov momentum, nnU-Net's optimizer (Isensee et al., 2021: learning rate 0.01, momentum 0.99,
    /// weight decay 3e-5, with <see cref="WithPolySchedule"/>); the arguments have torch.optim.SGD's meaning.
    /// </summary>
    public SegmentationTrainerBuilder UseSgd(double learningRate = 0.01, double momentum = 0.99, bool nesterov = true, double weightDecay = 3e-5)
    {
        RequirePositive(learningRate, nameof(learningRate));
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The momentum must lie in [0, 1).");
        if (nesterov && momentum == 0) throw new ArgumentException("Nesterov momentum needs a momentum above 0.", nameof(nesterov));
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay must be a finite number ≥ 0.");
        return Set(() => _optimizer = p => new Sgd(p, learningRate, momentum, weightDecay: weightDecay, nesterov: nesterov));
    }

    /// <summary>Any optimizer, made from the model's parameters.</summary>
    public SegmentationTrainerBuilder UseOptimizer(Func<IReadOnlyList<Tensor>, Optimizer> factory) => Set(() => _optimizer = factory ?? throw new ArgumentNullException(nameof(factory)));

    /// <summary>Cosine annealing of the learning rate over the epochs, to <paramref name="minLearningRate"/>, stepped after each epoch.</summary>
    public SegmentationTrainerBuilder WithCosineSchedule(double minLearningRate = 0)
    {
        if (!(minLearningRate >= 0) || double.IsInfinity(minLearningRate)) throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "The minimum learning rate must be a finite number ≥ 0.");
        return Set(() => _schedule = (o, epochs) => new CosineAnnealingLR(o, epochs, minLearningRate));
    }

    /// <summary>
    /// The "poly" schedule of segmentation networks (nnU-Net, DeepLab): the learning rate falls as
    /// (1 − epoch / epochs)^<paramref name="power"/> to zero at the end of the run, stepped after each epoch
    /// (<see cref="PolynomialLR"/>).
    /// </summary>
    public SegmentationTrainerBuilder WithPolySchedule(double power = 0.9)
    {
        if (!(power >= 0) || double.IsInfinity(power)) throw new ArgumentOutOfRangeException(nameof(power), power, "The power must be a finite number ≥ 0.");
        return Set(() => _schedule = (o, epochs) => new PolynomialLR(o, epochs, power));
    }

    /// <summary>Any schedule, made from the optimizer and the number of epochs, stepped after each epoch.</summary>
    public SegmentationTrainerBuilder WithSchedule(Func<Optimizer, int, LearningRateScheduler> factory) => Set(() => _schedule = factory ?? throw new ArgumentNullException(nameof(factory)));

    /// <summary>The number of epochs (≥ 1).</summary>
    public SegmentationTrainerBuilder ForEpochs(int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        return Set(() => _epochs = epochs);
    }

    /// <summary>The seed of libtorch's generator at the start of the run (weights already built are not re-drawn).</summary>
    public SegmentationTrainerBuilder WithSeed(int seed) => Set(() => _seed = seed);

    /// <summary>Stops when the validation Dice has not improved for <paramref name="patience"/> epochs.</summary>
    public SegmentationTrainerBuilder StopEarlyAfter(int patience)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patience);
        return Set(() => _patience = patience);
    }

    /// <summary>Clips the gradients' global norm to <paramref name="maxNorm"/> before each step.</summary>
    public SegmentationTrainerBuilder ClipGradientsTo(double maxNorm)
    {
        RequirePositive(maxNorm, nameof(maxNorm));
        return Set(() => _clip = maxNorm);
    }

    /// <summary>
    /// Sums the gradients of <paramref name="steps"/> batches (each loss divided by their number) before each optimizer
    /// step, as <see cref="TrainerBuilder.AccumulateGradients"/> does: the step of a batch <paramref name="steps"/> times
    /// larger, where memory holds only small batches (3-D crops). The last group of an epoch may be shorter.
    /// </summary>
    public SegmentationTrainerBuilder AccumulateGradients(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return Set(() => _accumulation = steps);
    }

    /// <summary>
    /// Keeps an exponential moving average of the weights (<see cref="ExponentialMovingAverage"/>, buffers included,
    /// updated after every optimizer step) and validates, selects and returns the averaged weights instead of the last
    /// step's. The average is checkpointed (<see cref="SegmentationTrainer.LastAverageFile"/>), so resuming stays exact.
    /// </summary>
    /// <param name="decay">
    /// The weight of the old average per step, in [0, 1). The average starts at the initial weights and keeps
    /// decay^steps of them, so choose it for the run's length: 0.999 for tens of thousands of steps, 0.9–0.99 for
    /// hundreds (on 270 steps 0.99 still kept 6.6% of the untrained weights and lost Dice, docs/results.md).
    /// </param>
    /// <param name="warmup">
    /// Lower the decay of the first steps to (1 + n) / (10 + n) (<see cref="ExponentialMovingAverage.Warmup"/>), so that
    /// the untrained start is forgotten whatever the decay: on a run of 270 steps it brought decay 0.99 from a lesion Dice
    /// of 0.836 ± 0.194 back to 0.983 ± 0.004, against 0.987 ± 0.003 without an average (docs/results.md).
    /// </param>
    public SegmentationTrainerBuilder AverageWeights(double decay = 0.999, bool warmup = false)
    {
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must lie in [0, 1).");
        return Set(() => (_averagingDecay, _averagingWarmup) = (decay, warmup));
    }

    /// <summary>
    /// Runs the network's forward passes (training and validation) under bfloat16 autocast on the trainer's device, as
    /// <see cref="TrainerBuilder.UseMixedPrecision"/> does; the loss is computed from float32 logits, and weights,
    /// gradients and optimizer state stay float32.
    /// </summary>
    public SegmentationTrainerBuilder UseMixedPrecision() => Set(() => _mixedPrecision = true);

    /// <summary>The device of the model and the batches.</summary>
    public SegmentationTrainerBuilder OnDevice(Device device) => Set(() => _device = device);

    /// <summary>Writes <c>best.safetensors</c> and <c>history.csv</c> into <paramref name="directory"/>.</summary>
    public SegmentationTrainerBuilder SaveTo(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        return Set(() => _output = directory);
    }

    /// <summary>
    /// Writes TensorBoard summaries into <paramref name="logDirectory"/>: each step's loss (<c>train/batch_loss</c>),
    /// each epoch's loss, learning rate, validation Dice (mean and per class) and duration, the selected epoch's Dice at
    /// the end, and with <paramref name="parameterHistograms"/> a histogram of every parameter after each epoch.
    /// </summary>
    public SegmentationTrainerBuilder WriteTensorBoardTo(string logDirectory, bool parameterHistograms = false)
        => Set(() => _tensorBoard = TensorBoardTarget.ToDirectory(logDirectory, parameterHistograms));

    /// <summary>Writes those summaries to the caller's <paramref name="writer"/>, flushed after every epoch and left open.</summary>
    public SegmentationTrainerBuilder WriteTensorBoardTo(SummaryWriter writer, bool parameterHistograms = false)
        => Set(() => _tensorBoard = TensorBoardTarget.ToWriter(writer, parameterHistograms));

    /// <summary>Reports each finished epoch.</summary>
    public SegmentationTrainerBuilder ReportProgressTo(IProgress<SegmentationEpoch> progress) => Set(() => _progress = progress ?? throw new ArgumentNullException(nameof(progress)));

    /// <summary>Creates the trainer; the builder cannot be used afterwards.</summary>
    /// <exception cref="InvalidOperationException">No training loader was given.</exception>
    public SegmentationTrainer Build()
    {
        EnsureUsable();
        if (_train is null) throw new InvalidOperationException("Give the training batches with TrainOn before Build.");
        _built = true;
        return new SegmentationTrainer(_model, new Settings(_train, _validation, _optimizer, _schedule, _loss, _evaluator, _inferer, _epochs, _seed, _patience, _clip,
            _device, _output, _progress, _mixedPrecision, _accumulation, _averagingDecay, _averagingWarmup, _tensorBoard));
    }

    private SegmentationTrainerBuilder Set(Action set)
    {
        EnsureUsable();
        set();
        return this;
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its trainer; start a new one with SegmentationTrainer.Create.");
    }

    private static void RequirePositive(double value, string parameterName)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(parameterName, value, "The value must be a positive finite number.");
    }
}
