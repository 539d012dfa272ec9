using MedVision.Torch.Native;

namespace MedVision.Torch;

public sealed partial class Tensor
{
    /// <summary>
    /// A copy of this tensor with the values of <paramref name="source"/> written at the positions <paramref name="index"/>
    /// gives along <paramref name="dim"/> (torch.Tensor.scatter): for a 2-D tensor and dim 1,
    /// <c>out[i][index[i][j]] = source[i][j]</c>. The index is int64, of the source's shape or smaller.
    /// </summary>
    public Tensor Scatter(long dim, Tensor index, Tensor source) => ScatterCore(0, dim, index, source, true);

    /// <summary>A copy of this tensor with the values of <paramref name="source"/> added at the positions <paramref name="index"/> gives along <paramref name="dim"/> (torch.Tensor.scatter_add; per-class sums, histograms).</summary>
    public Tensor ScatterAdd(long dim, Tensor index, Tensor source) => ScatterCore(1, dim, index, source, true);

    /// <summary>
    /// A copy of this tensor where the values of <paramref name="source"/> scattered to one position along
    /// <paramref name="dim"/> are combined by <paramref name="reduce"/>, with this tensor's value among them when
    /// <paramref name="includeSelf"/> (torch.Tensor.scatter_reduce).
    /// </summary>
    public Tensor ScatterReduce(long dim, Tensor index, Tensor source, ScatterReduction reduce, bool includeSelf = true)
        => ScatterCore(2 + (int)Guard.Defined(reduce), dim, index, source, includeSelf);

    private Tensor ScatterCore(int op, long dim, Tensor index, Tensor source, bool includeSelf)
        => Wrap(NativeMethods.mvt_scatter(op, Handle, dim, NotNull(index).Handle, NotNull(source).Handle, includeSelf ? 1 : 0));

    /// <summary>The lower triangle of the last two dimensions, the rest zeroed (torch.tril): elements on and below diagonal <paramref name="diagonal"/> (0 the main one, positive above it).</summary>
    public Tensor Tril(long diagonal = 0) => Wrap(NativeMethods.mvt_tri(Handle, diagonal, 0));

    /// <summary>The upper triangle of the last two dimensions, the rest zeroed (torch.triu): elements on and above diagonal <paramref name="diagonal"/>.</summary>
    public Tensor Triu(long diagonal = 0) => Wrap(NativeMethods.mvt_tri(Handle, diagonal, 1));

    /// <summary>
    /// Rolls the elements along <paramref name="dims"/> by <paramref name="shifts"/> (torch.roll): elements shifted past
    /// the end come back at the start. Without dimensions the flattened tensor is rolled by one shift.
    /// </summary>
    public unsafe Tensor Roll(long[] shifts, long[]? dims = null)
    {
        ArgumentNullException.ThrowIfNull(shifts);
        dims ??= [];
        if (shifts.Length == 0) throw new ArgumentException("Roll needs at least one shift.", nameof(shifts));
        if (dims.Length != 0 && dims.Length != shifts.Length)
            throw new ArgumentException($"Roll got {shifts.Length} shifts for {dims.Length} dimensions; give one shift per dimension.", nameof(dims));
        if (dims.Length == 0 && shifts.Length != 1)
            throw new ArgumentException($"Without dimensions, Roll takes one shift (of the flattened tensor), not {shifts.Length}.", nameof(shifts));
        fixed (long* s = shifts)
        fixed (long* d = dims)
            return Wrap(NativeMethods.mvt_roll(Handle, s, shifts.Length, d, dims.Length));
    }

    /// <summary>Rolls the elements along <paramref name="dim"/> by <paramref name="shift"/> (torch.roll).</summary>
    public Tensor Roll(long shift, long dim) => Roll([shift], [dim]);

    /// <summary>The indices of the non-zero elements, one row per element (torch.nonzero): an int64 tensor (count, dimensions).</summary>
    public Tensor Nonzero() => Wrap(NativeMethods.mvt_nonzero(Handle));

