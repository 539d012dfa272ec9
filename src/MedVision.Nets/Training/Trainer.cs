using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MedVision.Nets.Training;

/// <summary>
/// Trains an <see cref="ITrainingTask"/>: epochs of optimizer steps, validation after every epoch with the MedMNIST
/// evaluator, model selection by the best validation AUC, early stopping, atomic checkpoints (model + optimizer +
/// scheduler + RNG state + history) and exact resume. Create one with <see cref="Create"/>.
/// </summary>
public sealed class Trainer
{
    private const string LastModelFile = "last.safetensors";
    private const string LastOptimizerFile = "last.optimizer.safetensors";
    private const string LastStateFile = "last.json";
    private const string LastAverageFile = "last.average.safetensors";
    private const string BestModelFile = "best.safetensors";
    private readonly TrainerSettings _s;
    private readonly ILogger _log;

    private readonly bool _master;
    private readonly IProgress<TrainingProgress>? _progress;
    private GradientSynchronizer? _sync;
    // The run's weight average (an ExponentialMovingAverage is also updated after every optimizer step), or null.
    private WeightAverage? _average;
    // The run's TensorBoard summaries (rank 0 only), or null.
    private TensorBoardLog? _board;

    internal Trainer(TrainerSettings settings)
    {
        _s = settings;
        _master = settings.Group?.IsMaster ?? true;
        // In data-parallel training only rank 0 logs, reports progress and writes files.
        _log = _master ? settings.Logger ?? NullLogger.Instance : NullLogger.Instance;
        _progress = _master ? settings.Progress : null;
    }

    private ProcessGroup? Group => _s.Group is { WorldSize: > 1 } g ? g : null;

    /// <summary>The output folder this process writes to: the configured one on rank 0, none on the other ranks.</summary>
    private string? WriteDirectory => _master ? _s.OutputDirectory : null;

    /// <summary>Starts configuring a trainer for a task.</summary>
    public static TrainerBuilder Create(ITrainingTask task) => new(task);

    /// <summary>The checkpoint and history folder, or null.</summary>
    public string? OutputDirectory => _s.OutputDirectory;

