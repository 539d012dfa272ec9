namespace MedVision.Nets.Metrics.Clinical;

/// <summary>
/// Turns a grading model into a referral decision: an image is referable when its grade is at least a cut-off (for
/// diabetic retinopathy, grade 2, moderate non-proliferative disease or worse — "referable DR"), and its risk is the
/// probability of those grades, Σ_{k ≥ cut-off} p_k.
/// </summary>
public static class Referral
{
    /// <summary>Each image's referable label and risk.</summary>
    /// <param name="grades">True grades, in [0, K).</param>
    /// <param name="probabilities">N × K grade probabilities.</param>
    /// <param name="referableFrom">The lowest referable grade, in [1, K).</param>
    /// <returns>1 for an image whose grade is referable, else 0; and P(grade ≥ cut-off).</returns>
    public static (int[] Labels, double[] Risks) FromGrades(int[] grades, double[,] probabilities, int referableFrom)
    {
        ArgumentNullException.ThrowIfNull(grades);
        Conformal.ConformalClassifier.ValidateMatrix(probabilities, -1, nameof(probabilities));
        int k = probabilities.GetLength(1);
        Conformal.ConformalClassifier.ValidateLabels(grades, probabilities, k, nameof(grades));
        if (referableFrom < 1 || referableFrom >= k)
            throw new ArgumentOutOfRangeException(nameof(referableFrom), referableFrom, $"The lowest referable grade must lie in [1, {k}) so that both sides have grades.");
        var labels = new int[grades.Length];
        var risks = new double[grades.Length];
        for (int i = 0; i < grades.Length; i++)
        {
            labels[i] = grades[i] >= referableFrom ? 1 : 0;
            double risk = 0;
            for (int j = referableFrom; j < k; j++) risk += probabilities[i, j];
            risks[i] = Math.Min(risk, 1);
        }
        return (labels, risks);
    }

    /// <summary>Each image's referable label and risk, grades as an N × 1 matrix (as MedMNIST stores them).</summary>
    /// <param name="grades">N × 1 true grades.</param>
    /// <param name="probabilities">N × K grade probabilities.</param>
    /// <param name="referableFrom">The lowest referable grade.</param>
    /// <returns>The labels and risks.</returns>
    public static (int[] Labels, double[] Risks) FromGrades(int[,] grades, double[,] probabilities, int referableFrom)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        return FromGrades(PredictionSet.LabelVector(grades, "Referral", nameof(grades)), probabilities, referableFrom);
    }
}
