using MedVision.Torch;

namespace MedVision.Nets.Losses;

/// <summary>Turns cumulative ordinal logits (N, K−1) into grades and per-class probabilities (N, K), so ordinal heads plug into the same evaluators as classifiers.</summary>
public static class OrdinalDecoding
{
    /// <summary>Grade = number of thresholds with P(grade &gt; k) &gt; 0.5 (int64, shape N).</summary>
    public static Tensor ToGrades(Tensor cumulativeLogits)
    {
        ArgumentNullException.ThrowIfNull(cumulativeLogits);
        using var scope = Tensors.NewDisposeScope();
        var above = cumulativeLogits > 0.0;
        var grades = above.To(ScalarType.Int64).Sum(1);
        return scope.MoveToOuter(grades);
    }

    /// <summary>
    /// Per-class probabilities from cumulative probabilities p_k = P(grade &gt; k): P(0) = 1 − p_0, P(k) = p_{k−1} − p_k,
    /// P(K−1) = p_{K−2}. Negative differences (possible when thresholds cross) are clamped to 0 and rows renormalised.
    /// </summary>
    public static Tensor ToClassProbabilities(Tensor cumulativeLogits)
    {
        ArgumentNullException.ThrowIfNull(cumulativeLogits);
        if (cumulativeLogits.Dim != 2) throw new ArgumentException("Cumulative logits must be (N, K-1).", nameof(cumulativeLogits));
        using var scope = Tensors.NewDisposeScope();
        var p = cumulativeLogits.Sigmoid();
        var n = p.Size(0);
        var ones = Tensors.Ones(new[] { n, 1L }, p.ScalarType, p.Device);
        var zeros = Tensors.Zeros(new[] { n, 1L }, p.ScalarType, p.Device);
        var upper = Tensors.Cat(new[] { ones, p }, 1);
        var lower = Tensors.Cat(new[] { p, zeros }, 1);
        var probs = (upper - lower).Clamp(min: 0.0);
        var normalised = probs / probs.Sum(1, keepDim: true).Clamp(min: ProbabilityFloor);
        return scope.MoveToOuter(normalised);
    }

    /// <summary>
    /// The median grade of each row of grade probabilities (N, K): the lowest grade k whose cumulative probability
    /// P(grade ≤ k) reaches 0.5. For a CORAL head's probabilities this is CORAL's own prediction — the number of
    /// thresholds with P(grade &gt; k) &gt; 0.5, <see cref="ToGrades"/> — and for any ordinal model the grade that
    /// minimises the expected absolute error, where the arg-max (MedMNIST's rule, <see cref="Inference.Prediction.Label"/>)
    /// is the most probable grade. The two differ when the probability is spread over distant grades: a CORAL head on
    /// noisy grades gives the middle grades little probability each, so its arg-max falls on the end grades
    /// (docs/results.md measures both).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 grades, or a probability that is negative or not finite.</exception>
    public static int[] MedianGrades(double[,] probabilities)
    {
        int n = GradeCount(probabilities, out int k);
        var grades = new int[n];
        for (int i = 0; i < n; i++)
        {
            double total = RowTotal(probabilities, i);
            double cumulative = 0;
            int grade = k - 1;
            for (int j = 0; j < k - 1; j++)
            {
                cumulative += probabilities[i, j] / total;
                if (cumulative >= 0.5) { grade = j; break; }
            }
            grades[i] = grade;
        }
        return grades;
    }

    /// <summary>
    /// The cumulative logits z_k = ln(P(grade &gt; k) / P(grade ≤ k)) (N × (K − 1)) of grade probabilities (N × K, rows
    /// summing to 1 or renormalised): the inverse of <see cref="ToClassProbabilities(Tensor)"/> for a CORAL head whose
    /// thresholds do not cross (its biases ordered, as CORAL's training keeps them), so a temperature can be fitted to a
    /// CORAL model's saved or predicted probabilities (<see cref="Metrics.TemperatureScaling.FitCumulative(int[], double[,])"/>).
    /// Both sums are taken over the small probabilities directly, so confident rows keep their precision; an empty side
    /// counts as 10⁻³⁰⁰.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 grades, or a probability that is negative or not finite, or a row without probability.</exception>
    public static double[,] ToCumulativeLogits(double[,] probabilities)
    {
        int n = GradeCount(probabilities, out int k);
        var logits = new double[n, k - 1];
        for (int i = 0; i < n; i++)
        {
            RowTotal(probabilities, i);   // checks the row; the ratio of its sums needs no normalisation
            double below = 0;
            for (int t = 0; t < k - 1; t++)
            {
                below += probabilities[i, t];
                double above = 0;
                for (int j = t + 1; j < k; j++) above += probabilities[i, j];
                logits[i, t] = Math.Log(Math.Max(above, 1e-300)) - Math.Log(Math.Max(below, 1e-300));
            }
        }
        return logits;
    }

