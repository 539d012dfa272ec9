using MedVision.Torch;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Per-element attributions of a batch from <see cref="IntegratedGradients"/>, <see cref="GradientShap"/>,
/// <see cref="SmoothGrad"/>, <see cref="Saliency"/>, <see cref="DeepLift"/> or another method, and the classes they explain.
/// </summary>
/// <param name="Values">
/// The attributions, of the input's shape, type and device ((N, C, H, W), (N, C, D, H, W) or any (N, …)), registered
/// in the current dispose scope.
/// </param>
/// <param name="TargetClasses">The class each sample's attributions explain (the predicted class unless chosen).</param>
/// <param name="Scores">Each sample's logit for its target class at the input.</param>
public sealed record Attributions(Tensor Values, IReadOnlyList<long> TargetClasses, IReadOnlyList<float> Scores) : IDisposable
{
    /// <summary>The attributions, of the input's shape, type and device, registered in the current dispose scope.</summary>
    public Tensor Values { get; init; } = Values ?? throw new ArgumentNullException(nameof(Values));

    /// <summary>The class each sample's attributions explain (the predicted class unless chosen).</summary>
    public IReadOnlyList<long> TargetClasses { get; init; } = TargetClasses ?? throw new ArgumentNullException(nameof(TargetClasses));

    /// <summary>Each sample's logit for its target class at the input.</summary>
    public IReadOnlyList<float> Scores { get; init; } = Scores ?? throw new ArgumentNullException(nameof(Scores));

    /// <summary>
    /// Integrated gradients, GradientSHAP, DeepLIFT and DeepLIFT SHAP only (null otherwise): per sample, the sum of its
    /// attributions minus the change of the target logit from the baseline to the input (Captum's convergence delta;
    /// for GradientSHAP the mean change over the drawn baselines, for DeepLIFT SHAP over the references). Completeness
    /// makes it 0 for the exact integral (the expectation) and for DeepLIFT through the layers its rules cover; its size
    /// relative to the change says whether more steps (draws) are needed, or which layers DeepLIFT passes derivatives through.
    /// </summary>
    public IReadOnlyList<double>? ConvergenceDeltas { get; init; }

    /// <summary>Number of samples.</summary>
    public int Count => TargetClasses.Count;

    /// <summary>The attributions of one sample copied to the CPU as float32, row-major over (C, …).</summary>
    public float[] ToArray(int sample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sample, Count);
        using var scope = Tensors.NewDisposeScope();
        return Values.Select(0, sample).To(ScalarType.Float32, Device.Cpu).Contiguous().ToArray<float>();
    }

    /// <summary>
    /// Heat maps for display or for <see cref="Heatmap.Overlay"/>, (N, 1, H, W) or (N, 1, D, H, W) float32 on the
    /// attributions' device, as Captum's <c>visualize_image_attr</c> makes them: each sample's attributions summed over
    /// the channels, the chosen sign kept (<see cref="AttributionSign.Negative"/> as magnitudes), then divided by the
    /// value below which the smallest (100 − <paramref name="outlierPercent"/>)% of the map's total lies, and clipped to
    /// [0, 1] — so that the few largest values, which dominate gradient maps, do not leave the rest dark. A map with
    /// nothing of the chosen sign is 0.
    /// </summary>
    /// <param name="sign">Which attributions to show.</param>
    /// <param name="outlierPercent">The percentage of the map's total, at the top, that saturates; 0 scales by the maximum.</param>
    /// <exception cref="InvalidOperationException">The attributions have no channel axis (fewer than 3 dimensions).</exception>
    public ClassActivationMaps ToMaps(AttributionSign sign = AttributionSign.Absolute, double outlierPercent = 2)
    {
        if (!Enum.IsDefined(sign)) throw new ArgumentOutOfRangeException(nameof(sign), sign, "Unknown sign.");
        if (!(outlierPercent >= 0 && outlierPercent < 100))
            throw new ArgumentOutOfRangeException(nameof(outlierPercent), outlierPercent, "The outlier percentage must be in [0, 100).");
        if (Values.Dim < 3)
            throw new InvalidOperationException($"Maps need attributions with a channel axis and spatial axes, (N, C, H, W) or (N, C, D, H, W); these have shape [{string.Join(", ", Values.Shape)}].");
        using var scope = Tensors.NewDisposeScope();
        var summed = Values.Sum(1, keepDim: true).To(ScalarType.Float64, Device.Cpu).Contiguous();
        var shape = summed.Shape;
        var values = summed.ToArray<double>();
        int plane = values.Length / Count;
        var map = new float[values.Length];
        for (int i = 0; i < Count; i++)
        {
            var sample = values.AsSpan(i * plane, plane);
            for (int p = 0; p < plane; p++)
                sample[p] = sign switch
                {
                    AttributionSign.Absolute => Math.Abs(sample[p]),
                    AttributionSign.Positive => Math.Max(sample[p], 0),
                    _ => Math.Max(-sample[p], 0),
                };
            double threshold = CumulativeSumThreshold(sample, 100 - outlierPercent);
            for (int p = 0; p < plane; p++)
                map[(i * plane) + p] = threshold > 0 ? (float)Math.Min(sample[p] / threshold, 1) : 0f;
        }
        var result = Tensors.FromSpan<float>(map, shape, Values.Device);
        return new ClassActivationMaps(scope.MoveToOuter(result), TargetClasses, Scores);
    }

    /// <summary>
    /// The smallest value v of <paramref name="values"/> (non-negative) such that the values up to v, in ascending
    /// order, hold at least <paramref name="percent"/>% of their sum (Captum's <c>_cumulative_sum_threshold</c>).
    /// </summary>
    internal static double CumulativeSumThreshold(ReadOnlySpan<double> values, double percent)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double total = 0;
        foreach (var v in sorted) total += v;
        if (!(total > 0)) return 0;
        double goal = total * 0.01 * percent, sum = 0;
        foreach (var v in sorted)
        {
            sum += v;
            if (sum >= goal) return v;
        }
        return sorted[^1];
    }

    /// <summary>Frees <see cref="Values"/>.</summary>
    public void Dispose() => Values.Dispose();
}
