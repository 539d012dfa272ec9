using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Resizes the spatial dimensions of (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs, to a fixed size or by scale
/// factors (torch.nn.Upsample): <c>new Upsample(2)</c>, <c>new Upsample(scaleFactor: [2, 2, 1], mode: InterpolationMode.Linear)</c>,
/// <c>new Upsample(size: [64, 64])</c>. Linear mode is bilinear or trilinear by the input's rank.
/// </summary>
public sealed class Upsample : Module<Tensor, Tensor>
{
    private readonly long[]? _size;
    private readonly double[]? _scaleFactor;

    /// <summary>Scales every spatial dimension by <paramref name="scaleFactor"/> (output size ⌊input · factor⌋).</summary>
    public Upsample(double scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
        : this(null, new[] { scaleFactor }, mode, alignCorners)
    {
    }

    /// <summary>Scales each spatial dimension by its own factor (one per dimension, or one for all).</summary>
    public Upsample(double[] scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
        : this(null, scaleFactor ?? throw new ArgumentNullException(nameof(scaleFactor)), mode, alignCorners)
    {
    }

    /// <summary>Resizes the spatial dimensions to <paramref name="size"/> (one entry per spatial dimension).</summary>
    public Upsample(long[] size, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
        : this(size ?? throw new ArgumentNullException(nameof(size)), null, mode, alignCorners)
    {
    }

    private Upsample(long[]? size, double[]? scaleFactor, InterpolationMode mode, bool alignCorners)
    {
        Guard.Defined(mode);
        if (size is not null)
        {
            if (size.Length is < 1 or > 3 || size.Any(s => s < 1))
                throw new ArgumentException($"size needs 1 to 3 positive sizes, got [{string.Join(", ", size)}].", nameof(size));
            _size = size.ToArray();
        }
        if (scaleFactor is not null)
        {
            if (scaleFactor.Length is < 1 or > 3 || scaleFactor.Any(f => !(f > 0) || !double.IsFinite(f)))
                throw new ArgumentOutOfRangeException(nameof(scaleFactor), $"scaleFactor needs 1 to 3 positive finite factors, got [{string.Join(", ", scaleFactor)}].");
            _scaleFactor = scaleFactor.ToArray();
        }
        if (alignCorners && mode is not (InterpolationMode.Linear or InterpolationMode.Bicubic))
            throw new ArgumentException($"alignCorners applies to Linear and Bicubic resampling only, not {mode} (as in PyTorch).", nameof(alignCorners));
        Mode = mode;
        AlignCorners = alignCorners;
    }

    /// <summary>The output size, when the layer resizes to a fixed size; otherwise null.</summary>
    public IReadOnlyList<long>? Size => _size;

    /// <summary>The scale factors, when the layer scales; otherwise null.</summary>
    public IReadOnlyList<double>? ScaleFactor => _scaleFactor;

    /// <summary>The resampling.</summary>
    public InterpolationMode Mode { get; }

    /// <summary>Whether the corner pixels of input and output are aligned (linear and bicubic modes).</summary>
    public bool AlignCorners { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_size is null) return Functional.Interpolate(input, _scaleFactor!, Mode, AlignCorners);
        var n = (int)input.Dim - 2;
        if (n < 1 || (_size.Length != 1 && _size.Length != n))
            throw new ArgumentException($"Upsample to size [{string.Join(", ", _size)}] expects an input with {_size.Length} spatial dimensions, got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        return Functional.Interpolate(input, _size.Length == n ? _size : Enumerable.Repeat(_size[0], n).ToArray(), Mode, AlignCorners);
    }

    /// <inheritdoc />
    protected override string ExtraRepr()
    {
        var what = _size is not null
            ? $"size=({string.Join(", ", _size.Select(s => s.ToString(CultureInfo.InvariantCulture)))})"
            : $"scale_factor=({string.Join(", ", _scaleFactor!.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))})";
        return $"{what}, mode='{Mode.ToString().ToLowerInvariant()}'{(AlignCorners ? ", align_corners=True" : "")}";
    }
}