    /// <summary>Runs the configured epochs (continuing from the last checkpoint when <paramref name="resume"/> is true and one exists).</summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="InvalidDataException">The checkpoint is damaged, or belongs to another run (another seed, weight averaging or optimizer): resume with the settings the run was started with.</exception>
    public TrainingResult Run(bool resume = false, CancellationToken cancellationToken = default)
    {
        var model = _s.Task.Model;
        model.To(_s.Device);
        if (Group is { } group)
        {
            _s.Train.Options.Sampler ??= new DistributedSampler(group.Rank, group.WorldSize);
            _sync = new GradientSynchronizer(model, group, _s.DataParallel);
        }
        using var syncOwner = _sync;
        using var optimizer = _s.OptimizerFactory(model.Parameters().ToList());
        // Optimizer steps per epoch: one per group of AccumulationSteps batches (the last group of an epoch may be shorter).
        int stepsPerEpoch = (_s.Train.BatchesPerEpoch + _s.AccumulationSteps - 1) / _s.AccumulationSteps;
        var scheduler = _s.SchedulerFactory?.Invoke(optimizer, stepsPerEpoch);
        var stepScheduler = _s.SchedulePerStep ? scheduler : null;
        // On a validation-AUC plateau (WithPlateauSchedule), stepped with each epoch's validation AUC.
        var plateau = _s.PlateauFactory?.Invoke(optimizer);
        Func<SchedulerState>? mainSchedulerState = scheduler is not null ? scheduler.GetState : plateau is not null ? plateau.GetState : null;
        Action<SchedulerState>? loadMainScheduler = scheduler is not null ? scheduler.LoadState : plateau is not null ? plateau.LoadState : null;
        // Stochastic weight averaging: from its start epoch on, SwaLR replaces the schedule (and is what checkpoints hold).
        var swaSettings = _s.Swa;
        SwaLR? swaScheduler = null;
        SwaLR NewSwaScheduler() => new(optimizer, swaSettings!.LearningRate, swaSettings.AnnealEpochs, swaSettings.Strategy);
        SchedulerState? SchedulerStateNow() => swaScheduler is not null ? swaScheduler.GetState() : mainSchedulerState?.Invoke();
        void LoadScheduler(SchedulerState state)
        {
            if (swaSettings is not null && state.SchedulerType == nameof(SwaLR)) (swaScheduler = NewSwaScheduler()).LoadState(state);
            else loadMainScheduler?.Invoke(state);
        }
        var history = new List<EpochRecord>();
        int startEpoch = 0, bestEpoch = -1, sinceBest = 0;
        double bestAuc = double.NegativeInfinity;
        Dictionary<string, Tensor>? bestWeights = null;
        if (WriteDirectory is not null) Directory.CreateDirectory(WriteDirectory);
        using var ema = _s.WeightAveragingDecay is double decay ? new ExponentialMovingAverage(model, decay, _s.WeightAveragingWarmup) : null;
        using var swa = swaSettings is not null ? new StochasticWeightAverage(model) : null;
        _average = (WeightAverage?)ema ?? swa;
        using var board = _master ? _s.TensorBoard?.Open() : null;
        _board = board;
        if (resume && _s.OutputDirectory is not null && File.Exists(Path.Combine(_s.OutputDirectory, LastStateFile)))
            (startEpoch, bestEpoch, bestAuc, sinceBest) = RestoreCheckpoint(model, optimizer, LoadScheduler, history);
        else
            Tensors.ManualSeed((ulong)_s.Seed);

        bool stoppedEarly = false;
        try
        {
            if (bestEpoch >= 0 && _s.OutputDirectory is not null) bestWeights = LoadWeights(Path.Combine(_s.OutputDirectory, BestModelFile));
            for (int epoch = startEpoch; epoch < _s.Epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var watch = Stopwatch.StartNew();
                var lr = optimizer.ParameterGroups[0].LearningRate;
                bool averaging = swa is not null && epoch >= swaSettings!.StartEpoch;
                var (trainLoss, terms) = TrainEpoch(optimizer, averaging ? null : stepScheduler, epoch, cancellationToken);
                if (averaging) swa!.Update(model);
                SplitMetrics validation;
                // With weight averaging, the averaged weights are the ones evaluated and selected.
                using (averaging ? swa!.ApplyTo(model) : ema?.ApplyTo(model))
                {
                    if (averaging) RecomputeBatchNorm(model, epoch, cancellationToken);
                    validation = _s.Validation is null ? SplitMetrics.NotEvaluated : Evaluate(_s.Validation);

                    // Model selection on the validation split only (MedMNIST: best validation AUC; first epoch on ties);
                    // without a validation split, the last epoch's model.
                    double score = double.IsNaN(validation.Auc) ? double.NegativeInfinity : validation.Auc;
                    if (bestEpoch < 0 || score > bestAuc || _s.Validation is null)
                    {
                        bestAuc = score;
                        bestEpoch = epoch;
                        sinceBest = 0;
                        DisposeAll(bestWeights);
                        bestWeights = model.CloneStateDict();
                        if (WriteDirectory is not null) SaveWeights(model, Path.Combine(WriteDirectory, BestModelFile), epoch, validation);
                    }
                    else sinceBest++;
                }
                if (averaging)
                {
                    swaScheduler ??= NewSwaScheduler();
                    swaScheduler.Step();
                }
                else
                {
                    if (!_s.SchedulePerStep) scheduler?.Step();
                    plateau?.Step(validation.Auc);
                }
                var record = new EpochRecord(epoch, trainLoss, terms, lr, validation, watch.Elapsed.TotalSeconds);
                history.Add(record);
                WriteEpochSummaries(record, model);
                _log.LogInformation("epoch {Epoch}/{Epochs}: loss {Loss:F4}, val AUC {Auc:F4}, val ACC {Acc:F4}, lr {Lr:G3}, {Seconds:F1} s",
                    epoch + 1, _s.Epochs, trainLoss, validation.Auc, validation.Acc, lr, record.Seconds);
                _progress?.Report(new TrainingProgress(epoch, _s.Epochs, _s.Train.BatchesPerEpoch, _s.Train.BatchesPerEpoch, trainLoss, record));

                if (WriteDirectory is not null) SaveCheckpoint(model, optimizer, SchedulerStateNow(), history, epoch, bestEpoch, bestAuc, sinceBest);
                WriteHistory(history);
                // Only when epochs remain: patience running out at the last epoch ends nothing early.
                if (_s.EarlyStoppingPatience is int patience && sinceBest >= patience && epoch + 1 < _s.Epochs)
                {
                    _log.LogInformation("early stopping after epoch {Epoch}: no validation AUC improvement for {Patience} epochs", epoch + 1, patience);
                    stoppedEarly = true;
                    break;
                }
            }

            // Evaluate the selected model on every split; the test split is touched once, here.
            if (bestWeights is not null) model.LoadStateDict(bestWeights);
            var train = _s.TrainEvaluation is null ? SplitMetrics.NotEvaluated : Evaluate(_s.TrainEvaluation);
            var val = _s.Validation is null ? SplitMetrics.NotEvaluated : Evaluate(_s.Validation);
            var test = _s.Test is null ? SplitMetrics.NotEvaluated : Evaluate(_s.Test);
            var result = new TrainingResult(history, bestEpoch, train, val, test, stoppedEarly, _s.OutputDirectory);
            WriteResult(result);
            WriteResultSummaries(result);
            return result;
        }
        finally
        {
            DisposeAll(bestWeights);
            _sync = null;
            _average = null;
            _board = null;
        }
    }