    /// <summary>
    /// The distinct values of the flattened tensor (torch.unique), sorted unless <paramref name="sorted"/> is false;
    /// with <paramref name="returnInverse"/> the index of each element's value among them (of this tensor's shape), with
    /// <paramref name="returnCounts"/> how often each occurs. The parts not asked for are null.
    /// </summary>
    public unsafe (Tensor Values, Tensor? Inverse, Tensor? Counts) Unique(bool sorted = true, bool returnInverse = false, bool returnCounts = false)
    {
        IntPtr v, i, c;
        Check(NativeMethods.mvt_unique(Handle, sorted ? 1 : 0, returnInverse ? 1 : 0, returnCounts ? 1 : 0, &v, &i, &c));
        return (new Tensor(v), i == IntPtr.Zero ? null : new Tensor(i), c == IntPtr.Zero ? null : new Tensor(c));
    }

    /// <summary>
    /// A view of all windows of <paramref name="size"/> elements along <paramref name="dim"/>, <paramref name="step"/>
    /// apart, as a new last dimension (torch.Tensor.unfold; patches of an image or volume, one dimension at a time).
    /// </summary>
    public Tensor Unfold(long dim, long size, long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        return Wrap(NativeMethods.mvt_unfold(Handle, dim, size, step));
    }

    /// <summary>Cumulative product along a dimension (torch.cumprod).</summary>
    public Tensor CumProd(long dim) => Wrap(NativeMethods.mvt_cumprod(Handle, dim));

    /// <summary>
    /// The log-odds log(p / (1 − p)) of probabilities (torch.logit, the inverse of the sigmoid); with
    /// <paramref name="eps"/> the input is first clamped to [eps, 1 − eps], so that 0 and 1 stay finite.
    /// </summary>
    public Tensor Logit(double? eps = null)
    {
        if (eps is double e && !(e >= 0 && e <= 0.5)) throw new ArgumentOutOfRangeException(nameof(eps), e, "eps must be in [0, 0.5].");
        return Wrap(NativeMethods.mvt_logit(Handle, eps is null ? 0 : 1, eps ?? 0));
    }

    /// <summary>
    /// How often each non-negative integer occurs in this 1-D int tensor (torch.bincount): a tensor of max + 1 (at
    /// least <paramref name="minLength"/>) counts, or sums of <paramref name="weights"/> when given.
    /// </summary>
    public Tensor Bincount(Tensor? weights = null, long minLength = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minLength);
        if (Dim != 1 || ScalarType.IsFloatingPoint() || ScalarType == ScalarType.Bool)
            throw new InvalidOperationException($"Bincount counts non-negative integers: it needs a 1-D integer tensor, not {ScalarType} [{string.Join(", ", CachedShape)}].");
        return Wrap(NativeMethods.mvt_bincount(Handle, HandleOrZero(weights), minLength));
    }

    /// <summary>The median of all elements (torch.median: the lower of the two middle values for an even count).</summary>
    public unsafe Tensor Median()
    {
        IntPtr v, i;
        Check(NativeMethods.mvt_median(Handle, 0, 0, 0, &v, &i));
        return new Tensor(v);
    }

    /// <summary>The medians along a dimension and their indices (torch.median(dim)).</summary>
    public unsafe (Tensor Values, Tensor Indices) Median(long dim, bool keepDim = false)
    {
        IntPtr v, i;
        Check(NativeMethods.mvt_median(Handle, 1, dim, keepDim ? 1 : 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile (q in [0, 1]) of all elements, or along <paramref name="dim"/>
    /// (torch.quantile; floating-point tensors).
    /// </summary>
    public Tensor Quantile(double q, long? dim = null, bool keepDim = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
    {
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "q must be in [0, 1].");
        using var qt = Tensors.Scalar(q, ScalarType, Device);
        return Quantile(qt, dim, keepDim, interpolation);
    }

    /// <summary>
    /// The quantiles <paramref name="q"/> (a 1-D tensor of values in [0, 1], of this tensor's dtype and device) of all
    /// elements or along <paramref name="dim"/>, as a new first dimension (torch.quantile).
    /// </summary>
    public Tensor Quantile(Tensor q, long? dim = null, bool keepDim = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
    {
        NotNull(q);
        Guard.Defined(interpolation);
        return Wrap(NativeMethods.mvt_quantile(Handle, q.Handle, dim is null ? 0 : 1, dim ?? 0, keepDim ? 1 : 0, (int)interpolation));
    }
}
