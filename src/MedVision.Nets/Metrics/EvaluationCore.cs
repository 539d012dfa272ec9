namespace MedVision.Nets.Metrics;

/// <summary>
/// Shared machinery of the MedMNIST evaluators: ranks each AUC score column once, derives the predictions, and
/// evaluates AUC and ACC for the full sample or for a bootstrap resample given as per-sample multiplicities.
/// </summary>
internal sealed class EvaluationCore
{
    private readonly int[] _scoreColumns;
    private RankedColumn[]? _columns;
    private readonly byte[][] _positive;
    private readonly string[] _componentNames;
    private readonly bool[] _definedInSample;
    private readonly byte[] _correct;
    private readonly int _entriesPerSample;

    public EvaluationCore(PredictionSet set, double threshold, OrdinalDecision decision = OrdinalDecision.MostProbable)
    {
        if (double.IsNaN(threshold))
        {
            throw new ArgumentException("Threshold is NaN.", nameof(threshold));
        }

        if (!Enum.IsDefined(decision))
        {
            throw new ArgumentException($"Unknown ordinal decision {decision}.", nameof(decision));
        }

        if (decision == OrdinalDecision.Median && set.Task != MedMnistTask.OrdinalRegression)
        {
            throw new ArgumentException($"The median decision reads grade probabilities of ordinal tasks, not of {set.Task} ones.", nameof(decision));
        }

        Set = set;
        int n = set.SampleCount;
        int k = set.ColumnCount;
        double[,] scores = set.Scores;
        if (set.Task == MedMnistTask.Binary)
        {
            _scoreColumns = new[] { k - 1 };
            _positive = new[] { set.Labels!.Select(l => (byte)l).ToArray() };
            _componentNames = new[] { "class 1" };
            Predicted = new int[n];
            for (int i = 0; i < n; i++)
            {
                Predicted[i] = scores[i, k - 1] > threshold ? 1 : 0;
            }
        }
        else if (set.Task == MedMnistTask.MultiLabel)
        {
            _scoreColumns = Enumerable.Range(0, k).ToArray();
            _positive = new byte[k][];
            _componentNames = new string[k];
            for (int j = 0; j < k; j++)
            {
                _positive[j] = new byte[n];
                for (int i = 0; i < n; i++)
                {
                    _positive[j][i] = (byte)set.MultiLabels![i, j];
                }

                _componentNames[j] = $"label {j}";
            }
        }
        else
        {
            _scoreColumns = Enumerable.Range(0, k).ToArray();
            _positive = new byte[k][];
            _componentNames = new string[k];
            int[] labels = set.Labels!;
            for (int j = 0; j < k; j++)
            {
                _positive[j] = new byte[n];
                for (int i = 0; i < n; i++)
                {
                    _positive[j][i] = labels[i] == j ? (byte)1 : (byte)0;
                }

                _componentNames[j] = $"class {j}";
            }

            Predicted = decision == OrdinalDecision.Median ? Losses.OrdinalDecoding.MedianGrades(scores) : new int[n];
            for (int i = 0; i < n && decision == OrdinalDecision.MostProbable; i++)
            {
                int best = 0;
                for (int j = 1; j < k; j++)
                {
                    if (scores[i, j] > scores[i, best])
                    {
                        best = j; // first maximum wins, as numpy.argmax
                    }
                }

                Predicted[i] = best;
            }
        }

        // Per-sample number of correct entries (1 per sample, or up to K for multi-label).
        _correct = new byte[n];
        if (set.Task == MedMnistTask.MultiLabel)
        {
            if (k > 255)
            {
                throw new ArgumentException($"Multi-label evaluation supports at most 255 labels; got {k}.", nameof(set));
            }

            _entriesPerSample = k;
            for (int i = 0; i < n; i++)
            {
                int c = 0;
                for (int j = 0; j < k; j++)
                {
                    int p = scores[i, j] > threshold ? 1 : 0;
                    c += p == set.MultiLabels![i, j] ? 1 : 0;
                }

                _correct[i] = (byte)c;
            }
        }
        else
        {
            _entriesPerSample = 1;
            for (int i = 0; i < n; i++)
            {
                _correct[i] = Predicted![i] == set.Labels![i] ? (byte)1 : (byte)0;
            }
        }

        _definedInSample = new bool[_scoreColumns.Length];
        for (int c = 0; c < _scoreColumns.Length; c++)
        {
            long pos = 0;
            foreach (byte b in _positive[c])
            {
                pos += b;
            }

            _definedInSample[c] = pos > 0 && pos < n;
        }
    }