    private (double Loss, IReadOnlyDictionary<string, double> Terms) TrainEpoch(Optimizer optimizer, LearningRateScheduler? stepScheduler, int epoch, CancellationToken cancellationToken)
    {
        var model = _s.Task.Model;
        model.Train();
        double lossSum = 0;
        var termSums = new Dictionary<string, double>();
        int step = 0, batches = _s.Train.BatchesPerEpoch, k = _s.AccumulationSteps;
        foreach (var batch in _s.Train.Epoch(epoch, cancellationToken))
        {
            using var scope = Tensors.NewDisposeScope();
            using var batchOwner = batch;
            // Gradient accumulation: groups of k batches (the last of an epoch may be shorter), one step per group.
            var accumulation = AccumulationGroup.Of(step, batches, k);
            if (accumulation.IsFirst) optimizer.ZeroGrad();
            RequireFiniteImages(batch, epoch, step);
            _sync?.PrepareForward();
            LossValue loss;
            using (MixedPrecisionRegion()) loss = _s.Task.ComputeLoss(batch, epoch);
            using var lossOwner = loss;
            var value = loss.Total.Item();
            var terms = loss.Terms;
            if (Group is { } group) (value, terms) = GlobalMean(group, value, terms);
            // With several ranks the check uses the mean over all of them, so every rank stops at the same step.
            if (double.IsNaN(value) || double.IsInfinity(value)) throw new TrainingDivergedException(epoch, step, value, terms);
            if (accumulation.Size == 1) loss.Total.Backward();
            else (loss.Total / accumulation.Size).Backward();
            if (accumulation.IsLast)
            {
                if (_s.GradientClipNorm is double maxNorm) GradientClipping.ClipGradNorm(model.Parameters(), maxNorm);
                optimizer.Step();
                stepScheduler?.Step();
                (_average as ExponentialMovingAverage)?.Update(model);
            }
            _board?.BatchLoss((long)epoch * batches + step, value);
            lossSum += value;
            foreach (var (name, v) in terms) termSums[name] = termSums.GetValueOrDefault(name) + v;
            step++;
            _progress?.Report(new TrainingProgress(epoch, _s.Epochs, step, _s.Train.BatchesPerEpoch, value, null));
        }
        if (step == 0) throw new InvalidOperationException("The training loader produced no batch.");
        return (lossSum / step, termSums.ToDictionary(kv => kv.Key, kv => kv.Value / step));
    }

