using System.Text.Json;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Metrics;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Training;

/// <summary>
/// Configures and runs a k-fold cross-validation (start with <see cref="CrossValidation.Create"/>): how the samples
/// are split, how the folds' loaders read them, where the folds' runs are saved; <see cref="Run"/> then trains one
/// model per fold with the trainer the caller configures for it.
/// </summary>
public sealed class CrossValidationBuilder
{
    /// <summary>The file, in the <see cref="SaveTo"/> folder, that records the folds (checked when a run is resumed).</summary>
    public const string FoldsFileName = "folds.json";

    /// <summary>The summary the run writes in the <see cref="SaveTo"/> folder (<see cref="CrossValidationResult.WriteJson"/>).</summary>
    public const string ResultFileName = "cross-validation.json";

    /// <summary>The out-of-fold predictions the run writes in the <see cref="SaveTo"/> folder (<see cref="CrossValidationResult.WriteOutOfFoldCsv"/>).</summary>
    public const string OutOfFoldFileName = "out-of-fold.csv";

    private readonly ILabeledImageSource _source;
    private readonly MedMnistTask _taskType;
    private OrdinalDecision? _decision;   // the folds' tasks' (ITrainingTask.Decision), once one is seen
    private int _folds = 5;
    private int _seed;
    private IReadOnlyList<int>? _labels;
    private IReadOnlyList<string>? _groups;
    private IReadOnlyList<(int[] Train, int[] Validation)>? _splits;
    private Func<CrossValidationSplit, DataLoaderOptions>? _train, _evaluation;
    private ILabeledImageSource? _test;
    private string? _output;
    private Action<CrossValidationFold, ITrainingTask>? _onFoldTrained;
    private (string Directory, bool ParameterHistograms)? _tensorBoard;
    private bool _ran;

