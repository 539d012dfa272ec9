using MathNet.Numerics.Statistics;
using MedVision.Nets.Metrics;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// The model-parameter randomisation test of "Sanity checks for saliency maps" (Adebayo et al., NeurIPS 2018), as
/// Quantus's MPRT runs it: the model's layers are re-initialised (<see cref="IResettable.ResetParameters"/>) from the
/// output towards the input, and after each step the maps of the randomised model are compared with those of the
/// trained one. An explanation that depends on what the model learnt changes — its rank correlation and SSIM with the
/// trained model's map fall towards zero as more layers are randomised; one that stays similar (an edge detector, the
/// input itself) explains the image, not the model, and fails the check.
/// </summary>
/// <remarks>
/// The model is changed in place while the test runs and restored to its trained values at the end, also when the
/// explanation throws: do not use it from other threads meanwhile. Each step seeds libtorch's global generator
/// (<see cref="Tensors.ManualSeed"/>) with <c>seed</c> + step before drawing, so a run is reproducible. Layers that
/// cannot be reset (a TorchScript module's, parameters registered outside a layer) keep their values; a model with
/// none to reset is refused.
/// </remarks>
public static class ParameterRandomization
{
    /// <summary>Runs the test.</summary>
    /// <param name="model">The trained classifier, in evaluation mode.</param>
    /// <param name="input">The samples to explain, (N, C, H, W) or (N, C, D, H, W).</param>
    /// <param name="explain">
    /// The explanation under test: maps (N, 1, …) for the input and target classes, computed with the model it captured
    /// (which the test changes in place) — e.g. <c>(x, t) =&gt; GradCam.ForResNet(resNet).Compute(x, t)</c> or
    /// <c>(x, t) =&gt; { using var a = new IntegratedGradients(resNet).Compute(x, t); return a.ToMaps(); }</c>.
    /// The maps are disposed after use.
    /// </param>
    /// <param name="targetClasses">The class each sample's maps explain; null for the trained model's predictions.</param>
    /// <param name="order">Cascading (each step keeps the layers randomised before) or independent (one block at a time).</param>
    /// <param name="blockDepth">
    /// Null randomises one layer per step; a depth d randomises together the layers that share the first d parts of
    /// their dotted name (for a ResNet, 1 gives the stem, the four stages and the head; 2 single residual blocks).
    /// </param>
    /// <param name="seed">Seeds each step's draw (step k uses seed + k).</param>
    public static ParameterRandomizationResult Run(Module<Tensor, Tensor> model, Tensor input, Func<Tensor, IReadOnlyList<long>, ClassActivationMaps> explain,
        IReadOnlyList<long>? targetClasses = null, RandomizationOrder order = RandomizationOrder.Cascading, int? blockDepth = null, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(explain);
        if (!Enum.IsDefined(order)) throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown randomisation order.");
        if (blockDepth is < 1) throw new ArgumentOutOfRangeException(nameof(blockDepth), blockDepth, "The block depth is at least 1 (or null for one layer per step).");
        if (input.Dim is not (4 or 5) || input.Size(0) < 1)
            throw new ArgumentException($"The input must be a batch (N, C, H, W) or (N, C, D, H, W); got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        if (model.Training) throw new InvalidOperationException("The randomisation test needs the model in evaluation mode (call model.Eval()).");
        if (targetClasses is not null && targetClasses.Count != input.Size(0))
            throw new ArgumentException($"{targetClasses.Count} target classes were given for {input.Size(0)} samples.", nameof(targetClasses));
        var blocks = Blocks(model, blockDepth);
        if (blocks.Count == 0)
            throw new ArgumentException($"The model ({model.TypeName}) has no layer that can be re-initialised (IResettable); the test needs at least one.", nameof(model));

        var targets = targetClasses?.ToArray() ?? Predict(model, input);
        var original = Maps(explain, input, targets);
        var trained = model.CloneStateDict();
        var steps = new List<RandomizationStep>(blocks.Count);
        try
        {
            for (int k = 0; k < blocks.Count; k++)
            {
                var (name, layers) = blocks[k];
                if (order == RandomizationOrder.Independent && k > 0) model.LoadStateDict(trained);
                Tensors.ManualSeed(unchecked((ulong)(seed + k)));
                foreach (var (_, layer) in layers) layer.ResetParameters();
                var maps = Maps(explain, input, targets);
                var rank = new double[targets.Length];
                var ssim = new double[targets.Length];
                for (int i = 0; i < targets.Length; i++)
                {
                    rank[i] = RankCorrelation(original.Values[i], maps.Values[i]);
                    ssim[i] = StructuralSimilarity(original.Values[i], maps.Values[i], original.Spatial);
                }
                steps.Add(new RandomizationStep(name, layers.Select(l => l.Name).ToArray(), rank, ssim));
            }
        }
        finally
        {
            model.LoadStateDict(trained);
            foreach (var t in trained.Values) t.Dispose();
        }
        return new ParameterRandomizationResult(order, targets, steps);
    }

    /// <summary>
    /// Spearman's rank correlation of two maps (Pearson's correlation of their ranks, ties given their mean rank), the
    /// similarity Adebayo et al. and Quantus report; NaN when either map is constant.
    /// </summary>
    public static double RankCorrelation(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count) throw new ArgumentException($"The maps have {a.Count} and {b.Count} values.", nameof(b));
        if (a.Count < 2 || IsConstant(a) || IsConstant(b)) return double.NaN;
        return Correlation.Spearman(a.Select(v => (double)v), b.Select(v => (double)v));
    }