    private void WriteEpochSummaries(EpochRecord record, Module model)
    {
        if (_board is null) return;
        var scalars = new List<(string, double)> { ("train/loss", record.TrainLoss) };
        // The loss terms (a composite's named, weighted terms) when there are several to tell apart.
        if (record.TrainLossTerms.Count > 1) scalars.AddRange(record.TrainLossTerms.Select(t => ("train/loss/" + t.Key, t.Value)));
        scalars.Add(("train/learning_rate", record.LearningRate));
        scalars.Add(("validation/auc", record.Validation.Auc));
        scalars.Add(("validation/acc", record.Validation.Acc));
        scalars.Add(("validation/loss", record.Validation.Loss));
        scalars.Add(("time/epoch_seconds", record.Seconds));
        _board.Scalars(record.Epoch, scalars);
        _board.Parameters(model, record.Epoch);
        _board.Flush();
    }

    private void WriteResultSummaries(TrainingResult result)
    {
        if (_board is null) return;
        var splits = new[] { ("train", result.Train), ("validation", result.Validation), ("test", result.Test) };
        _board.Scalars(result.BestEpoch, splits.SelectMany(s => new[] { ($"selected/{s.Item1}/auc", s.Item2.Auc), ($"selected/{s.Item1}/acc", s.Item2.Acc) }));
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Selected epoch {result.BestEpoch + 1} of {result.History.Count}{(result.StoppedEarly ? " (stopped early)" : "")}.\n\n");
        text.Append("| split | AUC | ACC |\n|---|---|---|\n");
        foreach (var (name, m) in splits)
            if (!double.IsNaN(m.Auc) || !double.IsNaN(m.Acc)) text.Append(CultureInfo.InvariantCulture, $"| {name} | {m.Auc:F4} | {m.Acc:F4} |\n");
        _board.Text("result", text.ToString(), result.BestEpoch);
        _board.Flush();
    }

    // Stochastic weight averaging: the averaged weights need batch-norm statistics of their own, from one forward pass
    // over this epoch's training batches (the loader gives the same batches again: its shuffling and augmentation are
    // seeded by epoch and sample). Ranks of a data-parallel run each see their shard; their statistics are averaged
    // (unless the layers synchronise their statistics already), so that every rank evaluates the same model.
    private void RecomputeBatchNorm(Module model, int epoch, CancellationToken cancellationToken)
    {
        using (MixedPrecisionRegion())
        {
            StochasticWeightAverage.UpdateBatchNorm(model, _s.Train.Epoch(epoch, cancellationToken), batch =>
            {
                using (batch) _s.Task.PredictScores(batch);
            });
        }
        if (Group is not { } group) return;
        using var noGrad = Tensors.NoGrad();
        foreach (var bn in model.Modules().OfType<BatchNorm>().Where(b => b.TrackRunningStats && b.SyncGroup is null))
        {
            group.AllReduce(bn.RunningMean!, Torch.Distributed.ReduceOp.Mean);
            group.AllReduce(bn.RunningVar!, Torch.Distributed.ReduceOp.Mean);
        }
    }

    // Forward passes under bfloat16 autocast when the run asks for mixed precision (UseMixedPrecision); null otherwise.
    private AutocastScope? MixedPrecisionRegion() => _s.MixedPrecision ? Tensors.Autocast(_s.Device.Type, ScalarType.BFloat16) : null;

    // A NaN or infinite pixel would reach batch normalisation's running statistics in the forward pass, before the loss
    // could be checked, and spoil the model for good (and every later batch with it); refuse such a batch up front and
    // name the samples, so that the data can be fixed. One reduction over the batch: negligible next to a training step.
    private static void RequireFiniteImages(Batch batch, int epoch, int step)
    {
        var images = batch.Images;
        if (!images.ScalarType.IsFloatingPoint()) return;
        using var scope = Tensors.NewDisposeScope();
        using var finite = images.IsFinite().Flatten(1).All(1).To(Device.Cpu);
        if (finite.All().Item() != 0) return;
        var perSample = finite.ToArray<bool>();
        var bad = Enumerable.Range(0, perSample.Length).Where(i => !perSample[i]).Select(i => batch.Indices[i]).ToList();
        throw new InvalidDataException(
            $"Training batch {step} of epoch {epoch} holds NaN or infinite values in {bad.Count} of its {batch.Count} images " +
            $"(samples {string.Join(", ", bad.Take(10))}{(bad.Count > 10 ? ", …" : "")} of the training source); fix or drop them, or check the transforms, before training. The model was not changed by this batch.");
    }

