using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Losses;

/// <summary>
/// CORAL loss for ordinal grades: binary cross-entropy of each cumulative logit (N, K−1) against the cumulative
/// label [grade &gt; k], summed over k and averaged over the batch (optionally with per-threshold weights).
/// </summary>
public static class CoralLoss
{
    /// <summary>The loss of cumulative logits (N, K−1) against integer grades (N) in 0 … K−1.</summary>
    public static Tensor Compute(Tensor logits, Tensor grades, Tensor? thresholdWeights = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(grades);
        if (logits.Dim != 2) throw new ArgumentException($"CORAL logits must be (N, K-1), got [{string.Join(", ", logits.Shape)}].", nameof(logits));
        using var scope = Tensors.NewDisposeScope();
        var levels = CumulativeLabels(grades, logits.Size(1) + 1).To(logits.ScalarType);
        var perElement = Functional.BinaryCrossEntropyWithLogits(logits, levels, reduction: Reduction.None);
        if (thresholdWeights is not null) perElement = perElement * thresholdWeights;
        var loss = perElement.Sum(1).Mean();
        return scope.MoveToOuter(loss);
    }

    /// <summary>The cumulative encoding [grade &gt; k] for k = 0 … K−2, shape (N, K−1), as float32.</summary>
    public static Tensor CumulativeLabels(Tensor grades, long numClasses)
    {
        ArgumentNullException.ThrowIfNull(grades);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 2);
        long count = grades.NumElements;
        if (count > 0 && numClasses - 1 > Array.MaxLength / count)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"{count} grades × {numClasses - 1} thresholds would hold more values than an array can.");
        // One copy to the host as float64: grades are whole numbers (a fractional one would silently be truncated by a
        // conversion to int64) in [0, K). Every grade in range is exact in a double.
        double[] values;
        using (var asDouble = grades.To(ScalarType.Float64, Device.Cpu)) values = asDouble.ToArray<double>();
        var g = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (v != Math.Floor(v)) throw new ArgumentException($"grades must be whole numbers, got {v}.", nameof(grades));
            if (v < 0 || v >= numClasses) throw new ArgumentOutOfRangeException(nameof(grades), (long)v, $"grades must lie in [0, {numClasses - 1}]");
            g[i] = (long)v;
        }
        var levels = new float[g.Length * (numClasses - 1)];
        for (int i = 0; i < g.Length; i++)
            for (int k = 0; k < numClasses - 1; k++)
                levels[i * (numClasses - 1) + k] = g[i] > k ? 1f : 0f;
        if (!grades.Device.IsCuda) return Tensors.FromArray(levels, g.Length, numClasses - 1);
        using var host = Tensors.FromArray(levels, g.Length, numClasses - 1);
        return host.To(grades.Device);
    }
}