    internal CrossValidationBuilder(ILabeledImageSource source, MedMnistTask taskType)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!Enum.IsDefined(taskType)) throw new ArgumentOutOfRangeException(nameof(taskType), taskType, "Unknown task type.");
        if (source.Count < 2) throw new ArgumentException($"A cross-validation needs at least 2 samples; the source has {source.Count}.", nameof(source));
        _source = source;
        _taskType = taskType;
    }

    /// <summary>The number of folds (default 5): each fold validates on about 1/k of the samples and trains on the rest.</summary>
    public CrossValidationBuilder WithFolds(int folds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        if (folds > _source.Count) throw new ArgumentOutOfRangeException(nameof(folds), folds, $"{folds} folds need at least {folds} samples; the source has {_source.Count}.");
        return Set(() => _folds = folds);
    }

    /// <summary>The seed of the split into folds (default 0). The trainers' own seeds are set in their configuration.</summary>
    public CrossValidationBuilder WithSeed(int seed) => Set(() => _seed = seed);

    /// <summary>
    /// Stratifies the folds by class (<see cref="DataSplits.StratifiedKFold"/>): every class keeps its share in every
    /// fold. With <see cref="GroupBy"/> too, the folds keep groups whole and the class shares as close as the groups
    /// allow (<see cref="DataSplits.StratifiedGroupKFold"/>). Without either (or <see cref="WithSplits"/>) the folds
    /// are a plain shuffled k-fold.
    /// </summary>
    /// <param name="labels">Each sample's class, one per sample of the source, in source order.</param>
    public CrossValidationBuilder StratifyBy(IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        RequirePerSample(labels.Count, nameof(labels));
        return Set(() => _labels = labels.ToArray());
    }

    /// <summary>
    /// Keeps the samples of a group — a patient's images, a subject's scans — in one fold
    /// (<see cref="DataSplits.GroupKFold"/>), so that no patient is trained on and validated on at once. With
    /// <see cref="StratifyBy"/> too, the folds are also stratified (<see cref="DataSplits.StratifiedGroupKFold"/>).
    /// </summary>
    /// <param name="groups">Each sample's group, one per sample of the source, in source order.</param>
    public CrossValidationBuilder GroupBy(IReadOnlyList<string> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        RequirePerSample(groups.Count, nameof(groups));
        return Set(() => _groups = groups.ToArray());
    }

    /// <summary>
    /// Uses the given folds instead of computing them: each a pair of training and validation indices into the source
    /// (e.g. from <see cref="DataSplits"/> or a published split). Every sample must be validated by exactly one fold,
    /// and no fold may train on a sample it validates on.
    /// </summary>
    public CrossValidationBuilder WithSplits(IReadOnlyList<(int[] Train, int[] Validation)> splits)
    {
        ArgumentNullException.ThrowIfNull(splits);
        var copy = splits.Select(s => (Train: s.Train?.ToArray()!, Validation: s.Validation?.ToArray()!)).ToArray();
        CheckSplits(copy, _source.Count);
        return Set(() => _splits = copy);
    }

    /// <summary>
    /// How each fold's training loader reads its samples: batch size, shuffling, augmentation, device (a copy is taken
    /// per fold). Required (this or the overload that chooses per fold).
    /// </summary>
    public CrossValidationBuilder TrainWith(DataLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (TrainOptionsProblem(options) is { } problem) throw new ArgumentException(problem, nameof(options));
        var copy = options.Clone();
        return Set(() => _train = _ => copy);
    }

    /// <summary>
    /// Chooses each fold's training options from its split — for preprocessing fitted on the fold's own training
    /// samples (e.g. normalisation by their mean and standard deviation), so that nothing of the fold's validation
    /// samples leaks into its training. Called once per fold, before the fold's trainer is configured.
    /// </summary>
    public CrossValidationBuilder TrainWith(Func<CrossValidationSplit, DataLoaderOptions> options)
        => Set(() => _train = options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>
    /// How the folds' validation and test loaders read their samples: the preprocessing without augmentation, batch
    /// size, device. Every sample is predicted once, in order: no shuffling, no dropped last batch. Required (this or
    /// the overload that chooses per fold).
    /// </summary>
    public CrossValidationBuilder EvaluateWith(DataLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (EvaluationOptionsProblem(options) is { } problem) throw new ArgumentException(problem, nameof(options));
        var copy = options.Clone();
        return Set(() => _evaluation = _ => copy);
    }

    /// <summary>
    /// Chooses each fold's evaluation options (its validation and test loaders) from its split: the preprocessing the
    /// fold's training options use without their augmentation (see <see cref="TrainWith(Func{CrossValidationSplit, DataLoaderOptions})"/>).
    /// </summary>
    public CrossValidationBuilder EvaluateWith(Func<CrossValidationSplit, DataLoaderOptions> options)
        => Set(() => _evaluation = options ?? throw new ArgumentNullException(nameof(options)));

    private static string? TrainOptionsProblem(DataLoaderOptions options)
    {
        if (options.WeightedSampler is not null)
            return "A WeightedSampler is built for one set of samples; the folds train on different ones. Leave it out of the cross-validation's training options.";
        if (options.Sampler is not null)
            return "A cross-validation runs in one process: leave the DistributedSampler out of the training options.";
        return null;
    }

    private static string? EvaluationOptionsProblem(DataLoaderOptions options)
        => options.Shuffle || options.DropLast || options.WeightedSampler is not null || options.Sampler is not null
            ? "Evaluation loaders predict every sample once, in order: set Shuffle and DropLast to false and leave the samplers out."
            : null;

    // A fold's options from the chosen function, copied (the loaders must not share an instance the function may reuse) and checked.
    private static DataLoaderOptions FoldOptions(Func<CrossValidationSplit, DataLoaderOptions> choose, CrossValidationSplit split, string kind, Func<DataLoaderOptions, string?> problem)
    {
        var options = choose(split) ?? throw new InvalidOperationException($"The {kind} options of fold {split.Index + 1} are null.");
        if (problem(options) is { } message) throw new InvalidOperationException($"The {kind} options of fold {split.Index + 1}: {message}");
        return options.Clone();
    }

    /// <summary>
    /// A test split (not part of the folds) that every fold's selected model predicts, once, after its training; the
    /// result reports each fold's test metrics and those of the folds' ensemble (their probabilities averaged).
    /// </summary>
    public CrossValidationBuilder TestOn(ILabeledImageSource test)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (test.Count == 0) throw new ArgumentException("The test source has no samples.", nameof(test));
        if (test.LabelColumns != _source.LabelColumns)
            throw new ArgumentException($"The test source has {test.LabelColumns} label column(s), the cross-validated source {_source.LabelColumns}.", nameof(test));
        return Set(() => _test = test);
    }

    /// <summary>
    /// Saves each fold's run (checkpoints, history, the trainer's files) in <c>fold-1</c> … <c>fold-k</c> under
    /// <paramref name="directory"/>, and there the folds (<see cref="FoldsFileName"/>), the summary
    /// (<see cref="ResultFileName"/>) and the out-of-fold predictions (<see cref="OutOfFoldFileName"/>). Needed to resume.
    /// </summary>
    public CrossValidationBuilder SaveTo(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        return Set(() => _output = directory);
    }

    /// <summary>
    /// Writes each fold's TensorBoard summaries (<see cref="TrainerBuilder.WriteTensorBoardTo(string, bool)"/>) as a run
    /// of its own, <c>fold-1</c> … <c>fold-k</c> under <paramref name="logDirectory"/>, so that TensorBoard draws the
    /// folds' curves on one chart. The fold configurations then leave WriteTensorBoardTo out.
    /// </summary>
    public CrossValidationBuilder WriteTensorBoardTo(string logDirectory, bool parameterHistograms = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        return Set(() => _tensorBoard = (logDirectory, parameterHistograms));
    }

    /// <summary>
    /// Called after each fold, while its selected model is still alive, with the fold's outcome and its task: the
    /// place to save a deployable model file (e.g. <c>ModelFile.Save</c> into <see cref="CrossValidationFold.Directory"/>).
    /// </summary>
    public CrossValidationBuilder OnFoldTrained(Action<CrossValidationFold, ITrainingTask> onFoldTrained)
        => Set(() => _onFoldTrained = onFoldTrained ?? throw new ArgumentNullException(nameof(onFoldTrained)));

    /// <summary>
    /// The folds this configuration gives, without training: the training and validation indices of each.
    /// </summary>
    /// <exception cref="InvalidOperationException">StratifyBy or GroupBy was given with WithSplits.</exception>
    public IReadOnlyList<(int[] Train, int[] Validation)> Folds()
    {
        if (_splits is not null && (_labels is not null || _groups is not null)) throw new InvalidOperationException("WithSplits gives the folds: leave out StratifyBy and GroupBy.");
        var splits = _splits ?? (_groups is not null && _labels is not null ? DataSplits.StratifiedGroupKFold(_labels, _groups, _folds, _seed)
            : _groups is not null ? DataSplits.GroupKFold(_groups, _folds, _seed)
            : _labels is not null ? DataSplits.StratifiedKFold(_labels, _folds, _seed)
            : DataSplits.KFold(_source.Count, _folds, _seed));
        return splits.Select(s => (s.Train.ToArray(), s.Validation.ToArray())).ToArray();
    }

    /// <summary>
    /// Runs the cross-validation: for each fold, <paramref name="configure"/> creates a trainer for a fresh model
    /// (optimizer, schedule, epochs, seed, device, progress — everything but the data and the output folder, which the
    /// cross-validation sets: leave out TrainOn, ValidateOn, EvaluateTrainingOn, TestOn, SaveTo and DistributeOver).
    /// The fold's model is trained, selected by validation AUC on its fold, predicts its fold (and the test split),
    /// is passed to <see cref="OnFoldTrained"/>, and is then disposed.
    /// </summary>
    /// <param name="configure">Creates the trainer of a fold; must create a new model each time.</param>
    /// <param name="resume">Continue the run saved in the <see cref="SaveTo"/> folder: every fold continues from its last checkpoint (a finished fold only re-predicts). The folds must be the saved ones.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <exception cref="InvalidOperationException">A required setting is missing, or the configuration of a fold sets what the cross-validation sets or reuses a model.</exception>
    /// <exception cref="InvalidDataException">Resuming, and the folds differ from those the run's folder records (as the trainer refuses a checkpoint of another run).</exception>
    public CrossValidationResult Run(Func<CrossValidationSplit, TrainerBuilder> configure, bool resume = false, CancellationToken cancellationToken = default)
    {
        var splits = Start(configure, resume);
        if (_output is not null) RecordFolds(splits, resume);

        int n = _source.Count, labelColumns = _source.LabelColumns, k = splits.Count;
        var oofLabels = new int[n, labelColumns];
        double[,]? oofScores = null;
        var oofFold = new int[n];
        int[,]? testLabels = null;
        double[,]? testSum = null;
        var folds = new List<CrossValidationFold>();
        (Torch.Nn.Module? Model, int Fold) previous = (null, -1);
        for (int f = 0; f < k; f++)
        {
            var (fold, testScores) = TrainFold(f, splits, configure, resume, ref previous, cancellationToken);
            var (validationIndices, labels, scores) = (splits[f].Validation, fold.ValidationLabels, fold.ValidationScores);
            oofScores ??= new double[n, scores.GetLength(1)];
            if (scores.GetLength(1) != oofScores.GetLength(1))
                throw new InvalidOperationException($"Fold {f + 1}'s model scores {scores.GetLength(1)} classes, fold 1's {oofScores.GetLength(1)}.");
            for (int i = 0; i < validationIndices.Length; i++)
            {
                int row = validationIndices[i];
                oofFold[row] = f;
                for (int j = 0; j < labelColumns; j++) oofLabels[row, j] = labels[i, j];
                for (int j = 0; j < scores.GetLength(1); j++) oofScores[row, j] = scores[i, j];
            }
            if (testScores is { } ts)
            {
                testLabels ??= ts.Labels;
                testSum ??= new double[ts.Scores.GetLength(0), ts.Scores.GetLength(1)];
                for (int i = 0; i < ts.Scores.GetLength(0); i++)
                    for (int j = 0; j < ts.Scores.GetLength(1); j++) testSum[i, j] += ts.Scores[i, j];
            }
            folds.Add(fold);
        }

        double[,]? ensemble = null;
        if (testSum is not null)
        {
            ensemble = new double[testSum.GetLength(0), testSum.GetLength(1)];
            for (int i = 0; i < ensemble.GetLength(0); i++)
                for (int j = 0; j < ensemble.GetLength(1); j++) ensemble[i, j] = testSum[i, j] / k;
        }
        var result = new CrossValidationResult(_taskType, folds, oofLabels, oofScores!, oofFold, testLabels, ensemble, Score(oofLabels, oofScores!),
            ensemble is null ? SplitMetrics.NotEvaluated : Score(testLabels!, ensemble), _decision ?? OrdinalDecision.MostProbable);
        if (_output is not null)
        {
            result.WriteJson(Path.Combine(_output, ResultFileName));
            result.WriteOutOfFoldCsv(Path.Combine(_output, OutOfFoldFileName));
        }
        return result;
    }

    /// <summary>
    /// Trains only some folds, into their <c>fold-N</c> folders under <see cref="SaveTo"/>, so that the folds of one
    /// cross-validation can run in several processes or on several machines at once (each its own folds, all on the
    /// same data and settings). Nothing is summed up here: when every fold has run (the folders gathered under one
    /// <see cref="SaveTo"/> folder), <see cref="Run"/> with <c>resume: true</c> and the same configuration re-predicts
    /// the finished folds and writes the summary, the out-of-fold predictions and what <see cref="OnFoldTrained"/>
    /// writes. The folds are recorded in <see cref="FoldsFileName"/> by the first process and checked by the others, so
    /// that no process trains a fold of other splits. Each fold is trained, predicted and passed to
    /// <see cref="OnFoldTrained"/> as in <see cref="Run"/>.
    /// </summary>
    /// <param name="folds">The folds to train, numbered 1 to k as their folders.</param>
    /// <param name="configure">Creates the trainer of a fold, as for <see cref="Run"/>.</param>
    /// <param name="resume">Continue these folds from their last checkpoints.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <returns>The folds trained, in the order given.</returns>
    /// <exception cref="ArgumentException">No folds, a fold outside 1 to k, or one named twice.</exception>
    /// <exception cref="InvalidOperationException">As <see cref="Run"/>; or no <see cref="SaveTo"/> folder.</exception>
    /// <exception cref="InvalidDataException">The folder records other folds.</exception>
    public IReadOnlyList<CrossValidationFold> RunFolds(IReadOnlyList<int> folds, Func<CrossValidationSplit, TrainerBuilder> configure, bool resume = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folds);
        if (folds.Count == 0) throw new ArgumentException("Name at least one fold to train.", nameof(folds));
        if (_output is null && !_ran) throw new InvalidOperationException("Training some folds is for gathering them later: SaveTo(directory), then Run(resume: true) once every fold has run.");
        var splits = Start(configure, resume);
        for (int i = 0; i < folds.Count; i++)
        {
            if (folds[i] < 1 || folds[i] > splits.Count) throw new ArgumentException($"Fold {folds[i]} is not one of the {splits.Count} folds (1 to {splits.Count}).", nameof(folds));
            if (folds.Take(i).Contains(folds[i])) throw new ArgumentException($"Fold {folds[i]} is named twice.", nameof(folds));
        }
        // Checked against the folds another process recorded (written when none has yet), whether resuming or not.
        RecordFolds(splits, resume: true);
        var trained = new List<CrossValidationFold>();
        (Torch.Nn.Module? Model, int Fold) previous = (null, -1);
        foreach (var f in folds) trained.Add(TrainFold(f - 1, splits, configure, resume, ref previous, cancellationToken).Fold);
        return trained;
    }

    // The checks every run makes before it trains, and the folds.
    private IReadOnlyList<(int[] Train, int[] Validation)> Start(Func<CrossValidationSplit, TrainerBuilder> configure, bool resume)
    {
        ArgumentNullException.ThrowIfNull(configure);
        if (_ran) throw new InvalidOperationException("This cross-validation has already run; start again with CrossValidation.Create.");
        if (_train is null) throw new InvalidOperationException("Say how the folds train: TrainWith(options).");
        if (_evaluation is null) throw new InvalidOperationException("Say how the folds are evaluated: EvaluateWith(options) (the preprocessing without augmentation).");
        if (resume && _output is null) throw new InvalidOperationException("Resuming needs the folder of the run: SaveTo(directory).");
        var splits = Folds();
        _ran = true;
        return splits;
    }

    // Trains fold f (0-based), predicts its validation samples and the test split, calls OnFoldTrained, and disposes the
    // model; returns the fold and its test predictions (null without a test split).
    private (CrossValidationFold Fold, (int[,] Labels, double[,] Scores)? Test) TrainFold(int f, IReadOnlyList<(int[] Train, int[] Validation)> splits,
        Func<CrossValidationSplit, TrainerBuilder> configure, bool resume, ref (Torch.Nn.Module? Model, int Fold) previous, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int k = splits.Count;
        var (trainIndices, validationIndices) = splits[f];
        var trainSource = new SubsetSource(_source, trainIndices);
        var validationSource = new SubsetSource(_source, validationIndices);
        var directory = _output is null ? null : Path.Combine(_output, $"fold-{f + 1}");
        var split = new CrossValidationSplit(f, k, trainIndices, validationIndices, trainSource, validationSource, directory);
        var trainOptions = FoldOptions(_train!, split, "training", TrainOptionsProblem);
        var evaluationOptions = FoldOptions(_evaluation!, split, "evaluation", EvaluationOptionsProblem);
        var builder = configure(split) ?? throw new InvalidOperationException($"The configuration of fold {f + 1} returned no trainer builder.");
        var task = builder.Task;
        var model = task.Model;
        int previousFold = previous.Fold;
        if (ReferenceEquals(model, previous.Model))
            throw new InvalidOperationException($"The configuration of fold {f + 1} returned the model of fold {previousFold + 1} again (already trained and disposed); create a new model for every fold.");
        try
        {
            if (builder.IsBuilt) throw new InvalidOperationException($"The configuration of fold {f + 1} returned a builder that has already built its trainer; return it unbuilt.");
            var made = builder.FoldSettingsMade().ToList();
            if (made.Count > 0)
                throw new InvalidOperationException($"The configuration of fold {f + 1} calls {string.Join(", ", made)}; the cross-validation sets the data and the folder of every fold itself: leave {(made.Count == 1 ? "it" : "them")} out.");
            if (task.TaskType != _taskType)
                throw new InvalidOperationException($"The task of fold {f + 1} is {task.TaskType}; the cross-validation scores {_taskType}.");
            if (_decision is { } decision && task.Decision != decision)
                throw new InvalidOperationException($"The task of fold {f + 1} decides grades by {task.Decision}, an earlier fold's by {decision}; give every fold the same kind of task.");
            _decision = task.Decision;
            var validationLoader = new DataLoader(validationSource, evaluationOptions.Clone());
            builder.TrainOn(new DataLoader(trainSource, trainOptions)).ValidateOn(validationLoader);
            if (directory is not null) builder.SaveTo(directory);
            if (_tensorBoard is { } board)
            {
                if (builder.WritesTensorBoard)
                    throw new InvalidOperationException($"The configuration of fold {f + 1} calls WriteTensorBoardTo; the cross-validation writes every fold's summaries itself (WriteTensorBoardTo on the cross-validation): leave it out.");
                builder.WriteTensorBoardTo(Path.Combine(board.Directory, $"fold-{f + 1}"), board.ParameterHistograms);
            }
            var trainer = builder.Build();
            var training = trainer.Run(resume, cancellationToken);

            var (labels, scores) = trainer.PredictAsEvaluated(validationLoader);
            (int[,] Labels, double[,] Scores)? testPredictions = null;
            var test = SplitMetrics.NotEvaluated;
            if (_test is not null)
            {
                var (tl, ts) = trainer.PredictAsEvaluated(new DataLoader(_test, evaluationOptions.Clone()));
                testPredictions = (tl, ts);
                test = Score(tl, ts);
            }
            var fold = new CrossValidationFold(split, training, labels, scores, Score(labels, scores), test);
            _onFoldTrained?.Invoke(fold, task);
            return (fold, testPredictions);
        }
        finally
        {
            model.Dispose();
            previous = (model, f);
        }
    }

    private SplitMetrics Score(int[,] labels, double[,] scores) => SplitMetrics.Of(_taskType, labels, scores, _decision ?? OrdinalDecision.MostProbable);

    // The folds of a saved run, so that a resumed run trains every fold on the samples it trained on before.
    private void RecordFolds(IReadOnlyList<(int[] Train, int[] Validation)> splits, bool resume)
    {
        var path = Path.Combine(_output!, FoldsFileName);
        var record = new FoldsRecord { Samples = _source.Count, Validation = splits.Select(s => s.Validation).ToList() };
        if (resume && File.Exists(path))
        {
            FoldsRecord? saved;
            try
            {
                saved = JsonSerializer.Deserialize<FoldsRecord>(File.ReadAllText(path));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path} is not a folds record of a cross-validation: {e.Message}", e);
            }
            bool same = saved is not null && saved.Samples == record.Samples && saved.Validation is { } v && v.Count == record.Validation.Count
                && v.Zip(record.Validation).All(p => p.First is not null && p.First.SequenceEqual(p.Second));
            if (!same)
                throw new InvalidDataException($"The folds of this configuration differ from those of the run in {_output} ({path}): resuming would validate on samples the saved folds trained on. Use the run's number of folds, seed and split, or start a new folder.");
            return;
        }
        Directory.CreateDirectory(_output!);
        AtomicFile.Write(path, s => JsonSerializer.Serialize(s, record));
    }

    internal static void CheckSplits(IReadOnlyList<(int[] Train, int[] Validation)> splits, int count)
    {
        if (splits.Count < 2) throw new ArgumentException($"A cross-validation needs at least 2 folds; {splits.Count} given.", nameof(splits));
        var validatedBy = new int[count];
        Array.Fill(validatedBy, -1);
        for (int f = 0; f < splits.Count; f++)
        {
            var (train, validation) = splits[f];
            if (train is null || validation is null) throw new ArgumentException($"Fold {f + 1} lacks its {(train is null ? "training" : "validation")} indices.", nameof(splits));
            if (train.Length == 0 || validation.Length == 0) throw new ArgumentException($"Fold {f + 1} has no {(train.Length == 0 ? "training" : "validation")} samples.", nameof(splits));
            var inTrain = new HashSet<int>();
            foreach (var i in train)
            {
                if (i < 0 || i >= count) throw new ArgumentException($"Fold {f + 1} trains on sample {i}, outside the source's {count} samples.", nameof(splits));
                inTrain.Add(i);
            }
            foreach (var i in validation)
            {
                if (i < 0 || i >= count) throw new ArgumentException($"Fold {f + 1} validates on sample {i}, outside the source's {count} samples.", nameof(splits));
                if (inTrain.Contains(i)) throw new ArgumentException($"Fold {f + 1} trains and validates on sample {i}.", nameof(splits));
                if (validatedBy[i] >= 0) throw new ArgumentException($"Sample {i} is validated by fold {validatedBy[i] + 1} and fold {f + 1}; each sample belongs to one fold.", nameof(splits));
                validatedBy[i] = f;
            }
        }
        int missing = Array.IndexOf(validatedBy, -1);
        if (missing >= 0) throw new ArgumentException($"Sample {missing} is validated by no fold; every sample must be validated by one.", nameof(splits));
    }

    private void RequirePerSample(int count, string parameterName)
    {
        if (count != _source.Count) throw new ArgumentException($"{count} values given for the source's {_source.Count} samples; give one per sample.", parameterName);
    }

    private CrossValidationBuilder Set(Action set)
    {
        if (_ran) throw new InvalidOperationException("This cross-validation has already run; start again with CrossValidation.Create.");
        set();
        return this;
    }

    private sealed class FoldsRecord
    {
        public int Samples { get; set; }

        public List<int[]> Validation { get; set; } = new();
    }
}