    private static (double Value, IReadOnlyDictionary<string, double> Terms) GlobalMean(ProcessGroup group, double value, IReadOnlyDictionary<string, double> terms)
    {
        var names = terms.Keys.ToArray();
        var values = new[] { value }.Concat(names.Select(n => terms[n])).ToArray();
        using var t = Tensors.FromArray(values, values.Length);
        var mean = group.AllReduce(t, Torch.Distributed.ReduceOp.Mean).ToArray<double>();
        return (mean[0], names.Select((n, i) => (n, mean[i + 1])).ToDictionary(p => p.n, p => p.Item2));
    }

    /// <summary>
    /// Evaluates the task's model on a loader with the MedMNIST evaluator (evaluation mode, no gradients). In
    /// data-parallel training each rank predicts its own exact shard and the predictions of all ranks are gathered
    /// before the metrics are computed, so every rank gets the metrics of the whole split.
    /// </summary>
    public SplitMetrics Evaluate(DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        int[,] labels;
        double[,] scores;
        using (MixedPrecisionRegion())
            (labels, scores) = Group is { } group ? PredictDistributed(_s.Task, loader, group) : Predict(_s.Task, loader);
        return SplitMetrics.Of(_s.Task.TaskType, labels, scores, _s.Task.Decision);
    }

