using System.Globalization;
using System.Text;
using System.Text.Json;
using MedVision.Nets.Metrics;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Training;

/// <summary>
/// The outcome of a cross-validation (<see cref="CrossValidation"/>): each fold, the metrics' spread over the folds,
/// the out-of-fold predictions of every sample and, with a test split, the folds' soft-voting ensemble on it.
/// </summary>
public sealed class CrossValidationResult
{
    private readonly int[,] _oofLabels;
    private readonly double[,] _oofScores;
    private readonly int[] _oofFold;
    private readonly int[,]? _testLabels;
    private readonly double[,]? _ensembleScores;

    internal CrossValidationResult(MedMnistTask taskType, IReadOnlyList<CrossValidationFold> folds, int[,] oofLabels, double[,] oofScores, int[] oofFold,
        int[,]? testLabels, double[,]? ensembleScores, SplitMetrics outOfFold, SplitMetrics ensembleTest, OrdinalDecision decision = OrdinalDecision.MostProbable)
    {
        TaskType = taskType;
        Decision = decision;
        Folds = folds;
        _oofLabels = oofLabels;
        _oofScores = oofScores;
        _oofFold = oofFold;
        _testLabels = testLabels;
        _ensembleScores = ensembleScores;
        OutOfFold = outOfFold;
        EnsembleTest = ensembleTest;
        ValidationAuc = FoldStatistic.Of(folds.Select(f => f.Validation.Auc).ToArray());
        ValidationAcc = FoldStatistic.Of(folds.Select(f => f.Validation.Acc).ToArray());
        TestAuc = FoldStatistic.Of(folds.Select(f => f.Test.Auc).ToArray());
        TestAcc = FoldStatistic.Of(folds.Select(f => f.Test.Acc).ToArray());
    }

    /// <summary>How predictions were scored.</summary>
    public MedMnistTask TaskType { get; }

    /// <summary>
    /// How the folds' models decide a class (their tasks' <see cref="ITrainingTask.Decision"/>): the median grade for
    /// CORAL heads; every ACC of this result, and the McNemar tests of <see cref="Compare"/>, count that decision.
    /// </summary>
    public OrdinalDecision Decision { get; }

    /// <summary>The folds, in order.</summary>
    public IReadOnlyList<CrossValidationFold> Folds { get; }

    /// <summary>AUC of the folds' models, each on its own fold.</summary>
    public FoldStatistic ValidationAuc { get; }

    /// <summary>ACC of the folds' models, each on its own fold.</summary>
    public FoldStatistic ValidationAcc { get; }

    /// <summary>AUC of the folds' models on the test split (NaN without one).</summary>
    public FoldStatistic TestAuc { get; }

    /// <summary>ACC of the folds' models on the test split (NaN without one).</summary>
    public FoldStatistic TestAcc { get; }

    /// <summary>
    /// AUC and ACC of the pooled out-of-fold predictions (every sample predicted by the model of its fold):
    /// scikit-learn's <c>cross_val_predict</c> followed by one evaluation.
    /// </summary>
    public SplitMetrics OutOfFold { get; }

    /// <summary>The folds' models as one soft-voting ensemble (probabilities averaged) on the test split; NaN without one.</summary>
    public SplitMetrics EnsembleTest { get; }

    /// <summary>Whether a test split was predicted (<see cref="GetEnsembleTestPredictions"/> is available).</summary>
    public bool HasTest => _ensembleScores is not null;

    /// <summary>
    /// The out-of-fold predictions in source order (copies): labels (N, L), scores (N, K) and the fold that predicted
    /// each sample (0-based).
    /// </summary>
    public (int[,] Labels, double[,] Scores, int[] Folds) GetOutOfFoldPredictions()
        => ((int[,])_oofLabels.Clone(), (double[,])_oofScores.Clone(), (int[])_oofFold.Clone());

    /// <summary>The test labels (N, L) and the ensemble's averaged probabilities (N, K), copies.</summary>
    /// <exception cref="InvalidOperationException">The cross-validation had no test split.</exception>
    public (int[,] Labels, double[,] Scores) GetEnsembleTestPredictions()
    {
        if (_ensembleScores is null) throw new InvalidOperationException("The cross-validation had no test split (CrossValidationBuilder.TestOn).");
        return ((int[,])_testLabels!.Clone(), (double[,])_ensembleScores.Clone());
    }

