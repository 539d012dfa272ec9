using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Inference;

/// <summary>
/// What the 2-D and 3-D segmentation predictors share: the network run window by window on an input and its flipped
/// copies, class probabilities (a softmax, or for one output channel a sigmoid read as background and foreground)
/// averaged over the copies, and the arg-max. Only reads the network, so many threads may call it at once on a network
/// in evaluation mode.
/// </summary>
internal static class SegmentationInference
{
    /// <summary>The flipped axes of (N, C, spatial…) for the chosen flips: W the last, H the one before, D the one before that.</summary>
    public static long[] FlipAxes(TestTimeFlips flips, int spatialDims)
    {
        var axes = new List<long>();
        int last = spatialDims + 1;
        if (flips.HasFlag(TestTimeFlips.Horizontal)) axes.Add(last);
        if (flips.HasFlag(TestTimeFlips.Vertical)) axes.Add(last - 1);
        if (flips.HasFlag(TestTimeFlips.Depth)) axes.Add(last - 2);
        return axes.ToArray();
    }

    /// <summary>Checks a flip setting for a predictor of <paramref name="spatialDims"/> dimensions.</summary>
    public static TestTimeFlips CheckFlips(TestTimeFlips value, int spatialDims, string name)
    {
        var allowed = TestTimeFlips.Horizontal | TestTimeFlips.Vertical | (spatialDims == 3 ? TestTimeFlips.Depth : 0);
        if ((value & ~allowed) != 0)
            throw new ArgumentOutOfRangeException(name, value, spatialDims == 3
                ? "Flips are Horizontal, Vertical and Depth, or a combination of them."
                : "Images flip Horizontal and Vertical, or both; Depth needs a 3-D network.");
        return value;
    }

    /// <summary>
    /// The probability of each class per pixel or voxel of one input (1, C, spatial…), averaged over every combination
    /// of the flipped axes (the unflipped pass first): one array per class, x fastest.
    /// </summary>
    /// <exception cref="ArgumentException">The network does not keep the spatial size.</exception>
    public static float[][] Probabilities(Module<Tensor, Tensor> model, SlidingWindowInferer inferer, float[] data, int[] shape, Device device, long[] flipAxes, string parameterName)
    {
        using var noGrad = Tensors.NoGrad();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(data, [1, .. shape.Select(v => (long)v)]).To(device);
        Tensor? sum = null;
        for (int combination = 0; combination < 1 << flipAxes.Length; combination++)
        {
            var flipped = flipAxes.Where((_, i) => (combination >> i & 1) == 1).ToArray();
            var logits = inferer.Infer(flipped.Length == 0 ? input : input.Flip(flipped), model);
            if (logits.Dim != shape.Length + 1 || logits.Size(0) != 1 || Enumerable.Range(1, shape.Length - 1).Any(d => logits.Size(d + 1) != shape[d]))
                throw new ArgumentException($"The network gave [{string.Join(", ", logits.Shape)}] for an input of [1, {string.Join(", ", shape)}]; a segmentation network must keep the spatial size.", parameterName);
            // A softmax over the classes; one output channel is a sigmoid network: (1 − p, p) for background and foreground.
            Tensor probabilities;
            if (logits.Size(1) == 1)
            {
                var foreground = logits.To(ScalarType.Float32).Sigmoid();
                probabilities = Tensors.Cat(new[] { 1.0 - foreground, foreground }, 1);
            }
            else probabilities = logits.To(ScalarType.Float32).Softmax(1);
            if (flipped.Length > 0) probabilities = probabilities.Flip(flipped);
            sum = sum is null ? probabilities : sum + probabilities;
        }
        var mean = (sum! / (1 << flipAxes.Length)).Squeeze(0).To(ScalarType.Float32, Device.Cpu).Contiguous();
        int classes = checked((int)mean.Size(0));
        int plane = checked((int)(mean.NumElements / classes));
        var all = mean.ToArray<float>();
        var result = new float[classes][];
        for (int k = 0; k < classes; k++) result[k] = all.AsSpan(k * plane, plane).ToArray();
        return result;
    }

    /// <summary>
    /// The label map with the chosen classes kept to their largest component (<paramref name="keep"/> null: every
    /// foreground class; empty: none), after the foreground as one when <paramref name="foreground"/>. A chosen class the network does not give is refused: it was set for
    /// another model.
    /// </summary>
    public static int[] KeepLargest(int[] labels, IReadOnlyList<int> shape, int[]? keep, int classes, Connectivity connectivity, bool foreground = false)
    {
        if (keep is not null && keep.Any(k => k >= classes))
            throw new InvalidOperationException($"KeepLargestComponentClasses [{string.Join(", ", keep)}] names a class the network does not give (it gives {classes}: 0 to {classes - 1}).");
        // nnU-Net's order: the foreground as one first, then each chosen class.
        if (foreground) labels = ConnectedComponents.KeepLargestForeground(labels, shape, connectivity);
        return keep is [] ? labels : ConnectedComponents.KeepLargestPerClass(labels, shape, keep, connectivity);
    }

    /// <summary>The class of highest probability per element (the first of equal maxima, as arg-max).</summary>
    public static int[] ArgMax(float[][] probabilities)
    {
        int classes = probabilities.Length, plane = probabilities[0].Length;
        var labels = new int[plane];
        for (int i = 0; i < plane; i++)
        {
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (probabilities[k][i] > probabilities[best][i]) best = k;
            labels[i] = best;
        }
        return labels;
    }
}

/// <summary>Another engine's network (<see cref="IPredictorNetwork"/>) as a module, so the predictors' windows can call it.</summary>
internal sealed class PredictorNetworkModule(IPredictorNetwork network) : Module<Tensor, Tensor>
{
    public override Tensor Forward(Tensor input) => network.Logits(input);
}

/// <summary>
/// Several segmentation networks as one (nnU-Net's ensembles of folds): each member's probabilities (softmax, or
/// sigmoid for one-channel members) averaged — equally, or with the given weights (normalised to sum to 1) — and
/// returned as logits whose softmax (sigmoid) is that average — the log of the mean, or for sigmoid members its
/// log-odds — so that the predictors' windows, flips and arg-max apply unchanged. Owns its members (disposed with it).
/// </summary>
internal sealed class EnsembleNetwork : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor>[] _members;
    private readonly double[]? _weights; // normalised; null: equal weights (the sum divided by the count)
    private readonly bool _sigmoid;

    public EnsembleNetwork(IReadOnlyList<Module<Tensor, Tensor>> members, bool sigmoid, IReadOnlyList<double>? weights = null)
    {
        _members = members.ToArray();
        _weights = weights is null ? null : EnsembleWeights.Normalised(weights, _members.Length);
        _sigmoid = sigmoid;
        for (int i = 0; i < _members.Length; i++) RegisterModule($"member{i}", _members[i]);
    }

    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        Tensor? mean = null;
        for (int i = 0; i < _members.Length; i++)
        {
            var logits = _members[i].Call(input).To(ScalarType.Float32);
            var probabilities = _sigmoid ? logits.Sigmoid() : logits.Softmax(1);
            if (_weights is not null) probabilities *= _weights[i];
            mean = mean is null ? probabilities : mean + probabilities;
        }
        mean = _weights is null ? mean! / _members.Length : mean!;
        return scope.MoveToOuter(_sigmoid ? mean.Log() - (1.0 - mean).Log() : mean.Log());
    }
}