    // The rows of grade probabilities (N × K, K ≥ 2), checked; K through `grades`.
    private static int GradeCount(double[,] probabilities, out int grades)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        grades = probabilities.GetLength(1);
        if (grades < 2) throw new ArgumentException($"Grade probabilities need at least 2 grades per row, got {grades}.", nameof(probabilities));
        return probabilities.GetLength(0);
    }

    // The sum of row i, whose probabilities must be finite and non-negative, and not all 0.
    private static double RowTotal(double[,] probabilities, int i)
    {
        double total = 0;
        for (int j = 0; j < probabilities.GetLength(1); j++)
        {
            double p = probabilities[i, j];
            if (!double.IsFinite(p) || p < 0) throw new ArgumentException($"Row {i} holds the probability {p} for grade {j}; probabilities are finite and non-negative.", nameof(probabilities));
            total += p;
        }
        if (!(total > 0)) throw new ArgumentException($"Row {i} holds no probability.", nameof(probabilities));
        return total;
    }

    /// <summary>
    /// The floor of the rows' sums in <see cref="ToClassProbabilities(Tensor)"/>, and of each probability before
    /// <see cref="ToClassProbabilities(Tensor, double)"/> takes its logarithm (a clamped difference may be exactly 0).
    /// </summary>
    public const float ProbabilityFloor = 1e-12f;

    /// <summary>
    /// The class probabilities of <see cref="ToClassProbabilities(Tensor)"/> at a temperature T: softmax(log P / T)
    /// (P_k^(1/T), renormalised; each P floored at <see cref="ProbabilityFloor"/>), as a model card's temperature applies
    /// to a CORAL head, and as <see cref="Metrics.TemperatureScaling.FitFromProbabilities(int[], double[,])"/> fits it.
    /// T = 1 gives P unchanged; T &gt; 1 softens the probabilities, T &lt; 1 sharpens them, and the most probable grade stays.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">T is not a finite positive number.</exception>
    public static Tensor ToClassProbabilities(Tensor cumulativeLogits, double temperature)
        => ToClassProbabilities(cumulativeLogits, temperature, CoralTemperature.GradeProbabilities);

    /// <summary>
    /// The class probabilities of <see cref="ToClassProbabilities(Tensor)"/> at a temperature T applied where
    /// <paramref name="scaling"/> says: to the grades' probabilities (softmax(log P / T), as
    /// <see cref="ToClassProbabilities(Tensor, double)"/>; the most probable grade stays) or to the cumulative logits
    /// (the probabilities of z / T, as <see cref="Metrics.TemperatureScaling.FitCumulative(int[], double[,])"/> fits it;
    /// every threshold keeps its side of 0, so the median grade — CORAL's prediction, <see cref="ToGrades"/> — stays).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">T is not a finite positive number, or an unknown scaling.</exception>
    public static Tensor ToClassProbabilities(Tensor cumulativeLogits, double temperature, CoralTemperature scaling)
    {
        ArgumentNullException.ThrowIfNull(cumulativeLogits);
        if (scaling is not (CoralTemperature.GradeProbabilities or CoralTemperature.CumulativeLogits))
            throw new ArgumentOutOfRangeException(nameof(scaling), scaling, "Unknown CORAL temperature scaling.");
        if (!double.IsFinite(temperature) || temperature <= 0)
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite positive number.");
        if (temperature == 1) return ToClassProbabilities(cumulativeLogits);
        using var scope = Tensors.NewDisposeScope();
        var scaled = scaling == CoralTemperature.CumulativeLogits
            ? ToClassProbabilities(cumulativeLogits / temperature)
            : (ToClassProbabilities(cumulativeLogits).Clamp(min: ProbabilityFloor).Log() / temperature).Softmax(1);
        return scope.MoveToOuter(scaled);
    }
}

/// <summary>
/// Where a temperature T applies to a CORAL head's output (<see cref="OrdinalDecoding.ToClassProbabilities(Tensor, double, CoralTemperature)"/>,
/// <see cref="Inference.ModelCard.CoralTemperature"/>).
/// </summary>
public enum CoralTemperature
{
    /// <summary>
    /// To the grades' probabilities: softmax(log P / T), P^(1/T) renormalised, as a softmax classifier's temperature
    /// (<see cref="Metrics.TemperatureScaling.FitFromProbabilities(int[], double[,])"/> fits it). Keeps the most probable grade, moves the median.
    /// </summary>
    GradeProbabilities,

    /// <summary>
    /// To the K − 1 cumulative logits: the grades' probabilities of σ(z / T) (<see cref="Metrics.TemperatureScaling.FitCumulative(int[], double[,])"/>
    /// fits it). Keeps every threshold's decision, so the median grade — CORAL's own prediction — and ranks by each
    /// P(grade &gt; k); the calibration a median-deciding CORAL model wants.
    /// </summary>
    CumulativeLogits,
}