    /// <summary>
    /// Compares this cross-validation's recipe (A) with another's (B) run on the same folds of the same samples: the
    /// corrected resampled t-test of the folds' AUC and ACC differences (<see cref="ResampledTTest"/>), DeLong's and
    /// McNemar's tests on the pooled out-of-fold predictions, and, when both predicted a test split, on their folds'
    /// ensembles there. Differences are A − B.
    /// </summary>
    /// <param name="other">The other recipe's cross-validation, run with the same folds (the same splits, seed and stratification, or the same <see cref="CrossValidationBuilder.WithSplits"/>).</param>
    /// <param name="level">Confidence level of the intervals, in (0, 1).</param>
    /// <returns>The comparison.</returns>
    /// <exception cref="ArgumentException">
    /// The other cross-validation has another task, other folds, or other labels — a paired comparison needs both
    /// recipes trained and scored on the same samples; or a level outside (0, 1).
    /// </exception>
    public CrossValidationComparison Compare(CrossValidationResult other, double level = DeLong.DefaultLevel)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.TaskType != TaskType)
        {
            throw new ArgumentException($"The other cross-validation scored a {other.TaskType} task, this one a {TaskType} task.", nameof(other));
        }

        if (other.Folds.Count != Folds.Count)
        {
            throw new ArgumentException($"The other cross-validation has {other.Folds.Count} folds, this one {Folds.Count}: a paired comparison needs the same folds.", nameof(other));
        }

        for (int f = 0; f < Folds.Count; f++)
        {
            if (!Folds[f].Split.ValidationIndices.Order().SequenceEqual(other.Folds[f].Split.ValidationIndices.Order()) ||
                !Folds[f].Split.TrainIndices.Order().SequenceEqual(other.Folds[f].Split.TrainIndices.Order()))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"Fold {f + 1} holds other samples in the other cross-validation: a paired comparison needs both recipes run on the same folds (the same seed, fold count and stratification, or the same WithSplits)."),
                    nameof(other));
            }
        }

        if (!SameLabels(_oofLabels, other._oofLabels))
        {
            throw new ArgumentException("The other cross-validation's samples have other labels: it was run on another data source.", nameof(other));
        }

        double trained = Folds.Sum(f => (double)f.Split.TrainIndices.Count);
        double scored = Folds.Sum(f => (double)f.Split.ValidationIndices.Count);
        var ensembles = _ensembleScores is not null && other._ensembleScores is not null && SameLabels(_testLabels!, other._testLabels!)
            ? (_testLabels!, _ensembleScores, other._ensembleScores)
            : default((int[,], double[,], double[,])?);
        return CrossValidationComparison.Of(
            TaskType, scored / trained, Folds.Select(f => f.Validation).ToArray(), other.Folds.Select(f => f.Validation).ToArray(), _oofLabels, _oofScores, other._oofScores, ensembles, level,
            Decision, other.Decision);
    }

    /// <summary>
    /// Reads the out-of-fold predictions a cross-validation wrote (<see cref="CrossValidationBuilder.OutOfFoldFileName"/>,
    /// <see cref="WriteOutOfFoldCsv"/>): labels (N, L), scores (N, K) and each sample's fold (0-based), in source order —
    /// e.g. to compare two recipes' cross-validations later (<see cref="CrossValidationComparison.FromOutOfFold(MedMnistTask, int[,], double[,], int[], double[,], int[], double)"/>).
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>The predictions.</returns>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="Data.DataFormatException">The file is not such a CSV: the message names the line and the problem.</exception>
    public static (int[,] Labels, double[,] Scores, int[] Folds) ReadOutOfFoldCsv(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No out-of-fold predictions at {path}.", path);
        }

        string[] lines = File.ReadAllLines(path);
        if (lines.Length < 2)
        {
            throw new Data.DataFormatException(path, "expected a header and at least one row of out-of-fold predictions.");
        }

        string[] header = lines[0].Split(',');
        int labelColumns = header.Count(h => h == "label" || h.StartsWith("label_", StringComparison.Ordinal));
        int scoreColumns = header.Count(h => h.StartsWith("score_", StringComparison.Ordinal));
        bool wellFormed = header.Length >= 4 && header[0] == "index" && header[1] == "fold" && labelColumns >= 1 && scoreColumns >= 1 &&
            labelColumns + scoreColumns + 2 == header.Length &&
            header.Skip(2).Take(labelColumns).Select((h, j) => labelColumns == 1 ? h == "label" : h == $"label_{j}").All(ok => ok) &&
            header.Skip(2 + labelColumns).Select((h, j) => h == $"score_{j}").All(ok => ok);
        if (!wellFormed)
        {
            throw new Data.DataFormatException(path, $"line 1 is \"{lines[0]}\", not the header of out-of-fold predictions (index,fold,label[_j]…,score_0…).");
        }

        var rows = lines.Skip(1).Where(l => l.Length > 0).ToArray();
        var labels = new int[rows.Length, labelColumns];
        var scores = new double[rows.Length, scoreColumns];
        var folds = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            string[] cells = rows[i].Split(',');
            string Where() => string.Create(CultureInfo.InvariantCulture, $"line {i + 2}");
            if (cells.Length != header.Length)
            {
                throw new Data.DataFormatException(path, $"{Where()} has {cells.Length} cells; the header has {header.Length}.");
            }

            if (!int.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index != i)
            {
                throw new Data.DataFormatException(path, $"{Where()} has index \"{cells[0]}\"; the rows must be the samples 0, 1, 2, … in order.");
            }

            if (!int.TryParse(cells[1], NumberStyles.None, CultureInfo.InvariantCulture, out int fold) || fold < 1)
            {
                throw new Data.DataFormatException(path, $"{Where()} has fold \"{cells[1]}\"; folds are numbered from 1.");
            }

            folds[i] = fold - 1;
            for (int j = 0; j < labelColumns; j++)
            {
                if (!int.TryParse(cells[2 + j], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out labels[i, j]))
                {
                    throw new Data.DataFormatException(path, $"{Where()} has label \"{cells[2 + j]}\", not an integer.");
                }
            }

            for (int j = 0; j < scoreColumns; j++)
            {
                string cell = cells[2 + labelColumns + j];
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out scores[i, j]) || !double.IsFinite(scores[i, j]))
                {
                    throw new Data.DataFormatException(path, $"{Where()} has score \"{cell}\", not a finite number.");
                }
            }
        }

        return (labels, scores, folds);
    }

    private static bool SameLabels(int[,] a, int[,] b)
    {
        if (a.GetLength(0) != b.GetLength(0) || a.GetLength(1) != b.GetLength(1))
        {
            return false;
        }

        for (int i = 0; i < a.GetLength(0); i++)
        {
            for (int j = 0; j < a.GetLength(1); j++)
            {
                if (a[i, j] != b[i, j])
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Writes the summary (folds, spread, out-of-fold and ensemble metrics) as JSON, atomically.</summary>
    public void WriteJson(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        static object Pair(SplitMetrics m) => new { auc = m.Auc, acc = m.Acc };
        static object Stat(FoldStatistic s) => new { mean = s.Mean, sd = s.StandardDeviation, min = s.Minimum, max = s.Maximum };
        var summary = new Dictionary<string, object>
        {
            ["format"] = "medvision.cross-validation",
            ["version"] = 1,
            ["task"] = TaskType.ToString(),
            ["folds"] = Folds.Select(f => new
            {
                fold = f.Index + 1,
                train_samples = f.Split.TrainIndices.Count,
                validation_samples = f.Split.ValidationIndices.Count,
                best_epoch = f.Training.BestEpoch + 1,
                epochs = f.Training.History.Count,
                stopped_early = f.Training.StoppedEarly,
                validation = Pair(f.Validation),
                test = Pair(f.Test),
                directory = f.Directory,
            }).ToList(),
            ["validation_auc"] = Stat(ValidationAuc),
            ["validation_acc"] = Stat(ValidationAcc),
            ["test_auc"] = Stat(TestAuc),
            ["test_acc"] = Stat(TestAcc),
            ["out_of_fold"] = Pair(OutOfFold),
            ["ensemble_test"] = Pair(EnsembleTest),
        };
        if (Decision == OrdinalDecision.Median)
        {
            summary["ordinal_decision"] = "median";   // as model cards write it: every ACC above is the median grade's
        }

        var options = new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        AtomicFile.Write(path, s => JsonSerializer.Serialize(s, summary, options));
    }

    /// <summary>
    /// Writes the out-of-fold predictions as CSV, atomically: one row per sample in source order with its index, fold
    /// (1-based), label column(s) and per-class scores — e.g. to fit a calibration or a stacked model on them.
    /// </summary>
    public void WriteOutOfFoldCsv(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        int labels = _oofLabels.GetLength(1), classes = _oofScores.GetLength(1);
        var text = new StringBuilder();
        text.Append("index,fold");
        for (int j = 0; j < labels; j++) text.Append(labels == 1 ? ",label" : $",label_{j}");
        for (int j = 0; j < classes; j++) text.Append(CultureInfo.InvariantCulture, $",score_{j}");
        text.Append('\n');
        for (int i = 0; i < _oofFold.Length; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i},{_oofFold[i] + 1}");
            for (int j = 0; j < labels; j++) text.Append(CultureInfo.InvariantCulture, $",{_oofLabels[i, j]}");
            for (int j = 0; j < classes; j++) text.Append(',').Append(_oofScores[i, j].ToString("R", CultureInfo.InvariantCulture));
            text.Append('\n');
        }
        AtomicFile.Write(path, s =>
        {
            using var writer = new StreamWriter(s, new UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });
    }
}