    private static bool IsConstant(IReadOnlyList<float> values)
    {
        for (int i = 1; i < values.Count; i++) if (values[i] != values[0]) return false;
        return true;
    }

    // SSIM of two maps each min–max scaled to [0, 1], window min(7, smallest in-plane side).
    private static double StructuralSimilarity(float[] a, float[] b, long[] spatial)
    {
        int depth = spatial.Length == 3 ? (int)spatial[0] : 1, height = (int)spatial[^2], width = (int)spatial[^1];
        int window = Math.Min(7, Math.Min(height, width));
        if (depth > 1) window = Math.Min(window, depth);
        return ImageQuality.Ssim3D(Scaled(a), Scaled(b), depth, height, width, dataRange: 1, window);
    }

    private static float[] Scaled(float[] map)
    {
        float min = map.Min(), max = map.Max();
        var result = new float[map.Length];
        if (!(max > min)) return result;
        for (int i = 0; i < map.Length; i++) result[i] = (map[i] - min) / (max - min);
        return result;
    }

    // Resettable layers grouped into steps, from the output towards the input (reverse registration order).
    private static List<(string Name, List<(string Name, IResettable Layer)> Layers)> Blocks(Module model, int? depth)
    {
        var layers = model.NamedModules().Where(m => m.Module is IResettable).Select(m => (m.Name, Layer: (IResettable)m.Module)).Reverse().ToList();
        var blocks = new List<(string Name, List<(string, IResettable)> Layers)>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, layer) in layers)
        {
            var full = name.Length == 0 ? "(model)" : name;
            var key = depth is { } d ? string.Join('.', full.Split('.').Take(d)) : full;
            if (!index.TryGetValue(key, out var at))
            {
                index[key] = at = blocks.Count;
                blocks.Add((key, new List<(string, IResettable)>()));
            }
            blocks[at].Layers.Add((name, layer));
        }
        return blocks;
    }

    private static long[] Predict(Module<Tensor, Tensor> model, Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var logits = model.Call(input);
        if (logits.Dim != 2 || logits.Size(0) != input.Size(0))
            throw new InvalidOperationException($"The model's output has shape [{string.Join(", ", logits.Shape)}]; the test needs logits ({input.Size(0)}, classes) to find the predicted classes (or give targetClasses).");
        return logits.ArgMax(1).To(ScalarType.Int64, Device.Cpu).ToArray<long>();
    }

    private static (float[][] Values, long[] Spatial) Maps(Func<Tensor, IReadOnlyList<long>, ClassActivationMaps> explain, Tensor input, long[] targets)
    {
        using var scope = Tensors.NewDisposeScope();
        using var maps = explain(input, targets) ?? throw new InvalidOperationException("The explanation returned no maps.");
        var spatial = input.Shape.Skip(2).ToArray();
        var expected = new[] { (long)targets.Length, 1 }.Concat(spatial).ToArray();
        if (!maps.Maps.Shape.SequenceEqual(expected))
            throw new InvalidOperationException($"The explanation returned maps of shape [{string.Join(", ", maps.Maps.Shape)}]; the test compares maps of the input's size, [{string.Join(", ", expected)}].");
        var values = new float[targets.Length][];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = maps.ToArray(i);
            for (int j = 0; j < values[i].Length; j++)
                if (!float.IsFinite(values[i][j])) throw new InvalidOperationException($"The explanation's map of sample {i} has a non-finite value ({values[i][j]}) at position {j}.");
        }
        return (values, spatial);
    }
}
