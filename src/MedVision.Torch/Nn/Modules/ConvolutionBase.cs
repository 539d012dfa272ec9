using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// What convolutions and transposed convolutions share: argument checks, hyper-parameters (one value per spatial
/// dimension, as PyTorch's <c>kernel_size</c>, <c>stride</c>, … tuples), and the weight and optional bias, initialised
/// as PyTorch does. The weight is (C_out, C_in/groups, k…) for a convolution and (C_in, C_out/groups, k…) for a
/// transposed one.
/// </summary>
public abstract class ConvolutionBase : Module<Tensor, Tensor>, IResettable
{
    private readonly long[] _kernelSize, _stride, _padding, _dilation, _outputPadding;

    private protected ConvolutionBase(bool transposed, int spatialDims, long inChannels, long outChannels, long[] kernelSize, long[]? stride,
        long[]? padding, long[]? dilation, long groups, bool bias, long[]? outputPadding, PaddingMode paddingMode)
    {
        if (spatialDims is < 1 or > 3)
            throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, $"{(transposed ? "transposed convolutions" : "convolutions")} have 1, 2 or 3 spatial dimensions");
        ArgumentNullException.ThrowIfNull(kernelSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        Guard.Defined(paddingMode);
        if (kernelSize.Length == 0) throw new ArgumentException($"kernelSize needs 1 or {spatialDims} values, got none.", nameof(kernelSize));
        _kernelSize = PerAxis(kernelSize, spatialDims, 1, 1, nameof(kernelSize));
        _stride = PerAxis(stride, spatialDims, 1, 1, nameof(stride));
        _padding = PerAxis(padding, spatialDims, 0, 0, nameof(padding));
        _dilation = PerAxis(dilation, spatialDims, 1, 1, nameof(dilation));
        _outputPadding = PerAxis(outputPadding, spatialDims, 0, 0, nameof(outputPadding));
        for (int i = 0; i < spatialDims; i++)
        {
            if (_outputPadding[i] > 0 && _outputPadding[i] >= _stride[i] && _outputPadding[i] >= _dilation[i])
                throw new ArgumentOutOfRangeException(nameof(outputPadding), _outputPadding[i], "output padding must be smaller than either stride or dilation");
        }
        if (transposed && paddingMode != PaddingMode.Constant)
            throw new ArgumentException($"Transposed convolutions pad with zeros only (PyTorch's padding_mode='zeros'), not {paddingMode}.", nameof(paddingMode));
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"in_channels ({inChannels}) and out_channels ({outChannels}) must both be divisible by groups ({groups}).");
        SpatialDims = spatialDims;
        InChannels = inChannels;
        OutChannels = outChannels;
        Groups = groups;
        PaddingMode = paddingMode;
        var shape = new long[spatialDims + 2];
        shape[0] = transposed ? inChannels : outChannels;
        shape[1] = transposed ? outChannels / groups : inChannels / groups;
        for (int i = 2; i < shape.Length; i++) shape[i] = _kernelSize[i - 2];
        DisposeIfThrows(() =>
        {
            var w = RegisterParameter("weight", Tensors.Empty(shape))!;
            var b = RegisterParameter("bias", bias ? Tensors.Empty(new[] { outChannels }) : null);
            Init.DefaultLinearOrConv(w, b);
        });
    }

    // One value per spatial dimension: null or empty gives the default, one value is used along every dimension.
    private static long[] PerAxis(long[]? values, int spatialDims, long fallback, long minimum, string name)
    {
        var v = Functional.Expand(values, spatialDims, fallback, name);
        foreach (var x in v)
            if (x < minimum) throw new ArgumentOutOfRangeException(name, x, $"{name} must be at least {minimum} along every dimension, got [{string.Join(", ", v)}].");
        return v.ToArray();
    }

    /// <summary>Number of spatial dimensions.</summary>
    public int SpatialDims { get; }
    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Kernel size along each spatial dimension (PyTorch's <c>kernel_size</c> tuple).</summary>
    public IReadOnlyList<long> KernelSize => _kernelSize;
    /// <summary>Stride along each spatial dimension.</summary>
    public IReadOnlyList<long> Stride => _stride;
    /// <summary>Padding on both sides of each spatial dimension.</summary>
    public IReadOnlyList<long> Padding => _padding;
    /// <summary>Dilation along each spatial dimension.</summary>
    public IReadOnlyList<long> Dilation => _dilation;
    /// <summary>Groups.</summary>
    public long Groups { get; }
    /// <summary>
    /// What the padding holds: zeros (<see cref="PaddingMode.Constant"/>, PyTorch's <c>padding_mode='zeros'</c>),
    /// reflection, replication or circular wrap-around of the input (convolutions only).
    /// </summary>
    public PaddingMode PaddingMode { get; }
    /// <summary>The weight.</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>The bias (C_out), or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    private protected long[] StrideArray => _stride;
    private protected long[] PaddingArray => _padding;
    private protected long[] DilationArray => _dilation;
    private protected long[] OutputPaddingArray => _outputPadding;

    /// <summary>Formats per-axis values as PyTorch prints them: (3, 3).</summary>
    private protected static string Tuple(IReadOnlyList<long> values)
        => values.Count == 1 ? $"({values[0].ToString(CultureInfo.InvariantCulture)},)" : $"({string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))})";

    /// <summary>The options as PyTorch's <c>extra_repr</c> prints them: defaults left out, per-axis values as tuples.</summary>
    protected override string ExtraRepr()
    {
        var s = new System.Text.StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{InChannels}, {OutChannels}, kernel_size={Tuple(KernelSize)}, stride={Tuple(Stride)}");
        if (_padding.Any(v => v != 0)) s.Append(", padding=").Append(Tuple(Padding));
        if (_dilation.Any(v => v != 1)) s.Append(", dilation=").Append(Tuple(Dilation));
        if (_outputPadding.Any(v => v != 0)) s.Append(", output_padding=").Append(Tuple(_outputPadding));
        if (Groups != 1) s.Append(CultureInfo.InvariantCulture, $", groups={Groups}");
        if (Bias is null) s.Append(", bias=False");
        if (PaddingMode != PaddingMode.Constant) s.Append(", padding_mode=").Append(PaddingMode.ToString().ToLowerInvariant());
        return s.ToString();
    }

    /// <inheritdoc />
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        Init.DefaultLinearOrConv(Weight, Bias);
    }

    /// <summary>Broadcasts a scalar hyper-parameter of the scalar constructors.</summary>
    private protected static long[] One(long value) => new[] { value };
}
