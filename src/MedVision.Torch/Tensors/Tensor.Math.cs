using MedVision.Torch.Native;

namespace MedVision.Torch;

public sealed partial class Tensor
{
    private Tensor Unary(UnaryOp op) => Wrap(NativeMethods.mvt_unary((int)op, Handle));
    private Tensor Scalar(ScalarOp op, double s) => Wrap(NativeMethods.mvt_unary_scalar((int)op, Handle, s));
    // The names are the caller's argument expressions: "a"/"b" from an operator, "other" from Div(other).
    private static Tensor Binary(BinaryOp op, Tensor a, Tensor b,
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(a))] string? aName = null,
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(b))] string? bName = null)
    {
        ArgumentNullException.ThrowIfNull(a, aName);
        ArgumentNullException.ThrowIfNull(b, bName);
        return Wrap(NativeMethods.mvt_binary((int)op, a.Handle, b.Handle));
    }

    // ---------------------------------------------------------------- operators

    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Add, s);
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(double s, Tensor a) => NotNull(a).Scalar(ScalarOp.Add, s);
    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Sub, s);
    /// <summary>A scalar minus each element.</summary>
    public static Tensor operator -(double s, Tensor a) => NotNull(a).Scalar(ScalarOp.RSub, s);
    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);
    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Mul, s);
    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(double s, Tensor a) => NotNull(a).Scalar(ScalarOp.Mul, s);
    /// <summary>Elementwise true division with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);
    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Div, s);
    /// <summary>A scalar divided by each element.</summary>
    public static Tensor operator /(double s, Tensor a) => NotNull(a).Scalar(ScalarOp.RDiv, s);
    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => NotNull(a).Unary(UnaryOp.Neg);
    /// <summary>Elementwise a &lt; b (bool tensor).</summary>
    public static Tensor operator <(Tensor a, Tensor b) => Binary(BinaryOp.Lt, a, b);
    /// <summary>Elementwise a &gt; b (bool tensor).</summary>
    public static Tensor operator >(Tensor a, Tensor b) => Binary(BinaryOp.Gt, a, b);
    /// <summary>Elementwise a &lt;= b (bool tensor).</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => Binary(BinaryOp.Le, a, b);
    /// <summary>Elementwise a &gt;= b (bool tensor).</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => Binary(BinaryOp.Ge, a, b);
    /// <summary>Elementwise a &lt; s (bool tensor).</summary>
    public static Tensor operator <(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Lt, s);
    /// <summary>Elementwise a &gt; s (bool tensor).</summary>
    public static Tensor operator >(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Gt, s);
    /// <summary>Elementwise a &lt;= s (bool tensor).</summary>
    public static Tensor operator <=(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Le, s);
    /// <summary>Elementwise a &gt;= s (bool tensor).</summary>
    public static Tensor operator >=(Tensor a, double s) => NotNull(a).Scalar(ScalarOp.Ge, s);
    /// <summary>Logical and of two bool tensors.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => Binary(BinaryOp.LogicalAnd, a, b);
    /// <summary>Logical or of two bool tensors.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => Binary(BinaryOp.LogicalOr, a, b);
    /// <summary>Logical not of a bool tensor.</summary>
    public static Tensor operator !(Tensor a) => NotNull(a).Unary(UnaryOp.LogicalNot);

    /// <summary>a + alpha·b (torch.add with alpha).</summary>
    public Tensor Add(Tensor other, double alpha = 1.0) => Wrap(NativeMethods.mvt_add_scaled(Handle, NotNull(other).Handle, alpha));
    /// <summary>a − alpha·b.</summary>
    public Tensor Sub(Tensor other, double alpha = 1.0) => Wrap(NativeMethods.mvt_add_scaled(Handle, NotNull(other).Handle, -alpha));
    /// <summary>Elementwise product.</summary>
    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, this, other);
    /// <summary>Elementwise true division.</summary>
    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, this, other);
    /// <summary>Elementwise floor division.</summary>
    public Tensor FloorDivide(Tensor other) => Binary(BinaryOp.FloorDivide, this, other);
    /// <summary>Elementwise power with a tensor exponent.</summary>
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, this, exponent);
    /// <summary>Elementwise power.</summary>
    public Tensor Pow(double exponent) => Scalar(ScalarOp.Pow, exponent);
    /// <summary>Elementwise maximum of two tensors.</summary>
    public Tensor Maximum(Tensor other) => Binary(BinaryOp.Maximum, this, other);
    /// <summary>Elementwise minimum of two tensors.</summary>
    public Tensor Minimum(Tensor other) => Binary(BinaryOp.Minimum, this, other);
    /// <summary>Elementwise remainder with the sign of the divisor (Python's %).</summary>
    public Tensor Remainder(double divisor) => Scalar(ScalarOp.Remainder, divisor);

    /// <summary>Elementwise equality (bool tensor).</summary>
    public Tensor Eq(Tensor other) => Binary(BinaryOp.Eq, this, other);
    /// <summary>Elementwise equality with a scalar.</summary>
    public Tensor Eq(double s) => Scalar(ScalarOp.Eq, s);
    /// <summary>Elementwise inequality.</summary>
    public Tensor Ne(Tensor other) => Binary(BinaryOp.Ne, this, other);
    /// <summary>Elementwise inequality with a scalar.</summary>
    public Tensor Ne(double s) => Scalar(ScalarOp.Ne, s);
    /// <summary>Elementwise less-than.</summary>
    public Tensor Lt(Tensor other) => Binary(BinaryOp.Lt, this, other);
    /// <summary>Elementwise less-than with a scalar.</summary>
    public Tensor Lt(double s) => Scalar(ScalarOp.Lt, s);
    /// <summary>Elementwise less-or-equal.</summary>
    public Tensor Le(Tensor other) => Binary(BinaryOp.Le, this, other);
    /// <summary>Elementwise less-or-equal with a scalar.</summary>
    public Tensor Le(double s) => Scalar(ScalarOp.Le, s);
    /// <summary>Elementwise greater-than.</summary>
    public Tensor Gt(Tensor other) => Binary(BinaryOp.Gt, this, other);
    /// <summary>Elementwise greater-than with a scalar.</summary>
    public Tensor Gt(double s) => Scalar(ScalarOp.Gt, s);
    /// <summary>Elementwise greater-or-equal.</summary>
    public Tensor Ge(Tensor other) => Binary(BinaryOp.Ge, this, other);
    /// <summary>Elementwise greater-or-equal with a scalar.</summary>
    public Tensor Ge(double s) => Scalar(ScalarOp.Ge, s);

    /// <summary>True when every element is within atol + rtol·|other| of <paramref name="other"/>.</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8)
    {
        using var r = Wrap(NativeMethods.mvt_allclose(Handle, NotNull(other).Handle, rtol, atol));
        return r.Item() != 0;
    }

    // ---------------------------------------------------------------- elementwise functions

    /// <summary>Negation.</summary>
    public Tensor Neg() => Unary(UnaryOp.Neg);
    /// <summary>Absolute value.</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs);
    /// <summary>Exponential.</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp);
    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => Unary(UnaryOp.Log);
    /// <summary>log(1 + x).</summary>
    public Tensor Log1p() => Unary(UnaryOp.Log1p);
    /// <summary>exp(x) − 1.</summary>
    public Tensor Expm1() => Unary(UnaryOp.Expm1);
    /// <summary>Square root.</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    /// <summary>1/√x.</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);
    /// <summary>x².</summary>
    public Tensor Square() => Unary(UnaryOp.Square);
    /// <summary>1/x.</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    /// <summary>Sign (−1, 0, 1).</summary>
    public Tensor Sign() => Unary(UnaryOp.Sign);
    /// <summary>Floor.</summary>
    public Tensor Floor() => Unary(UnaryOp.Floor);
    /// <summary>Ceiling.</summary>
    public Tensor Ceil() => Unary(UnaryOp.Ceil);
    /// <summary>Round half to even.</summary>
    public Tensor Round() => Unary(UnaryOp.Round);
    /// <summary>Truncation toward zero.</summary>
    public Tensor Trunc() => Unary(UnaryOp.Trunc);
    /// <summary>Sine.</summary>
    public Tensor Sin() => Unary(UnaryOp.Sin);
    /// <summary>Cosine.</summary>
    public Tensor Cos() => Unary(UnaryOp.Cos);
    /// <summary>Error function.</summary>
    public Tensor Erf() => Unary(UnaryOp.Erf);
    /// <summary>Logistic sigmoid.</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => Unary(UnaryOp.Relu);
    /// <summary>Leaky ReLU: x for x ≥ 0, slope·x otherwise.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01) => Wrap(NativeMethods.mvt_activation((int)ActivationOp.LeakyRelu, Handle, negativeSlope, 0));
    /// <summary>Elementwise NaN test.</summary>
    public Tensor IsNan() => Unary(UnaryOp.IsNan);
    /// <summary>Elementwise infinity test.</summary>
    public Tensor IsInf() => Unary(UnaryOp.IsInf);
    /// <summary>Elementwise finiteness test.</summary>
    public Tensor IsFinite() => Unary(UnaryOp.IsFinite);
    /// <summary>Logical not.</summary>
    public Tensor LogicalNot() => Unary(UnaryOp.LogicalNot);

    /// <summary>Clamps into [min, max]; either bound may be omitted.</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        if (min is null && max is null) throw new ArgumentException("Clamp needs at least one of min and max.");
        return Wrap(NativeMethods.mvt_clamp(Handle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0));
    }

    /// <summary>Softmax along <paramref name="dim"/>.</summary>
    public Tensor Softmax(long dim) => Wrap(NativeMethods.mvt_softmax(Handle, dim, 0));
    /// <summary>Log-softmax along <paramref name="dim"/>.</summary>
    public Tensor LogSoftmax(long dim) => Wrap(NativeMethods.mvt_softmax(Handle, dim, 1));

    /// <summary>Matrix product with NumPy broadcasting rules (torch.matmul).</summary>
    public Tensor MatMul(Tensor other) => Binary(BinaryOp.MatMul, this, other);
    /// <summary>Batched matrix product of (B, n, m) and (B, m, p).</summary>
    public Tensor Bmm(Tensor other) => Binary(BinaryOp.Bmm, this, other);
    /// <summary>Matrix product of two 2-D tensors.</summary>
    public Tensor Mm(Tensor other) => Binary(BinaryOp.Mm, this, other);
    /// <summary>Dot product of two 1-D tensors.</summary>
    public Tensor Dot(Tensor other) => Binary(BinaryOp.Dot, this, other);
    /// <summary>Transpose of a tensor with at most 2 dimensions.</summary>
    public Tensor T() => Unary(UnaryOp.T);

    /// <summary>One-hot encoding of an integer tensor (torch.nn.functional.one_hot).</summary>
    public Tensor OneHot(long numClasses = -1) => Wrap(NativeMethods.mvt_one_hot(Handle, numClasses));

    // ---------------------------------------------------------------- reductions

    private unsafe Tensor Reduce(ReduceOp op, long[]? dims, bool keepDim)
    {
        dims ??= Array.Empty<long>();
        fixed (long* p = dims) return Wrap(NativeMethods.mvt_reduce((int)op, Handle, p, dims.Length, keepDim ? 1 : 0));
    }

    /// <summary>Sum of all elements.</summary>
    public Tensor Sum() => Reduce(ReduceOp.Sum, null, false);
    /// <summary>Sum over dimensions.</summary>
    public Tensor Sum(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Sum, RequireDims(dims), keepDim);
    /// <summary>Sum over one dimension.</summary>
    public Tensor Sum(long dim, bool keepDim = false) => Reduce(ReduceOp.Sum, new[] { dim }, keepDim);
    /// <summary>Mean of all elements.</summary>
    public Tensor Mean() => Reduce(ReduceOp.Mean, null, false);
    /// <summary>Mean over dimensions.</summary>
    public Tensor Mean(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Mean, RequireDims(dims), keepDim);
    /// <summary>Mean over one dimension.</summary>
    public Tensor Mean(long dim, bool keepDim = false) => Reduce(ReduceOp.Mean, new[] { dim }, keepDim);
    /// <summary>Maximum of all elements.</summary>
    public Tensor Max() => Reduce(ReduceOp.Amax, null, false);
    /// <summary>Minimum of all elements.</summary>
    public Tensor Min() => Reduce(ReduceOp.Amin, null, false);
    /// <summary>Maximum values over dimensions (torch.amax).</summary>
    public Tensor Amax(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Amax, RequireDims(dims), keepDim);
    /// <summary>Minimum values over dimensions (torch.amin).</summary>
    public Tensor Amin(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Amin, RequireDims(dims), keepDim);
    /// <summary>Product of all elements.</summary>
    public Tensor Prod() => Reduce(ReduceOp.Prod, null, false);
    /// <summary>Product over one dimension (torch.prod(dim)).</summary>
    public Tensor Prod(long dim, bool keepDim = false) => Reduce(ReduceOp.Prod, new[] { dim }, keepDim);
    /// <summary>log Σ exp over dimensions.</summary>
    public Tensor LogSumExp(long dim, bool keepDim = false) => Reduce(ReduceOp.LogSumExp, new[] { dim }, keepDim);
    /// <summary>Euclidean (L2) norm of all elements.</summary>
    public Tensor Norm() => Reduce(ReduceOp.Norm, null, false);
    /// <summary>Euclidean (L2) norm over dimensions.</summary>
    public Tensor Norm(long[] dims, bool keepDim = false) => Reduce(ReduceOp.Norm, RequireDims(dims), keepDim);
    /// <summary>True when any element is true (non-zero).</summary>
    public Tensor Any() => Reduce(ReduceOp.Any, null, false);
    /// <summary>True where any element along a dimension is true (torch.any(dim)); a bool tensor.</summary>
    public Tensor Any(long dim, bool keepDim = false) => Reduce(ReduceOp.Any, new[] { dim }, keepDim);
    /// <summary>True when all elements are true (non-zero).</summary>
    public Tensor All() => Reduce(ReduceOp.All, null, false);
    /// <summary>True where all elements along a dimension are true (torch.all(dim)); a bool tensor.</summary>
    public Tensor All(long dim, bool keepDim = false) => Reduce(ReduceOp.All, new[] { dim }, keepDim);

    private static long[] RequireDims(long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0) throw new ArgumentException("Give at least one dimension, or use the overload without dimensions to reduce over all.", nameof(dims));
        return dims;
    }

    /// <summary>Maximum along a dimension with the indices where it occurs (torch.max(dim)).</summary>
    public unsafe (Tensor Values, Tensor Indices) Max(long dim, bool keepDim = false)
    {
        IntPtr v, i;
        Check(NativeMethods.mvt_max_min_dim(0, Handle, dim, keepDim ? 1 : 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>Minimum along a dimension with the indices where it occurs (torch.min(dim)).</summary>
    public unsafe (Tensor Values, Tensor Indices) Min(long dim, bool keepDim = false)
    {
        IntPtr v, i;
        Check(NativeMethods.mvt_max_min_dim(1, Handle, dim, keepDim ? 1 : 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>Index of the maximum of the flattened tensor.</summary>
    public Tensor ArgMax() => Wrap(NativeMethods.mvt_arg_max_min(0, Handle, 0, 0, 0));
    /// <summary>Indices of the maxima along a dimension.</summary>
    public Tensor ArgMax(long dim, bool keepDim = false) => Wrap(NativeMethods.mvt_arg_max_min(0, Handle, 1, dim, keepDim ? 1 : 0));
    /// <summary>Index of the minimum of the flattened tensor.</summary>
    public Tensor ArgMin() => Wrap(NativeMethods.mvt_arg_max_min(1, Handle, 0, 0, 0));
    /// <summary>Indices of the minima along a dimension.</summary>
    public Tensor ArgMin(long dim, bool keepDim = false) => Wrap(NativeMethods.mvt_arg_max_min(1, Handle, 1, dim, keepDim ? 1 : 0));

    /// <summary>Standard deviation of all elements (unbiased by default, as torch.std).</summary>
    public unsafe Tensor Std(bool unbiased = true) => Wrap(NativeMethods.mvt_std_var(0, Handle, null, 0, unbiased ? 1 : 0, 0));
    /// <summary>Standard deviation over dimensions.</summary>
    public unsafe Tensor Std(long[] dims, bool unbiased = true, bool keepDim = false)
    {
        fixed (long* p = RequireDims(dims)) return Wrap(NativeMethods.mvt_std_var(0, Handle, p, dims.Length, unbiased ? 1 : 0, keepDim ? 1 : 0));
    }
    /// <summary>Variance of all elements (unbiased by default, as torch.var).</summary>
    public unsafe Tensor Var(bool unbiased = true) => Wrap(NativeMethods.mvt_std_var(1, Handle, null, 0, unbiased ? 1 : 0, 0));
    /// <summary>Variance over dimensions.</summary>
    public unsafe Tensor Var(long[] dims, bool unbiased = true, bool keepDim = false)
    {
        fixed (long* p = RequireDims(dims)) return Wrap(NativeMethods.mvt_std_var(1, Handle, p, dims.Length, unbiased ? 1 : 0, keepDim ? 1 : 0));
    }

    /// <summary>Sorts along a dimension; returns the sorted values and their original indices.</summary>
    public unsafe (Tensor Values, Tensor Indices) Sort(long dim = -1, bool descending = false, bool stable = false)
    {
        IntPtr v, i;
        Check(NativeMethods.mvt_sort(Handle, dim, descending ? 1 : 0, stable ? 1 : 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>The k largest (or smallest) elements along a dimension, sorted.</summary>
    public unsafe (Tensor Values, Tensor Indices) TopK(long k, long dim = -1, bool largest = true)
    {
        IntPtr v, i;
        Check(NativeMethods.mvt_topk(Handle, k, dim, largest ? 1 : 0, &v, &i));
        return (new Tensor(v), new Tensor(i));
    }

    /// <summary>Cumulative sum along a dimension.</summary>
    public Tensor CumSum(long dim) => Wrap(NativeMethods.mvt_cumsum(Handle, dim));
}
