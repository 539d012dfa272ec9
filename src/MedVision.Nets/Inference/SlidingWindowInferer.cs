using MedVision.Torch;
using MedVision.Torch.Nn;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Nets.Inference;

/// <summary>How the outputs of overlapping windows are blended (MONAI's <c>BlendMode</c>).</summary>
public enum WindowBlending
{
    /// <summary>Every voxel of a window counts equally: overlaps are plain averages.</summary>
    Constant,

    /// <summary>
    /// Voxels near a window's centre count more (a Gaussian with standard deviation <c>sigmaScale × window size</c> per
    /// axis; weights below 0.001 are raised to it, as MONAI does), which hides the seams that border effects of a
    /// network leave between windows.
    /// </summary>
    Gaussian,
}

/// <summary>
/// Sliding-window inference (MONAI's <c>sliding_window_inference</c>): runs a network that produces a dense output
/// (synthesis, segmentation, denoising) on overlapping windows of an image or volume too large to pass at once, and
/// blends the window outputs into one result of the input's spatial size. Windows are placed as MONAI places them
/// (<see cref="WindowStarts"/>); inputs smaller than a window are padded and the padding is cropped off again.
/// </summary>
/// <remarks>
/// The network must map a batch of windows (B, C, *window) to (B, C', *window): any number of output channels, the
/// window's spatial size. Windows run <see cref="WindowBatchSize"/> at a time on the input's device; the result is
/// accumulated in the network output's dtype on the same device, so memory stays bounded by the input, the output and
/// one batch of windows. Gradients are recorded when the caller records them; wrap the call in
/// <c>Tensors.NoGrad()</c> for inference. The instance holds only settings and can be shared by threads.
/// </remarks>
public sealed class SlidingWindowInferer
{
    /// <summary>Creates an inferer.</summary>
    /// <param name="windowSize">The window's spatial size: (H, W) for images, (D, H, W) for volumes.</param>
    /// <param name="overlap">The fraction of a window shared with its neighbour along each axis, in [0, 1).</param>
    /// <param name="windowBatchSize">How many windows one network call takes.</param>
    /// <param name="blending">How overlapping outputs are weighted.</param>
    /// <param name="sigmaScale">The Gaussian's standard deviation as a fraction of the window size (Gaussian blending).</param>
    /// <param name="padding">How inputs smaller than the window are padded (reflection adds at most an axis's size − 1 on a side, wrap-around at most its size).</param>
    /// <param name="padValue">The value of constant padding.</param>
    public SlidingWindowInferer(IReadOnlyList<int> windowSize, double overlap = 0.25, int windowBatchSize = 1,
        WindowBlending blending = WindowBlending.Constant, double sigmaScale = 0.125, PaddingMode padding = PaddingMode.Constant, double padValue = 0)
    {
        ArgumentNullException.ThrowIfNull(windowSize);
        if (windowSize.Count is not (2 or 3)) throw new ArgumentException($"The window must be 2-D (H, W) or 3-D (D, H, W), not {windowSize.Count}-D.", nameof(windowSize));
        if (windowSize.Any(s => s < 1)) throw new ArgumentOutOfRangeException(nameof(windowSize), $"Window sizes must be positive: [{string.Join(", ", windowSize)}].");
        if (!(overlap >= 0 && overlap < 1)) throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "The overlap must be in [0, 1).");
        if (windowBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(windowBatchSize), windowBatchSize, "At least one window per network call.");
        if (!Enum.IsDefined(blending)) throw new ArgumentOutOfRangeException(nameof(blending), blending, "Unknown blending.");
        if (!(sigmaScale > 0) || double.IsInfinity(sigmaScale)) throw new ArgumentOutOfRangeException(nameof(sigmaScale), sigmaScale, "The Gaussian's scale must be positive.");
        if (!Enum.IsDefined(padding)) throw new ArgumentOutOfRangeException(nameof(padding), padding, "Unknown padding mode.");
        if (!double.IsFinite(padValue)) throw new ArgumentOutOfRangeException(nameof(padValue), padValue, "The padding value must be finite.");
        WindowSize = windowSize.ToArray();
        Overlap = overlap;
        WindowBatchSize = windowBatchSize;
        Blending = blending;
        SigmaScale = sigmaScale;
        Padding = padding;
        PadValue = padValue;
    }

    /// <summary>The window's spatial size.</summary>
    public IReadOnlyList<int> WindowSize { get; }

    /// <summary>The fraction of a window shared with its neighbour along each axis.</summary>
    public double Overlap { get; }

    /// <summary>How many windows one network call takes.</summary>
    public int WindowBatchSize { get; }

    /// <summary>How overlapping outputs are weighted.</summary>
    public WindowBlending Blending { get; }

    /// <summary>The Gaussian's standard deviation as a fraction of the window size.</summary>
    public double SigmaScale { get; }

    /// <summary>How inputs smaller than the window are padded.</summary>
    public PaddingMode Padding { get; }

    /// <summary>The value of constant padding.</summary>
    public double PadValue { get; }

    /// <summary>Runs <paramref name="network"/> (through <see cref="Module{TInput, TOutput}.Call"/>) window by window over <paramref name="input"/>.</summary>
    public Tensor Infer(Tensor input, Module<Tensor, Tensor> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return Infer(input, network.Call);
    }

    /// <summary>
    /// Runs <paramref name="network"/> window by window over <paramref name="input"/> (N, C, H, W) or (N, C, D, H, W)
    /// and returns the blended output (N, C', H, W) or (N, C', D, H, W), in the caller's dispose scope.
    /// </summary>
    public Tensor Infer(Tensor input, Func<Tensor, Tensor> network)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(network);
        int dims = WindowSize.Count;
        if (input.Dim != dims + 2)
            throw new ArgumentException($"A {dims}-D window needs a {dims + 2}-D input (N, C, {(dims == 3 ? "D, " : "")}H, W), not [{string.Join(", ", input.Shape)}].", nameof(input));
        var shape = input.Shape;
        if (shape[0] < 1 || shape.Skip(1).Any(s => s < 1)) throw new ArgumentException($"The input [{string.Join(", ", shape)}] is empty.", nameof(input));
        var spatial = shape.Skip(2).Select(s => (int)s).ToArray();

        // pad axes shorter than the window: half before, the rest after (as MONAI does)
        var before = new int[dims];
        var padded = new int[dims];
        var pads = new long[2 * dims];
        for (int d = 0; d < dims; d++)
        {
            int missing = Math.Max(WindowSize[d] - spatial[d], 0);
            before[d] = missing / 2;
            padded[d] = spatial[d] + missing;
            // F.Pad takes (before, after) pairs from the last axis backwards
            pads[2 * (dims - 1 - d)] = before[d];
            pads[2 * (dims - 1 - d) + 1] = missing - before[d];
            // Reflection cannot reach further than the axis minus its edge, wrapping not more than once around it.
            int reach = Padding == PaddingMode.Reflect ? spatial[d] - 1 : Padding == PaddingMode.Circular ? spatial[d] : int.MaxValue;
            if (missing - before[d] > reach)
                throw new ArgumentException(
                    $"{Padding} padding of axis {d} (size {spatial[d]}) to the window's {WindowSize[d]} needs {missing - before[d]} values on one side; it can add at most {reach}. Use constant or replicate padding, or a smaller window.",
                    nameof(input));
        }
        if (Padding == PaddingMode.Constant && pads.Any(p => p > 0) && !input.ScalarType.CanHold(PadValue))
            throw new ArgumentException($"The padding value {PadValue} is not a value of the input's type, {input.ScalarType}.", nameof(input));
        var starts = WindowStarts(padded, WindowSize, Overlap);

        using var scope = Tensors.NewDisposeScope();
        var source = pads.Any(p => p > 0) ? F.Pad(input, pads, Padding, PadValue) : input;
        var results = new List<Tensor>();
        for (long n = 0; n < shape[0]; n++)
            results.Add(InferOne(source.Narrow(0, n, 1), starts, padded, before, spatial, network));
        var result = results.Count == 1 ? results[0] : Tensors.Cat(results, 0);
        return scope.MoveToOuter(result);
    }

    // One image (1, C, *padded): windows in batches, outputs weighted into an accumulator, then normalised and cropped.
    private Tensor InferOne(Tensor image, IReadOnlyList<int[]> starts, int[] padded, int[] before, int[] spatial, Func<Tensor, Tensor> network)
    {
        int dims = WindowSize.Count;
        Tensor? sum = null, weightSum = null, importance = null;
        for (int first = 0; first < starts.Count; first += WindowBatchSize)
        {
            int count = Math.Min(WindowBatchSize, starts.Count - first);
            using var batchScope = Tensors.NewDisposeScope();
            var windows = Enumerable.Range(first, count).Select(i => Window(image, starts[i])).ToList();
            var batch = count == 1 ? windows[0] : Tensors.Cat(windows, 0);
            var output = network(batch) ?? throw new InvalidOperationException("The network returned null.");
            var outShape = output.Shape;
            if (outShape.Length != dims + 2 || outShape[0] != count || !outShape.Skip(2).Select(s => (int)s).SequenceEqual(WindowSize))
                throw new InvalidOperationException(
                    $"The network mapped a batch of windows [{string.Join(", ", batch.Shape)}] to [{string.Join(", ", outShape)}]; sliding-window inference needs [{count}, C', {string.Join(", ", WindowSize)}] (the windows' spatial size).");
            if (sum is null)
            {
                var accumulatorShape = new long[] { 1, outShape[1] }.Concat(padded.Select(s => (long)s)).ToArray();
                sum = batchScope.MoveToOuter(Tensors.Zeros(accumulatorShape, output.ScalarType, output.Device));
                weightSum = batchScope.MoveToOuter(Tensors.Zeros(new long[] { 1, 1 }.Concat(padded.Select(s => (long)s)).ToArray(), output.ScalarType, output.Device));
                importance = batchScope.MoveToOuter(ImportanceMap(output.ScalarType, output.Device));
            }
            else if (outShape[1] != sum.Size(1))
                throw new InvalidOperationException($"The network returned {outShape[1]} channels for one batch of windows and {sum.Size(1)} for another.");
            var weighted = output * importance!;
            for (int i = 0; i < count; i++)
            {
                Window(sum, starts[first + i]).AddInPlace(weighted.Narrow(0, i, 1));
                Window(weightSum!, starts[first + i]).AddInPlace(importance!);
            }
        }
        var blended = sum! / weightSum!;
        for (int d = 0; d < dims; d++)
            if (spatial[d] != padded[d]) blended = blended.Narrow(d + 2, before[d], spatial[d]);
        return blended;
    }

    private Tensor Window(Tensor t, int[] start)
    {
        var w = t;
        for (int d = 0; d < start.Length; d++) w = w.Narrow(d + 2, start[d], WindowSize[d]);
        return w;
    }

    // Weights of a Gaussian window are raised to at least this (as MONAI does): far from the centre of a narrow Gaussian
    // they underflow, and a weight near float32's smallest value makes output × weight lose all its digits.
    private const double MinimumWeight = 1e-3;

    // (1, 1, *window) weights: ones, or a separable Gaussian scaled to a maximum of 1, raised to MinimumWeight.
    private Tensor ImportanceMap(ScalarType type, Device device)
    {
        var shape = new long[] { 1, 1 }.Concat(WindowSize.Select(s => (long)s)).ToArray();
        if (Blending == WindowBlending.Constant) return Tensors.Ones(shape, type, device);
        // One Gaussian per axis, scaled to a maximum of 1; the window's weights are their outer product. A σ so small
        // that every weight of an axis underflows is a spike on the centre (the limit of σ → 0).
        using var scope = Tensors.NewDisposeScope();
        Tensor? product = null;
        for (int d = 0; d < WindowSize.Count; d++)
        {
            int size = WindowSize[d];
            double centre = (size - 1) / 2.0, sigma = SigmaScale * size;
            var axis = Enumerable.Range(0, size).Select(i => Math.Exp(-0.5 * Math.Pow((i - centre) / sigma, 2))).ToArray();
            double max = axis.Max();
            for (int i = 0; i < size; i++) axis[i] = max > 0 ? axis[i] / max : Math.Abs(i - centre) <= 0.5 ? 1 : 0;
            var axisShape = Enumerable.Repeat(1L, WindowSize.Count + 2).ToArray();
            axisShape[d + 2] = size;
            var weights = Tensors.FromArray(axis, axisShape);
            product = product is null ? weights : product * weights;
        }
        return scope.MoveToOuter(product!.Clamp(min: MinimumWeight).To(type, device));
    }

    /// <summary>
    /// The windows' start offsets over an image of <paramref name="imageSize"/> (each at least the window), in
    /// row-major order (MONAI's <c>dense_patch_slices</c>): along each axis windows step by
    /// <c>⌊window × (1 − overlap)⌋</c> (at least 1; the whole axis when the window spans it), and the last window is
    /// moved back to end at the image's edge.
    /// </summary>
    public static IReadOnlyList<int[]> WindowStarts(IReadOnlyList<int> imageSize, IReadOnlyList<int> windowSize, double overlap)
    {
        ArgumentNullException.ThrowIfNull(imageSize);
        ArgumentNullException.ThrowIfNull(windowSize);
        if (imageSize.Count != windowSize.Count) throw new ArgumentException($"The image has {imageSize.Count} axes and the window {windowSize.Count}.", nameof(windowSize));
        if (!(overlap >= 0 && overlap < 1)) throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "The overlap must be in [0, 1).");
        var perAxis = new List<int[]>();
        for (int d = 0; d < imageSize.Count; d++)
        {
            int image = imageSize[d], window = windowSize[d];
            if (window < 1 || image < window)
                throw new ArgumentException($"Axis {d}: the window ({window}) must be positive and no larger than the image ({image}); pad the image first.", nameof(windowSize));
            int interval = window == image ? window : Math.Max((int)(window * (1 - overlap)), 1);
            var axisStarts = new List<int>();
            for (long start = 0; ; start += interval) // long: near int.MaxValue, start + window must not wrap
            {
                axisStarts.Add((int)Math.Min(start, image - window));
                if (start + window >= image) break;
            }
            perAxis.Add(axisStarts.ToArray());
        }
        var result = new List<int[]> { Array.Empty<int>() };
        foreach (var axis in perAxis)
            result = result.SelectMany(prefix => axis.Select(s => prefix.Append(s).ToArray())).ToList();
        return result;
    }
}
