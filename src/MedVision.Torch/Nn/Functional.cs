using MedVision.Torch.Native;

namespace MedVision.Torch.Nn;

/// <summary>
/// Stateless neural-network operations (PyTorch's torch.nn.functional), with PyTorch's semantics and argument order.
/// Shapes are written (N, C, L), (N, C, H, W) or (N, C, D, H, W).
/// </summary>
public static partial class Functional
{
    internal static long[] Expand(long[]? values, int n, long fallback, string name)
    {
        if (values is null || values.Length == 0) return Enumerable.Repeat(fallback, n).ToArray();
        if (values.Length == 1) return Enumerable.Repeat(values[0], n).ToArray();
        if (values.Length != n) throw new ArgumentException($"{name} needs 1 or {n} values, got {values.Length}.", name);
        return values;
    }

    private static void RequireRank(Tensor input, int rank, string op, string layout)
    {
        ArgumentNullException.ThrowIfNull(input);
        var d = input.Dim;
        if (d != rank) throw new ArgumentException($"{op} expects a {rank}-D input {layout}, got shape [{string.Join(", ", input.CachedShape)}].", nameof(input));
    }

    // ---------------------------------------------------------------- convolution

    /// <summary>Convolution over <paramref name="spatialDims"/> spatial dimensions (1, 2 or 3). Float32 CPU convolutions run through oneDNN (see <see cref="Tensors.RouteConvolutionsThroughOneDnn"/>).</summary>
    public static unsafe Tensor Convolution(Tensor input, Tensor weight, Tensor? bias, int spatialDims, long[]? stride = null, long[]? padding = null, long[]? dilation = null, long groups = 1)
    {
        if (spatialDims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "convolution supports 1, 2 or 3 spatial dimensions");
        ArgumentNullException.ThrowIfNull(weight);
        RequireRank(input, spatialDims + 2, $"conv{spatialDims}d", spatialDims switch { 1 => "(N, C, L)", 2 => "(N, C, H, W)", _ => "(N, C, D, H, W)" });
        CheckGroups(groups);
        var s = Expand(stride, spatialDims, 1, nameof(stride));
        var p = Expand(padding, spatialDims, 0, nameof(padding));
        var d = Expand(dilation, spatialDims, 1, nameof(dilation));
        fixed (long* ps = s, pp = p, pd = d)
        {
            var h = NativeMethods.mvt_conv(Tensor.NotNull(input).Handle, Tensor.NotNull(weight).Handle, Tensor.HandleOrZero(bias), ps, pp, pd, spatialDims, groups);
            if (h == IntPtr.Zero) throw new ArgumentException(TorchException.FromNative($"conv{spatialDims}d").Message);
            return Tensor.Wrap(h);
        }
    }

    // libtorch truncates groups to a 32-bit int on some paths and divides by it (2^32 ends the process with SIGFPE); the
    // shim checks too, for the callers that do not come through here.
    private static void CheckGroups(long groups)
    {
        if (groups is < 1 or > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"groups must be a positive number of channel groups, got {groups}");
    }

    /// <summary>1-D convolution of (N, C_in, L) by a (C_out, C_in/groups, k) weight.</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1)
        => Convolution(input, weight, bias, 1, new[] { stride }, new[] { padding }, new[] { dilation }, groups);

    /// <summary>2-D convolution of (N, C_in, H, W) by a (C_out, C_in/groups, kH, kW) weight.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1)
        => Convolution(input, weight, bias, 2, new[] { stride }, new[] { padding }, new[] { dilation }, groups);

