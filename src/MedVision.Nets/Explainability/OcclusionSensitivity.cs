using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Occlusion sensitivity (Zeiler and Fergus, ECCV 2014; MONAI's <c>OcclusionSensitivity</c>): a patch of the input is
/// replaced by a fill value at every position of a sliding window and the drop in the target class's probability is
/// recorded; each pixel's value is the mean drop over the patches that cover it. It needs no gradients and no knowledge
/// of the architecture, so it explains any classifier (multi-input networks through a function), at the cost of one
/// forward pass per patch position.
/// </summary>
/// <remarks>
/// Positive values mark regions whose occlusion lowers the class's probability (evidence for the class); negative
/// ones regions whose occlusion raises it. The fill value is in the model's input space: with inputs scaled to
/// [−1, 1], the default 0 is mid-grey. The model must be in evaluation mode.
/// </remarks>
public sealed class OcclusionSensitivity
{
    private readonly Func<Tensor, Tensor> _forward;
    private readonly Module? _model;

    /// <summary>Occlusion maps for a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)).</param>
    /// <param name="patchSize">The occluding patch per spatial dimension: (H, W) or (D, H, W).</param>
    /// <param name="stride">The window's step per spatial dimension (default: the patch size, non-overlapping patches).</param>
    /// <param name="fillValue">What the patch is filled with, in the model's input space.</param>
    /// <param name="batchSize">Occluded copies evaluated per forward pass.</param>
    public OcclusionSensitivity(Module<Tensor, Tensor> model, int[] patchSize, int[]? stride = null, double fillValue = 0, int batchSize = 64)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Call, patchSize, stride, fillValue, batchSize)
    {
        _model = model;
        if (Heads.CoralHead.Ends(model)) _score = FaithfulnessScore.CoralGrade;   // its grades' probabilities, not a softmax of its cumulative logits
    }

    /// <summary>Occlusion maps for the logits (N, classes) a function computes from an input batch.</summary>
    /// <inheritdoc cref="OcclusionSensitivity(Module{Tensor, Tensor}, int[], int[], double, int)"/>
    public OcclusionSensitivity(Func<Tensor, Tensor> forward, int[] patchSize, int[]? stride = null, double fillValue = 0, int batchSize = 64)
    {
        _forward = forward ?? throw new ArgumentNullException(nameof(forward));
        ArgumentNullException.ThrowIfNull(patchSize);
        if (patchSize.Length is not (2 or 3) || patchSize.Any(p => p < 1))
            throw new ArgumentException($"The patch size must give 2 or 3 positive sizes, (H, W) or (D, H, W); got ({string.Join(", ", patchSize)}).", nameof(patchSize));
        stride ??= patchSize;
        if (stride.Length != patchSize.Length || stride.Any(s => s < 1))
            throw new ArgumentException($"The stride must give {patchSize.Length} positive steps; got ({string.Join(", ", stride)}).", nameof(stride));
        if (!double.IsFinite(fillValue)) throw new ArgumentOutOfRangeException(nameof(fillValue), fillValue, "The fill value must be finite.");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        PatchSize = patchSize.ToArray();
        Stride = stride.ToArray();
        FillValue = fillValue;
        BatchSize = batchSize;
    }

    /// <summary>The occluding patch per spatial dimension.</summary>
    public IReadOnlyList<int> PatchSize { get; }

    /// <summary>The window's step per spatial dimension.</summary>
    public IReadOnlyList<int> Stride { get; }

    /// <summary>The value the patch is filled with.</summary>
    public double FillValue { get; }

    /// <summary>Occluded copies per forward pass.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// The probability whose drop is mapped: <see cref="FaithfulnessScore.Softmax"/> (the default) for single-label
    /// classifiers, <see cref="FaithfulnessScore.Sigmoid"/> for multi-label ones (each label's own sigmoid),
    /// <see cref="FaithfulnessScore.CoralGrade"/> for a CORAL head, whose K − 1 cumulative logits give K grades'
    /// probabilities (a softmax over them would not move when a patch changes the severity score, and every map would
    /// be blank; the default for a model that ends in a CORAL head, and the only score allowed for one). With
    /// <c>CoralGrade</c> a sample's default target is its median grade, CORAL's prediction.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An undefined value.</exception>
    public FaithfulnessScore Score
    {
        get => _score;
        init => _score = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown score.");
    }

    private readonly FaithfulnessScore _score = FaithfulnessScore.Softmax;   // CoralGrade for a model that ends in a CORAL head

    /// <summary>
    /// Computes one map per sample of <paramref name="input"/> (N, C, H, W) or (N, C, D, H, W): (N, 1, *spatial) on
    /// the input's device, float32, the mean drop of the target class's probability (<see cref="Score"/>) over the
    /// patches covering each position. <see cref="ClassActivationMaps.Scores"/> holds each sample's unoccluded probability.
    /// </summary>
    /// <param name="input">The preprocessed batch.</param>
    /// <param name="targetClasses">The class (a CORAL head's grade) per sample; null for each sample's predicted class
    /// (the most probable one; a CORAL head's median grade).</param>
    public ClassActivationMaps Compute(Tensor input, IReadOnlyList<long>? targetClasses = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        int dims = PatchSize.Count;
        if (input.Dim != dims + 2)
            throw new ArgumentException($"A {dims}-D patch needs a batch (N, C, {(dims == 2 ? "H, W" : "D, H, W")}); got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        if (!input.ScalarType.CanHold(FillValue))
            throw new ArgumentException($"The fill value {FillValue} is not a value of the input's type, {input.ScalarType}.", nameof(input));
        if (_model?.Training ?? false)
            throw new InvalidOperationException("OcclusionSensitivity needs the model in evaluation mode (call model.Eval()).");
        if (_model is not null && Score != FaithfulnessScore.CoralGrade && Heads.CoralHead.Ends(_model))
            throw new InvalidOperationException($"The model ends in a CORAL head, whose cumulative logits all move with one severity score: a {Score} over them would map nothing. Leave Score at CoralGrade (its default for such a model).");
        long n = input.Size(0);
        if (targetClasses is not null && targetClasses.Count != n)
            throw new ArgumentException($"{targetClasses.Count} target classes were given for a batch of {n}.", nameof(targetClasses));
        var spatial = input.Shape.Skip(2).Select(s => (int)s).ToArray();
        var windows = Windows(spatial);
        int plane = spatial.Aggregate(1, (a, b) => a * b);
        var maps = new float[n * plane];
        var classes = new long[n];
        var baselines = new float[n];

        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        for (int i = 0; i < n; i++)
        {
            var sample = input.Narrow(0, i, 1);
            var probabilities = Probabilities(sample);
            long k = probabilities.Size(1);
            var baseline = probabilities.Select(0, 0).To(ScalarType.Float32, Device.Cpu).ToArray<float>();
            long target = targetClasses?[i] ?? (Score == FaithfulnessScore.CoralGrade ? MedianGrade(baseline) : Array.IndexOf(baseline, baseline.Max()));
            GradCam.CheckTarget(target, k, i, nameof(targetClasses));
            classes[i] = target;
            baselines[i] = baseline[target];
            var sum = new double[plane];
            var count = new int[plane];
            for (int start = 0; start < windows.Count; start += BatchSize)
            {
                int b = Math.Min(BatchSize, windows.Count - start);
                using var chunkScope = Tensors.NewDisposeScope();
                var copies = Tensors.Cat(Enumerable.Repeat(sample, b).ToArray());
                for (int w = 0; w < b; w++)
                {
                    var region = copies.Select(0, w);
                    var (offsets, sizes) = windows[start + w];
                    for (int d = 0; d < dims; d++) region = region.Narrow(d + 1, offsets[d], sizes[d]);
                    region.FillInPlace(FillValue);
                }
                var scores = Probabilities(copies).Select(1, target).To(ScalarType.Float32, Device.Cpu).ToArray<float>();
                for (int w = 0; w < b; w++) Accumulate(sum, count, spatial, windows[start + w], baselines[i] - scores[w]);
            }
            for (int p = 0; p < plane; p++) maps[(i * plane) + p] = count[p] > 0 ? (float)(sum[p] / count[p]) : 0f;
        }
        var shape = new long[] { n, 1 }.Concat(spatial.Select(s => (long)s)).ToArray();
        var result = Tensors.FromSpan<float>(maps, shape, input.Device);
        return new ClassActivationMaps(scope.MoveToOuter(result), classes, baselines);
    }

    private Tensor Probabilities(Tensor batch)
    {
        var logits = _forward(batch);
        if (logits.Dim != 2 || logits.Size(0) != batch.Size(0))
            throw new InvalidOperationException($"The model's output has shape [{string.Join(", ", logits.Shape)}]; occlusion needs logits ({batch.Size(0)}, classes).");
        return Score switch
        {
            FaithfulnessScore.Sigmoid => logits.Sigmoid(),
            FaithfulnessScore.CoralGrade => Losses.OrdinalDecoding.ToClassProbabilities(logits),
            _ => logits.Softmax(1),
        };
    }

    // CORAL's prediction from one row of grade probabilities: the median grade.
    private static long MedianGrade(float[] probabilities)
    {
        var row = new double[1, probabilities.Length];
        for (int k = 0; k < probabilities.Length; k++) row[0, k] = probabilities[k];
        return Losses.OrdinalDecoding.MedianGrades(row)[0];
    }

    // Every window position: offsets 0, s, 2s, … and, when the last window stops short of the edge, one more flush
    // with it, so that each position is covered; patches larger than the input are clipped to it.
    private List<(int[] Offsets, int[] Sizes)> Windows(int[] spatial)
    {
        var perDim = new List<int[]>();
        for (int d = 0; d < spatial.Length; d++)
        {
            int size = spatial[d], patch = Math.Min(PatchSize[d], size);
            var starts = new List<int>();
            for (long s = 0; s + patch <= size; s += Stride[d]) starts.Add((int)s); // long: a stride near int.MaxValue must not wrap
            if (starts[^1] + patch < size) starts.Add(size - patch);
            perDim.Add(starts.ToArray());
        }
        var windows = new List<(int[], int[])>();
        void Recurse(int d, int[] offsets)
        {
            if (d == spatial.Length)
            {
                windows.Add((offsets.ToArray(), offsets.Select((_, j) => Math.Min(PatchSize[j], spatial[j])).ToArray()));
                return;
            }
            foreach (var s in perDim[d])
            {
                offsets[d] = s;
                Recurse(d + 1, offsets);
            }
        }
        Recurse(0, new int[spatial.Length]);
        return windows;
    }

    private static void Accumulate(double[] sum, int[] count, int[] spatial, (int[] Offsets, int[] Sizes) window, double drop)
    {
        // Row-major over (D,) H, W: iterate the window's positions.
        int dims = spatial.Length;
        var index = new int[dims];
        while (true)
        {
            int flat = 0;
            for (int d = 0; d < dims; d++) flat = (flat * spatial[d]) + window.Offsets[d] + index[d];
            sum[flat] += drop;
            count[flat]++;
            int k = dims - 1;
            while (k >= 0 && ++index[k] == window.Sizes[k]) index[k--] = 0;
            if (k < 0) return;
        }
    }
}