    /// <summary>
    /// Runs a task's model over a loader split across the ranks of <paramref name="group"/> (each rank an exact shard)
    /// and gathers labels (N, L) and scores (N, K) of the whole loader on every rank, ordered by sample index.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loader has fewer samples than there are ranks.</exception>
    public static (int[,] Labels, double[,] Scores) PredictDistributed(ITrainingTask task, DataLoader loader, ProcessGroup group)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(group);
        CheckEvaluationLoader(loader, nameof(loader));
        if (loader.Source.Count < group.WorldSize)
            throw new InvalidOperationException($"Distributed evaluation needs at least one sample per rank: {loader.Source.Count} samples, {group.WorldSize} ranks.");
        var options = loader.Options.Clone();
        options.Sampler = new DistributedSampler(group.Rank, group.WorldSize, padToEqualShards: false);
        var (labels, scores, indices) = PredictWithIndices(task, new DataLoader(loader.Source, options));
        using var scope = Tensors.NewDisposeScope();
        var allLabels = group.AllGatherConcat(ToTensor(labels));
        var allScores = group.AllGatherConcat(ToTensor(scores));
        var allIndices = group.AllGatherConcat(Tensors.FromArray(indices.Select(i => (long)i).ToArray(), indices.Length)).ToArray<long>();
        var order = Enumerable.Range(0, allIndices.Length).OrderBy(i => allIndices[i]).ToArray();
        var l = allLabels.ToArray<long>();
        var sc = allScores.ToArray<double>();
        int lc = labels.GetLength(1), k = scores.GetLength(1);
        var outLabels = new int[order.Length, lc];
        var outScores = new double[order.Length, k];
        for (int r = 0; r < order.Length; r++)
        {
            for (int j = 0; j < lc; j++) outLabels[r, j] = (int)l[order[r] * lc + j];
            for (int j = 0; j < k; j++) outScores[r, j] = sc[order[r] * k + j];
        }
        return (outLabels, outScores);
    }

    private static Tensor ToTensor(int[,] a)
    {
        var flat = new long[a.Length];
        int cols = a.GetLength(1);
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < cols; j++) flat[i * cols + j] = a[i, j];
        return Tensors.FromArray(flat, a.GetLength(0), cols);
    }

    private static Tensor ToTensor(double[,] a)
    {
        var flat = new double[a.Length];
        int cols = a.GetLength(1);
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < cols; j++) flat[i * cols + j] = a[i, j];
        return Tensors.FromArray(flat, a.GetLength(0), cols);
    }

    // The task's model over a loader as this trainer evaluates it (under its autocast when it trains with mixed precision).
    internal (int[,] Labels, double[,] Scores) PredictAsEvaluated(DataLoader loader)
    {
        using (MixedPrecisionRegion()) return Predict(_s.Task, loader);
    }

    /// <summary>Runs a task's model over a loader and gathers labels (N, L) and scores (N, K).</summary>
    public static (int[,] Labels, double[,] Scores) Predict(ITrainingTask task, DataLoader loader)
    {
        var (labels, scores, _) = PredictWithIndices(task, loader);
        return (labels, scores);
    }

    /// <summary>Why a loader that draws by weight cannot evaluate: it would score a resample, not the split.</summary>
    internal const string WeightedEvaluationLoader = "an evaluation loader must visit every sample once; this one draws by weight (WeightedSampler). Use a loader without it.";

    private static void CheckEvaluationLoader(DataLoader loader, string parameterName)
    {
        if (loader.Options.WeightedSampler is not null) throw new ArgumentException("The loader cannot evaluate: " + WeightedEvaluationLoader, parameterName);
    }

    /// <summary>
    /// Runs a CORAL task's model over a loader and gathers grades (N, 1) and its cumulative logits (N, K − 1), for
    /// <see cref="Metrics.TemperatureScaling.FitCumulative(int[], double[,])"/> (<see cref="Predict"/> gives the grades' probabilities).
    /// </summary>
    public static (int[,] Labels, double[,] CumulativeLogits) PredictCumulativeLogits(CoralTask task, DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(task);
        var (labels, logits, _) = PredictWithIndices(task, loader, task.PredictCumulativeLogits);
        return (labels, logits);
    }

    private static (int[,] Labels, double[,] Scores, int[] Indices) PredictWithIndices(ITrainingTask task, DataLoader loader, Func<Batch, Tensor>? predict = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(loader);
        CheckEvaluationLoader(loader, nameof(loader));
        var model = task.Model;
        bool wasTraining = model.Training;
        model.Eval();
        var labelRows = new List<int[]>();
        var scoreRows = new List<float[]>();
        var indexRows = new List<int>();
        int k = 0;
        try
        {
            using var noGrad = Tensors.NoGrad();
            foreach (var batch in loader.Epoch(0))
            {
                using var scope = Tensors.NewDisposeScope();
                using var owner = batch;
                var scores = (predict ?? task.PredictScores)(batch);
                k = (int)scores.Size(1);
                var flat = scores.To(ScalarType.Float32, Device.Cpu).ToArray<float>();
                for (int i = 0; i < batch.Count; i++)
                {
                    scoreRows.Add(flat.AsSpan(i * k, k).ToArray());
                    labelRows.Add(Enumerable.Range(0, batch.LabelValues.GetLength(1)).Select(l => batch.LabelValues[i, l]).ToArray());
                    indexRows.Add(batch.Indices[i]);
                }
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        var labels = new int[labelRows.Count, labelRows[0].Length];
        var scoreMatrix = new double[scoreRows.Count, k];
        for (int i = 0; i < labelRows.Count; i++)
        {
            for (int l = 0; l < labelRows[i].Length; l++) labels[i, l] = labelRows[i][l];
            for (int j = 0; j < k; j++) scoreMatrix[i, j] = scoreRows[i][j];
        }
        return (labels, scoreMatrix, indexRows.ToArray());
    }

    // ---------------------------------------------------------------- checkpoints

    private static Dictionary<string, Tensor> LoadWeights(string path)
    {
        using var file = SafeTensors.Load(path);
        return file.Keys.ToList().ToDictionary(k => k, k => DisposeScope.Detach(file.Take(k)));
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }

    private static void SaveWeights(Module model, string path, int epoch, SplitMetrics validation)
        => SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            ["val_auc"] = validation.Auc.ToString("R", CultureInfo.InvariantCulture),
            ["val_acc"] = validation.Acc.ToString("R", CultureInfo.InvariantCulture),
        });

    private void SaveCheckpoint(Module model, Optimizer optimizer, SchedulerState? scheduler, List<EpochRecord> history, int epoch, int bestEpoch, double bestAuc, int sinceBest)
    {
        var dir = WriteDirectory!;
        SaveWeights(model, Path.Combine(dir, LastModelFile), epoch, history[^1].Validation);
        using (var state = optimizer.GetState()) state.Save(Path.Combine(dir, LastOptimizerFile));
        if (_average is not null) SafeTensors.Save(Path.Combine(dir, LastAverageFile), _average.StateDict);
        var checkpoint = new CheckpointState
        {
            AverageUpdates = _average?.Updates,
            AverageWarmup = (_average as ExponentialMovingAverage)?.Warmup,
            AverageType = _average?.GetType().Name,
            Epoch = epoch,
            BestEpoch = bestEpoch,
            BestValidationAuc = bestAuc,
            EpochsSinceBest = sinceBest,
            Seed = _s.Seed,
            RngState = Convert.ToBase64String(Tensors.GetRngState()),
            Scheduler = scheduler?.Values.ToDictionary(kv => kv.Key, kv => kv.Value),
            SchedulerType = scheduler?.SchedulerType,
            History = history.Select(HistoryEntry.From).ToList(),
        };
        // The JSON is written last: it names the epoch the other two files belong to.
        AtomicFile.Write(Path.Combine(dir, LastStateFile), s => JsonSerializer.Serialize(s, checkpoint, JsonOptions));
    }

    private (int StartEpoch, int BestEpoch, double BestAuc, int SinceBest) RestoreCheckpoint(Module model, Optimizer optimizer, Action<SchedulerState>? loadScheduler, List<EpochRecord> history)
    {
        var dir = _s.OutputDirectory!;
        var statePath = Path.Combine(dir, LastStateFile);
        CheckpointState checkpoint;
        byte[] rngState;
        try
        {
            checkpoint = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath), JsonOptions)
                         ?? throw new InvalidDataException($"{statePath} holds no checkpoint.");
            rngState = Convert.FromBase64String(checkpoint.RngState ?? throw new InvalidDataException($"{statePath} has no RNG state."));
            if (checkpoint.History is null || checkpoint.History.Any(h => h is null || h.Terms is null) || checkpoint.Epoch < 0 || checkpoint.Epoch != checkpoint.History.Count - 1)
                throw new InvalidDataException($"{statePath}: epoch {checkpoint.Epoch} does not match its history of {checkpoint.History?.Count ?? 0} epoch(s).");
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new InvalidDataException($"{statePath} is not a valid checkpoint: {e.Message}", e);
        }
        if (checkpoint.Seed != _s.Seed)
            throw new InvalidDataException($"The checkpoint in {dir} was made with seed {checkpoint.Seed}, not {_s.Seed}; resuming would not continue the same run.");
        // The kind of weight averaging must match before anything is loaded. Checkpoints from before the kind was
        // recorded hold an exponential moving average.
        var averageKind = checkpoint.AverageUpdates is null ? null : checkpoint.AverageType ?? nameof(ExponentialMovingAverage);
        if (_average is not null && (averageKind is null || !File.Exists(Path.Combine(dir, LastAverageFile))))
            throw new InvalidDataException($"The checkpoint in {dir} was written without weight averaging; resume it with the settings it was started with.");
        if (averageKind is not null && averageKind != _average?.GetType().Name)
            throw new InvalidDataException($"The checkpoint in {dir} holds a {averageKind}, not {(_average is null ? "a run without weight averaging" : "a " + _average.GetType().Name)}; resume it with the settings it was started with.");
        if (_average is ExponentialMovingAverage ema && (checkpoint.AverageWarmup ?? false) != ema.Warmup)
            throw new InvalidDataException($"The checkpoint in {dir} was made {(ema.Warmup ? "without" : "with")} the weight average's warm-up; resume it with the settings it was started with.");
        using (var weights = SafeTensors.Load(Path.Combine(dir, LastModelFile))) model.LoadStateDict(weights);
        using (var state = OptimizerState.Load(Path.Combine(dir, LastOptimizerFile)))
        {
            try
            {
                optimizer.LoadState(state);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"The optimizer state in {dir} does not fit this run's optimizer: {e.Message} Resume it with the settings it was started with (the optimizer and its parameter groups, such as a classifier's own learning rate).", e);
            }
        }
        if (loadScheduler is not null && checkpoint.Scheduler is not null) loadScheduler(new SchedulerState(checkpoint.SchedulerType ?? "", checkpoint.Scheduler));
        if (_average is not null)
        {
            using var averaged = SafeTensors.Load(Path.Combine(dir, LastAverageFile));
            _average.LoadState(averaged, checkpoint.AverageUpdates!.Value);
        }
        try
        {
            Tensors.SetRngState(rngState);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{statePath}: the RNG state is invalid ({e.Message}).", e);
        }
        history.AddRange(checkpoint.History.Select(h => h.ToRecord()));
        _log.LogInformation("resumed from {Dir} after epoch {Epoch}", dir, checkpoint.Epoch + 1);
        return (checkpoint.Epoch + 1, checkpoint.BestEpoch, checkpoint.BestValidationAuc, checkpoint.EpochsSinceBest);
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private sealed class CheckpointState
    {
        public int Epoch { get; set; }
        public int BestEpoch { get; set; }
        public double BestValidationAuc { get; set; }
        public int EpochsSinceBest { get; set; }
        public int Seed { get; set; }
        public string RngState { get; set; } = "";
        public Dictionary<string, double>? Scheduler { get; set; }
        public string? SchedulerType { get; set; }
        public List<HistoryEntry> History { get; set; } = new();
        public long? AverageUpdates { get; set; }
        public bool? AverageWarmup { get; set; }
        public string? AverageType { get; set; }
    }

    private sealed class HistoryEntry
    {
        public int Epoch { get; set; }
        public double TrainLoss { get; set; }
        public Dictionary<string, double> Terms { get; set; } = new();
        public double LearningRate { get; set; }
        public double ValAuc { get; set; }
        public double ValAcc { get; set; }
        public double Seconds { get; set; }

        public static HistoryEntry From(EpochRecord r) => new()
        {
            Epoch = r.Epoch, TrainLoss = r.TrainLoss, Terms = r.TrainLossTerms.ToDictionary(kv => kv.Key, kv => kv.Value),
            LearningRate = r.LearningRate, ValAuc = r.Validation.Auc, ValAcc = r.Validation.Acc, Seconds = r.Seconds,
        };

        public EpochRecord ToRecord() => new(Epoch, TrainLoss, Terms, LearningRate, new SplitMetrics(ValAuc, ValAcc), Seconds);
    }

    // ---------------------------------------------------------------- history and result files

    private void WriteHistory(List<EpochRecord> history)
    {
        if (WriteDirectory is not { } dir) return;
        var termNames = history.SelectMany(h => h.TrainLossTerms.Keys).Distinct().ToList();
        var csv = new StringBuilder();
        csv.Append("epoch,train_loss,").Append(string.Concat(termNames.Select(t => $"train_{t},"))).AppendLine("learning_rate,val_auc,val_acc,seconds");
        foreach (var h in history)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{h.Epoch},{h.TrainLoss:R},");
            foreach (var t in termNames) csv.Append(CultureInfo.InvariantCulture, $"{h.TrainLossTerms.GetValueOrDefault(t, double.NaN):R},");
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{h.LearningRate:R},{h.Validation.Auc:R},{h.Validation.Acc:R},{h.Seconds:F3}"));
        }
        AtomicFile.Write(Path.Combine(dir, "history.csv"), s => s.Write(Encoding.UTF8.GetBytes(csv.ToString())));
        AtomicFile.Write(Path.Combine(dir, "history.json"), s => JsonSerializer.Serialize(s, history.Select(HistoryEntry.From).ToList(), JsonOptions));
    }

    private void WriteResult(TrainingResult result)
    {
        if (WriteDirectory is not { } dir) return;
        // Epochs are 1-based in the file, as in the logs; splits that were not evaluated are left out.
        var summary = new Dictionary<string, object> { ["best_epoch"] = result.BestEpoch + 1, ["stopped_early"] = result.StoppedEarly };
        foreach (var (name, metrics) in new[] { ("train", result.Train), ("val", result.Validation), ("test", result.Test) })
            if (!double.IsNaN(metrics.Auc) || !double.IsNaN(metrics.Acc)) summary[name] = new { auc = metrics.Auc, acc = metrics.Acc };
        AtomicFile.Write(Path.Combine(dir, "result.json"), s => JsonSerializer.Serialize(s, summary, JsonOptions));
    }
}
