using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Max or average pooling over 1, 2 or 3 spatial dimensions (common code of MaxPool1d/2d/3d and AvgPool1d/2d/3d).
/// Window size, stride, padding and dilation have one value per spatial dimension, as PyTorch's tuples.
/// </summary>
public class Pooling : Module<Tensor, Tensor>
{
    private readonly long[] _kernelSize, _stride, _padding, _dilation;

    /// <summary>Creates the layer with the same window along every spatial dimension; stride defaults to the kernel size.</summary>
    public Pooling(bool max, int spatialDims, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false, bool countIncludePad = true)
        : this(max, spatialDims, new[] { kernelSize }, stride is long s ? new[] { s } : null, new[] { padding }, new[] { dilation }, ceilMode, countIncludePad)
    {
    }

    /// <summary>
    /// Creates the layer with per-dimension sizes: each array holds one value per spatial dimension, or one for all;
    /// a null stride is the kernel size (PyTorch's default), null padding 0 and null dilation 1.
    /// </summary>
    public Pooling(bool max, int spatialDims, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false, bool countIncludePad = true)
    {
        if (spatialDims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "pooling has 1, 2 or 3 spatial dimensions");
        ArgumentNullException.ThrowIfNull(kernelSize);
        if (kernelSize.Length == 0) throw new ArgumentException($"kernelSize needs 1 or {spatialDims} values, got none.", nameof(kernelSize));
        _kernelSize = PerAxis(kernelSize, spatialDims, 1, nameof(kernelSize));
        _stride = stride is null || stride.Length == 0 ? _kernelSize.ToArray() : PerAxis(stride, spatialDims, 1, nameof(stride));
        _padding = PerAxis(padding ?? new long[] { 0 }, spatialDims, 0, nameof(padding));
        _dilation = PerAxis(dilation ?? new long[] { 1 }, spatialDims, 1, nameof(dilation));
        if (!max && _dilation.Any(d => d != 1)) throw new ArgumentException("Average pooling has no dilation.", nameof(dilation));
        for (int i = 0; i < spatialDims; i++)
        {
            if (_padding[i] > _kernelSize[i] / 2)
                throw new ArgumentOutOfRangeException(nameof(padding), _padding[i], $"padding must lie in [0, kernel_size / 2] along every dimension: kernel [{string.Join(", ", _kernelSize)}], padding [{string.Join(", ", _padding)}]");
        }
        IsMax = max;
        SpatialDims = spatialDims;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
    }

    private static long[] PerAxis(long[] values, int spatialDims, long minimum, string name)
    {
        var v = Functional.Expand(values, spatialDims, minimum, name).ToArray();
        foreach (var x in v)
            if (x < minimum) throw new ArgumentOutOfRangeException(name, x, $"{name} must be at least {minimum} along every dimension, got [{string.Join(", ", v)}].");
        return v;
    }

    /// <summary>True for max pooling, false for average pooling.</summary>
    public bool IsMax { get; }
    /// <summary>Spatial dimensions.</summary>
    public int SpatialDims { get; }
    /// <summary>Window size along each spatial dimension.</summary>
    public IReadOnlyList<long> KernelSize => _kernelSize;
    /// <summary>Window stride along each spatial dimension.</summary>
    public IReadOnlyList<long> Stride => _stride;
    /// <summary>Implicit padding on both sides of each spatial dimension.</summary>
    public IReadOnlyList<long> Padding => _padding;
    /// <summary>Window dilation along each spatial dimension (max pooling; 1 for average pooling).</summary>
    public IReadOnlyList<long> Dilation => _dilation;
    /// <summary>Ceil instead of floor for the output size.</summary>
    public bool CeilMode { get; }
    /// <summary>Average pooling counts padded zeros.</summary>
    public bool CountIncludePad { get; }

    /// <inheritdoc />
    public override string TypeName => $"{(IsMax ? "Max" : "Avg")}Pool{SpatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => IsMax
        ? Functional.MaxPool(input, SpatialDims, _kernelSize, _stride, _padding, _dilation, CeilMode)
        : Functional.AvgPool(input, SpatialDims, _kernelSize, _stride, _padding, CeilMode, CountIncludePad);

    /// <inheritdoc />
    protected override string ExtraRepr()
    {
        // as PyTorch prints it: a single number when the module was given one, else a tuple
        string V(long[] v) => v.All(x => x == v[0]) ? v[0].ToString(CultureInfo.InvariantCulture) : $"({string.Join(", ", v.Select(x => x.ToString(CultureInfo.InvariantCulture)))})";
        return IsMax
            ? $"kernel_size={V(_kernelSize)}, stride={V(_stride)}, padding={V(_padding)}, dilation={V(_dilation)}, ceil_mode={(CeilMode ? "True" : "False")}"
            : $"kernel_size={V(_kernelSize)}, stride={V(_stride)}, padding={V(_padding)}";
    }
}