    /// <summary>3-D convolution of (N, C_in, D, H, W) by a (C_out, C_in/groups, kD, kH, kW) weight.</summary>
    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1)
        => Convolution(input, weight, bias, 3, new[] { stride }, new[] { padding }, new[] { dilation }, groups);

    /// <summary>Transposed convolution ("deconvolution") over 1, 2 or 3 spatial dimensions; weight is (C_in, C_out/groups, k…).</summary>
    public static unsafe Tensor ConvTranspose(Tensor input, Tensor weight, Tensor? bias, int spatialDims, long[]? stride = null, long[]? padding = null, long[]? outputPadding = null, long groups = 1, long[]? dilation = null)
    {
        if (spatialDims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "transposed convolution supports 1, 2 or 3 spatial dimensions");
        ArgumentNullException.ThrowIfNull(weight);
        RequireRank(input, spatialDims + 2, $"conv_transpose{spatialDims}d", "(N, C, …)");
        var s = Expand(stride, spatialDims, 1, nameof(stride));
        var p = Expand(padding, spatialDims, 0, nameof(padding));
        var op = Expand(outputPadding, spatialDims, 0, nameof(outputPadding));
        var d = Expand(dilation, spatialDims, 1, nameof(dilation));
        CheckGroups(groups);
        fixed (long* ps = s, pp = p, pop = op, pd = d)
        {
            var h = NativeMethods.mvt_conv_transpose(Tensor.NotNull(input).Handle, Tensor.NotNull(weight).Handle, Tensor.HandleOrZero(bias), ps, pp, pop, pd, spatialDims, groups);
            if (h == IntPtr.Zero) throw new ArgumentException(TorchException.FromNative($"conv_transpose{spatialDims}d").Message);
            return Tensor.Wrap(h);
        }
    }

    /// <summary>2-D transposed convolution.</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, long dilation = 1)
        => ConvTranspose(input, weight, bias, 2, new[] { stride }, new[] { padding }, new[] { outputPadding }, groups, new[] { dilation });

    /// <summary>3-D transposed convolution.</summary>
    public static Tensor ConvTranspose3d(Tensor input, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, long dilation = 1)
        => ConvTranspose(input, weight, bias, 3, new[] { stride }, new[] { padding }, new[] { outputPadding }, groups, new[] { dilation });

    /// <summary>y = x·Wᵀ + b for x of shape (…, in) and W of shape (out, in).</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var h = NativeMethods.mvt_linear(Tensor.NotNull(input).Handle, Tensor.NotNull(weight).Handle, Tensor.HandleOrZero(bias));
        if (h == IntPtr.Zero) throw new ArgumentException(TorchException.FromNative(() => $"linear: input [{string.Join(", ", input.CachedShape)}] against weight [{string.Join(", ", weight.CachedShape)}]").Message);
        return Tensor.Wrap(h);
    }

    // ---------------------------------------------------------------- normalisation

    /// <summary>
    /// Batch normalisation over the channel dimension (dim 1). In training mode uses batch statistics and updates the
    /// running statistics in place: running = (1 − momentum)·running + momentum·batch (unbiased variance).
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null, bool training = false, double momentum = 0.1, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!training && (runningMean is null || runningVar is null)) throw new ArgumentException("BatchNorm in evaluation mode needs running statistics.");
        return Tensor.Wrap(NativeMethods.mvt_batch_norm(Tensor.NotNull(input).Handle, Tensor.HandleOrZero(weight), Tensor.HandleOrZero(bias), Tensor.HandleOrZero(runningMean), Tensor.HandleOrZero(runningVar), training ? 1 : 0, momentum, eps));
    }

    /// <summary>Instance normalisation: per-sample, per-channel statistics over the spatial dimensions.</summary>
    public static Tensor InstanceNorm(Tensor input, Tensor? runningMean = null, Tensor? runningVar = null, Tensor? weight = null, Tensor? bias = null, bool useInputStats = true, double momentum = 0.1, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Tensor.Wrap(NativeMethods.mvt_instance_norm(Tensor.NotNull(input).Handle, Tensor.HandleOrZero(weight), Tensor.HandleOrZero(bias), Tensor.HandleOrZero(runningMean), Tensor.HandleOrZero(runningVar), useInputStats ? 1 : 0, momentum, eps));
    }

    /// <summary>Group normalisation over <paramref name="numGroups"/> groups of channels.</summary>
    public static Tensor GroupNorm(Tensor input, long numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Tensor.Wrap(NativeMethods.mvt_group_norm(Tensor.NotNull(input).Handle, numGroups, Tensor.HandleOrZero(weight), Tensor.HandleOrZero(bias), eps));
    }

    /// <summary>Layer normalisation over the trailing <paramref name="normalizedShape"/> dimensions.</summary>
    public static unsafe Tensor LayerNorm(Tensor input, long[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        fixed (long* p = normalizedShape)
            return Tensor.Wrap(NativeMethods.mvt_layer_norm(Tensor.NotNull(input).Handle, p, normalizedShape.Length, Tensor.HandleOrZero(weight), Tensor.HandleOrZero(bias), eps));
    }

    // ---------------------------------------------------------------- pooling

    /// <summary>Max pooling over 1, 2 or 3 spatial dimensions (stride defaults to the kernel size).</summary>
    public static unsafe Tensor MaxPool(Tensor input, int spatialDims, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(kernelSize);
        RequireRank(input, spatialDims + 2, $"max_pool{spatialDims}d", "(N, C, …)");
        var k = Expand(kernelSize, spatialDims, 1, nameof(kernelSize));
        var s = stride is null || stride.Length == 0 ? k : Expand(stride, spatialDims, 1, nameof(stride));
        var p = Expand(padding, spatialDims, 0, nameof(padding));
        var d = Expand(dilation, spatialDims, 1, nameof(dilation));
        fixed (long* pk = k, ps = s, pp = p, pd = d)
            return Tensor.Wrap(NativeMethods.mvt_max_pool(Tensor.NotNull(input).Handle, pk, ps, pp, pd, spatialDims, ceilMode ? 1 : 0));
    }

    /// <summary>2-D max pooling.</summary>
    public static Tensor MaxPool2d(Tensor input, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false)
        => MaxPool(input, 2, new[] { kernelSize }, new[] { stride ?? kernelSize }, new[] { padding }, new[] { dilation }, ceilMode);

    /// <summary>3-D max pooling.</summary>
    public static Tensor MaxPool3d(Tensor input, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false)
        => MaxPool(input, 3, new[] { kernelSize }, new[] { stride ?? kernelSize }, new[] { padding }, new[] { dilation }, ceilMode);

    /// <summary>Average pooling over 1, 2 or 3 spatial dimensions (stride defaults to the kernel size).</summary>
    public static unsafe Tensor AvgPool(Tensor input, int spatialDims, long[] kernelSize, long[]? stride = null, long[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    {
        ArgumentNullException.ThrowIfNull(kernelSize);
        RequireRank(input, spatialDims + 2, $"avg_pool{spatialDims}d", "(N, C, …)");
        var k = Expand(kernelSize, spatialDims, 1, nameof(kernelSize));
        var s = stride is null || stride.Length == 0 ? k : Expand(stride, spatialDims, 1, nameof(stride));
        var p = Expand(padding, spatialDims, 0, nameof(padding));
        fixed (long* pk = k, ps = s, pp = p)
            return Tensor.Wrap(NativeMethods.mvt_avg_pool(Tensor.NotNull(input).Handle, pk, ps, pp, spatialDims, ceilMode ? 1 : 0, countIncludePad ? 1 : 0));
    }

    /// <summary>2-D average pooling.</summary>
    public static Tensor AvgPool2d(Tensor input, long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true)
        => AvgPool(input, 2, new[] { kernelSize }, new[] { stride ?? kernelSize }, new[] { padding }, ceilMode, countIncludePad);

    /// <summary>3-D average pooling.</summary>
    public static Tensor AvgPool3d(Tensor input, long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true)
        => AvgPool(input, 3, new[] { kernelSize }, new[] { stride ?? kernelSize }, new[] { padding }, ceilMode, countIncludePad);

    /// <summary>Adaptive average pooling to a fixed output size over 1, 2 or 3 spatial dimensions.</summary>
    public static unsafe Tensor AdaptiveAvgPool(Tensor input, int spatialDims, long[] outputSize)
    {
        ArgumentNullException.ThrowIfNull(outputSize);
        RequireRank(input, spatialDims + 2, $"adaptive_avg_pool{spatialDims}d", "(N, C, …)");
        var o = Expand(outputSize, spatialDims, 1, nameof(outputSize));
        fixed (long* p = o) return Tensor.Wrap(NativeMethods.mvt_adaptive_pool(Tensor.NotNull(input).Handle, p, spatialDims, 0));
    }

    /// <summary>Adaptive max pooling to a fixed output size over 1, 2 or 3 spatial dimensions.</summary>
    public static unsafe Tensor AdaptiveMaxPool(Tensor input, int spatialDims, long[] outputSize)
    {
        ArgumentNullException.ThrowIfNull(outputSize);
        RequireRank(input, spatialDims + 2, $"adaptive_max_pool{spatialDims}d", "(N, C, …)");
        var o = Expand(outputSize, spatialDims, 1, nameof(outputSize));
        fixed (long* p = o) return Tensor.Wrap(NativeMethods.mvt_adaptive_pool(Tensor.NotNull(input).Handle, p, spatialDims, 1));
    }

    /// <summary>2-D adaptive average pooling to (outH, outW).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, long outputH, long outputW) => AdaptiveAvgPool(input, 2, new[] { outputH, outputW });

    /// <summary>3-D adaptive average pooling to (outD, outH, outW).</summary>
    public static Tensor AdaptiveAvgPool3d(Tensor input, long outputD, long outputH, long outputW) => AdaptiveAvgPool(input, 3, new[] { outputD, outputH, outputW });

    // ---------------------------------------------------------------- misc

    /// <summary>Zeroes elements with probability p during training and scales the rest by 1/(1−p).</summary>
    public static Tensor Dropout(Tensor input, double p = 0.5, bool training = true)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must lie in [0, 1]");
        return Tensor.Wrap(NativeMethods.mvt_dropout(Tensor.NotNull(input).Handle, p, training ? 1 : 0, 0));
    }

    /// <summary>Zeroes whole channels with probability p during training (Dropout2d/3d).</summary>
    public static Tensor FeatureDropout(Tensor input, double p = 0.5, bool training = true)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must lie in [0, 1]");
        return Tensor.Wrap(NativeMethods.mvt_dropout(Tensor.NotNull(input).Handle, p, training ? 1 : 0, 1));
    }

    /// <summary>‖x1 − x2 + eps‖_p along the last dimension.</summary>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p = 2.0, double eps = 1e-6, bool keepDim = false)
        => Tensor.Wrap(NativeMethods.mvt_pairwise_distance(Tensor.NotNull(x1).Handle, Tensor.NotNull(x2).Handle, p, eps, keepDim ? 1 : 0));

    /// <summary>Cosine similarity along <paramref name="dim"/>.</summary>
    public static Tensor CosineSimilarity(Tensor x1, Tensor x2, long dim = 1, double eps = 1e-8)
        => Tensor.Wrap(NativeMethods.mvt_cosine_similarity(Tensor.NotNull(x1).Handle, Tensor.NotNull(x2).Handle, dim, eps));

    /// <summary>Divides by the L_p norm along <paramref name="dim"/> (clamped below by eps).</summary>
    public static Tensor Normalize(Tensor input, double p = 2.0, long dim = 1, double eps = 1e-12)
        => Tensor.Wrap(NativeMethods.mvt_normalize(Tensor.NotNull(input).Handle, p, dim, eps));

    /// <summary>Resizes the spatial dimensions to <paramref name="size"/> (one entry per spatial dimension).</summary>
    public static unsafe Tensor Interpolate(Tensor input, long[] size, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(size);
        if (size.Length is < 1 or > 3) throw new ArgumentException("Interpolate takes 1, 2 or 3 output sizes.", nameof(size));
        if (size.Any(s => s <= 0)) throw new ArgumentException($"Output size [{string.Join(", ", size)}] must be positive.", nameof(size));
        if (input.Dim != size.Length + 2)
            throw new ArgumentException($"Interpolate to {size.Length} spatial sizes expects a {size.Length + 2}-D input, got shape [{string.Join(", ", input.CachedShape)}].", nameof(input));
        fixed (long* p = size) return Tensor.Wrap(NativeMethods.mvt_interpolate(Tensor.NotNull(input).Handle, p, size.Length, (int)Guard.Defined(mode), alignCorners ? 1 : 0));
    }

    /// <summary>
    /// Resizes the spatial dimensions by <paramref name="scaleFactor"/> (one factor per spatial dimension, or one for
    /// all): the output size is ⌊input · factor⌋, and the resampling uses the factors themselves, as
    /// <c>F.interpolate(x, scale_factor=…)</c> does (with <paramref name="recomputeScaleFactor"/>, the ratio of the sizes,
    /// as <c>recompute_scale_factor=True</c>).
    /// </summary>
    public static unsafe Tensor Interpolate(Tensor input, double[] scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false, bool recomputeScaleFactor = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(scaleFactor);
        int n = input.Dim - 2;
        if (n is < 1 or > 3) throw new ArgumentException($"Interpolate takes (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs, got shape [{string.Join(", ", input.CachedShape)}].", nameof(input));
        if (scaleFactor.Length != 1 && scaleFactor.Length != n)
            throw new ArgumentException($"scaleFactor needs 1 or {n} values for a {input.Dim}-D input, got {scaleFactor.Length}.", nameof(scaleFactor));
        if (scaleFactor.Any(f => !(f > 0) || !double.IsFinite(f)))
            throw new ArgumentOutOfRangeException(nameof(scaleFactor), $"Scale factors must be positive and finite, got [{string.Join(", ", scaleFactor)}].");
        var factors = scaleFactor.Length == n ? scaleFactor : Enumerable.Repeat(scaleFactor[0], n).ToArray();
        for (int i = 0; i < n; i++)
        {
            double size = Math.Floor(input.CachedShape[i + 2] * factors[i]);
            if (size < 1 || size > long.MaxValue / 2)
                throw new ArgumentOutOfRangeException(nameof(scaleFactor), $"Scale factor {factors[i]} gives an output size of {size} along spatial dimension {i} (input {input.CachedShape[i + 2]}).");
        }
        fixed (double* p = factors)
            return Tensor.Wrap(NativeMethods.mvt_interpolate_scale(input.Handle, p, n, (int)Guard.Defined(mode), alignCorners ? 1 : 0, recomputeScaleFactor ? 1 : 0));
    }

    /// <summary>Pads the last dimensions; <paramref name="pad"/> lists (before, after) pairs starting from the last dimension.</summary>
    public static unsafe Tensor Pad(Tensor input, long[] pad, PaddingMode mode = PaddingMode.Constant, double value = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(pad);
        if (pad.Length % 2 != 0) throw new ArgumentException("Padding needs (before, after) pairs: an even number of values.", nameof(pad));
        fixed (long* p = pad) return Tensor.Wrap(NativeMethods.mvt_pad(Tensor.NotNull(input).Handle, p, pad.Length, (int)Guard.Defined(mode), value));
    }

    /// <summary>Sampling grid for an affine transform: theta (N, 2, 3) for 2-D or (N, 3, 4) for 3-D, size (N, C, H, W) or (N, C, D, H, W).</summary>
    public static unsafe Tensor AffineGrid(Tensor theta, long[] size, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(size);
        fixed (long* p = size) return Tensor.Wrap(NativeMethods.mvt_affine_grid(Tensor.NotNull(theta).Handle, p, size.Length, alignCorners ? 1 : 0));
    }

    /// <summary>
    /// Samples <paramref name="input"/> (N, C, H, W) or (N, C, D, H, W) at the locations of <paramref name="grid"/>
    /// (N, H', W', 2) or (N, D', H', W', 3), in normalised coordinates [−1, 1] (torch.nn.functional.grid_sample).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A mode that is not a defined value (libtorch would silently use some other sampling).</exception>
    /// <exception cref="ArgumentException"><see cref="GridSampleMode.Bicubic"/> with a 3-D input.</exception>
    public static Tensor GridSample(Tensor input, Tensor grid, GridSampleMode mode = GridSampleMode.Bilinear, GridPaddingMode paddingMode = GridPaddingMode.Zeros, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(grid);
        Guard.Defined(mode);
        Guard.Defined(paddingMode);
        if (mode == GridSampleMode.Bicubic && input.Dim == 5)
            throw new ArgumentException("Bicubic grid sampling supports 2-D inputs (N, C, H, W) only; use Bilinear for volumes.", nameof(mode));
        return Tensor.Wrap(NativeMethods.mvt_grid_sample(input.Handle, grid.Handle, (int)mode, (int)paddingMode, alignCorners ? 1 : 0));
    }

    /// <summary>ELU activation.</summary>
    public static Tensor Elu(Tensor input, double alpha = 1.0) => Tensor.Wrap(NativeMethods.mvt_activation((int)ActivationOp.Elu, Tensor.NotNull(input).Handle, alpha, 0));
    /// <summary>GELU activation (exact erf form).</summary>
    public static Tensor Gelu(Tensor input) => Tensor.Wrap(NativeMethods.mvt_activation((int)ActivationOp.Gelu, Tensor.NotNull(input).Handle, 0, 0));
    /// <summary>SiLU (swish) activation.</summary>
    public static Tensor Silu(Tensor input) => Tensor.Wrap(NativeMethods.mvt_activation((int)ActivationOp.Silu, Tensor.NotNull(input).Handle, 0, 0));
    /// <summary>Softplus activation.</summary>
    public static Tensor Softplus(Tensor input, double beta = 1, double threshold = 20) => Tensor.Wrap(NativeMethods.mvt_activation((int)ActivationOp.Softplus, Tensor.NotNull(input).Handle, beta, threshold));
    /// <summary>log(sigmoid(x)), computed stably.</summary>
    public static Tensor LogSigmoid(Tensor input) => Tensor.Wrap(NativeMethods.mvt_activation((int)ActivationOp.LogSigmoid, Tensor.NotNull(input).Handle, 0, 0));
    /// <summary>Hardtanh: the input clamped to [<paramref name="minValue"/>, <paramref name="maxValue"/>] (F.hardtanh).</summary>
    public static Tensor Hardtanh(Tensor input, double minValue = -1, double maxValue = 1)
    {
        if (!(minValue <= maxValue)) throw new ArgumentException($"minValue ({minValue}) must not exceed maxValue ({maxValue}).", nameof(minValue));
        return Tensor.Wrap(NativeMethods.mvt_activation((int)ActivationOp.Hardtanh, Tensor.NotNull(input).Handle, minValue, maxValue));
    }
    /// <summary>ReLU6: min(max(0, x), 6) (F.relu6).</summary>
    public static Tensor Relu6(Tensor input) => Tensor.Wrap(NativeMethods.mvt_activation((int)ActivationOp.Relu6, Tensor.NotNull(input).Handle, 0, 0));
    /// <summary>
    /// PReLU: x where x ≥ 0, weight · x elsewhere (F.prelu); <paramref name="weight"/> holds one slope, or one per channel
    /// (dimension 1 of the input).
    /// </summary>
    public static Tensor PRelu(Tensor input, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Dim != 1) throw new ArgumentException($"The PReLU weight must be 1-D (one slope, or one per channel), got shape [{string.Join(", ", weight.CachedShape)}].", nameof(weight));
        long slopes = weight.CachedShape[0];
        using var scope = Tensors.NewDisposeScope();
        Tensor w = weight;
        if (slopes != 1)
        {
            if (input.Dim < 2 || input.CachedShape[1] != slopes)
                throw new ArgumentException($"The PReLU weight has {slopes} slopes but the input has {(input.Dim < 2 ? "no channel dimension" : $"{input.CachedShape[1]} channels")} (shape [{string.Join(", ", input.CachedShape)}]).", nameof(input));
            var shape = Enumerable.Repeat(1L, (int)input.Dim).ToArray();
            shape[1] = slopes;
            w = weight.View(shape);
        }
        // x > 0 chooses x, as PyTorch's prelu (whose gradient at 0 is the slope's)
        using var positive = input.Gt(0);
        return scope.MoveToOuter(Tensors.Where(positive, input, w * input));
    }
    /// <summary>Leaky ReLU.</summary>
    public static Tensor LeakyRelu(Tensor input, double negativeSlope = 0.01) => Tensor.NotNull(input).LeakyRelu(negativeSlope);
    /// <summary>ReLU.</summary>
    public static Tensor Relu(Tensor input) => Tensor.NotNull(input).Relu();
    /// <summary>Softmax along a dimension.</summary>
    public static Tensor Softmax(Tensor input, long dim) => Tensor.NotNull(input).Softmax(dim);
    /// <summary>Log-softmax along a dimension.</summary>
    public static Tensor LogSoftmax(Tensor input, long dim) => Tensor.NotNull(input).LogSoftmax(dim);
}