    public PredictionSet Set { get; }

    /// <summary>Predicted class per sample (single-label tasks), or <see langword="null"/> for multi-label.</summary>
    public int[]? Predicted { get; }

    public int ComponentCount => _scoreColumns.Length;

    public IReadOnlyList<string> ComponentNames => _componentNames;

    /// <summary>The score column ranked for AUC component <paramref name="component"/>.</summary>
    public int ScoreColumn(int component) => _scoreColumns[component];

    /// <summary>Per sample, 1 when it is a positive of AUC component <paramref name="component"/>.</summary>
    public byte[] Positive(int component) => _positive[component];

    /// <summary>Per sample, how many of its entries are predicted right (1 or 0; up to K for multi-label).</summary>
    public ReadOnlySpan<byte> CorrectEntries => _correct;

    /// <summary>The ranked score column of each AUC component, sorted on first use (columns in parallel).</summary>
    private RankedColumn[] Columns
    {
        get
        {
            if (_columns is null)
            {
                var columns = new RankedColumn[_scoreColumns.Length];
                double[,] scores = Set.Scores;
                if ((long)Set.SampleCount * columns.Length >= 200_000)
                {
                    Parallel.For(0, columns.Length, c => columns[c] = RankedColumn.FromColumn(scores, _scoreColumns[c]));
                }
                else
                {
                    for (int c = 0; c < columns.Length; c++)
                    {
                        columns[c] = RankedColumn.FromColumn(scores, _scoreColumns[c]);
                    }
                }

                _columns = columns;
            }

            return _columns;
        }
    }

    public AucResult Auc(int[]? weights)
    {
        RankedColumn[] columns = Columns;
        var perClass = new MetricResult[columns.Length];
        double sum = 0;
        int defined = 0;
        var undefinedNames = new List<string>();
        for (int c = 0; c < columns.Length; c++)
        {
            perClass[c] = RocAuc.FromRanked(columns[c], _positive[c], weights, _componentNames[c]);
            if (perClass[c].IsDefined)
            {
                sum += perClass[c].Value;
                defined++;
            }
            else
            {
                undefinedNames.Add(_componentNames[c]);
            }
        }

        var warnings = new List<string>();
        double value;
        if (defined == 0)
        {
            value = double.NaN;
            warnings.Add(perClass.Length == 1
                ? perClass[0].Reason!
                : "ROC AUC is undefined for every class: each has only one outcome in the labels.");
        }
        else
        {
            value = sum / defined;
            if (undefinedNames.Count > 0)
            {
                warnings.Add(
                    $"ROC AUC is undefined for {string.Join(", ", undefinedNames)} (only one outcome in the labels); " +
                    $"the mean is over the {defined} of {perClass.Length} defined AUCs.");
            }
        }

        return new AucResult(value, perClass, warnings);
    }

    public double Acc(int[]? weights)
    {
        long correct = 0;
        long count = 0;
        for (int i = 0; i < _correct.Length; i++)
        {
            long w = weights is null ? 1 : weights[i];
            correct += w * _correct[i];
            count += w;
        }

        return (double)correct / (count * (long)_entriesPerSample);
    }

    /// <summary>
    /// Whether every AUC component that is defined on the full sample (both outcomes present) is still defined in
    /// the resample.
    /// </summary>
    public bool KeepsClasses(int[] weights)
    {
        for (int c = 0; c < _scoreColumns.Length; c++)
        {
            if (!_definedInSample[c])
            {
                continue;
            }

            long pos = 0;
            long total = 0;
            byte[] positive = _positive[c];
            for (int i = 0; i < weights.Length; i++)
            {
                total += weights[i];
                pos += positive[i] * (long)weights[i];
            }

            if (pos == 0 || pos == total)
            {
                return false;
            }
        }

        return true;
    }
}
