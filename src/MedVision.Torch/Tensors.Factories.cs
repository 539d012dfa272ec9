using MedVision.Torch.Native;

namespace MedVision.Torch;

public static partial class Tensors
{
    private static long[] ShapeOrVector(long[]? shape, int length)
    {
        if (shape is null || shape.Length == 0) return new long[] { length };
        long n = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative size.", nameof(shape));
            n *= s;
        }
        if (n != length) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {n} elements but {length} values were given.", nameof(shape));
        return shape;
    }

    private static void CheckShape(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var s in shape)
            if (s < 0) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a negative size.", nameof(shape));
    }

    /// <summary>Creates a tensor holding a copy of <paramref name="data"/> with the given shape (1-D when omitted or null).</summary>
    public static unsafe Tensor FromSpan<T>(ReadOnlySpan<T> data, long[]? shape = null, Device? device = null, bool requiresGrad = false) where T : unmanaged
    {
        var dims = ShapeOrVector(shape, data.Length);
        var dev = UsableDevice(device);
        var type = ScalarTypeExtensions.For<T>();
        if (requiresGrad && !type.IsFloatingPoint()) throw new ArgumentException($"Only floating-point tensors can require gradients, not {type}.", nameof(requiresGrad));
        fixed (T* p = data)
        fixed (long* s = dims)
            return Tensor.Wrap(NativeMethods.mvt_from_data(p, s, dims.Length, (int)type, (int)dev.Type, dev.Index, requiresGrad ? 1 : 0));
    }

    /// <summary>Creates a tensor holding a copy of <paramref name="data"/> with the given shape (1-D when omitted or null).</summary>
    public static Tensor FromArray<T>(T[] data, params long[]? shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        return FromSpan<T>(data, shape);
    }

    /// <summary>Creates a tensor from a 2-D array, keeping its shape.</summary>
    public static unsafe Tensor FromArray<T>(T[,] data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        fixed (T* p = data)
            return FromSpan(new ReadOnlySpan<T>(p, data.Length), new long[] { data.GetLength(0), data.GetLength(1) });
    }

    /// <summary>A 0-dimensional tensor holding one value.</summary>
    public static Tensor Scalar(double value, ScalarType dtype = ScalarType.Float32, Device? device = null)
        => Full(Array.Empty<long>(), value, dtype, device);

    /// <summary>An uninitialised tensor.</summary>
    public static unsafe Tensor Empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requiresGrad = false)
    {
        CheckShape(shape);
        Guard.Defined(dtype);
        var dev = UsableDevice(device);
        fixed (long* s = shape) return Tensor.Wrap(NativeMethods.mvt_empty(s, shape.Length, (int)dtype, (int)dev.Type, dev.Index, requiresGrad ? 1 : 0));
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static unsafe Tensor Full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requiresGrad = false)
    {
        CheckShape(shape);
        Guard.Defined(dtype);
        var dev = UsableDevice(device);
        fixed (long* s = shape) return Tensor.Wrap(NativeMethods.mvt_full(s, shape.Length, value, (int)dtype, (int)dev.Type, dev.Index, requiresGrad ? 1 : 0));
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requiresGrad = false)
        => Full(shape, 0, dtype, device, requiresGrad);

    /// <summary>A float32 CPU tensor of zeros.</summary>
    public static Tensor Zeros(params long[] shape) => Full(shape, 0);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requiresGrad = false)
        => Full(shape, 1, dtype, device, requiresGrad);

    /// <summary>A float32 CPU tensor of ones.</summary>
    public static Tensor Ones(params long[] shape) => Full(shape, 1);

    /// <summary>Zeros with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Full(Tensor.NotNull(like).CachedShape, 0, like.ScalarType, like.Device);

    /// <summary>Ones with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Full(Tensor.NotNull(like).CachedShape, 1, like.ScalarType, like.Device);

    /// <summary><paramref name="value"/> everywhere, with the shape, dtype and device of <paramref name="like"/> (torch.full_like).</summary>
    public static Tensor FullLike(Tensor like, double value) => Full(Tensor.NotNull(like).CachedShape, value, like.ScalarType, like.Device);

    /// <summary>Values start, start+step, … below end (torch.arange). Integer arguments give int64 unless a dtype is given.</summary>
    public static Tensor Arange(double start, double end, double step = 1, ScalarType? dtype = null, Device? device = null)
    {
        if (step == 0) throw new ArgumentOutOfRangeException(nameof(step), "step must be non-zero");
        if ((end - start) / step < 0) throw new ArgumentException($"arange({start}, {end}, {step}) has the wrong sign of step for its bounds.");
        var dev = UsableDevice(device);
        var isInt = start == Math.Floor(start) && end == Math.Floor(end) && step == Math.Floor(step);
        var type = Guard.Defined(dtype ?? (isInt ? ScalarType.Int64 : ScalarType.Float32), nameof(dtype));
        return Tensor.Wrap(NativeMethods.mvt_arange(start, end, step, (int)type, (int)dev.Type, dev.Index, 0));
    }

    /// <summary>0, 1, …, end−1 as int64 (torch.arange(end)).</summary>
    public static Tensor Arange(long end) => Arange(0, end, 1);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive.</summary>
    public static Tensor Linspace(double start, double end, long steps, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        Guard.Defined(dtype);
        var dev = UsableDevice(device);
        return Tensor.Wrap(NativeMethods.mvt_linspace(start, end, steps, (int)dtype, (int)dev.Type, dev.Index, 0));
    }

    /// <summary>Uniform random values in [0, 1).</summary>
    public static unsafe Tensor Rand(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requiresGrad = false)
    {
        CheckShape(shape);
        Guard.Defined(dtype);
        var dev = UsableDevice(device);
        fixed (long* s = shape) return Tensor.Wrap(NativeMethods.mvt_rand(s, shape.Length, 0, (int)dtype, (int)dev.Type, dev.Index, requiresGrad ? 1 : 0));
    }

    /// <summary>Uniform random float32 CPU values in [0, 1).</summary>
    public static Tensor Rand(params long[] shape) => Rand(shape, ScalarType.Float32);

    /// <summary>Standard normal random values.</summary>
    public static unsafe Tensor Randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requiresGrad = false)
    {
        CheckShape(shape);
        Guard.Defined(dtype);
        var dev = UsableDevice(device);
        fixed (long* s = shape) return Tensor.Wrap(NativeMethods.mvt_rand(s, shape.Length, 1, (int)dtype, (int)dev.Type, dev.Index, requiresGrad ? 1 : 0));
    }

    /// <summary>Standard normal float32 CPU values.</summary>
    public static Tensor Randn(params long[] shape) => Randn(shape, ScalarType.Float32);

    /// <summary>Uniform random integers in [low, high).</summary>
    public static unsafe Tensor RandInt(long low, long high, long[] shape, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        CheckShape(shape);
        if (high <= low) throw new ArgumentException($"RandInt needs low < high, got [{low}, {high}).");
        var dev = UsableDevice(device);
        fixed (long* s = shape) return Tensor.Wrap(NativeMethods.mvt_randint(low, high, s, shape.Length, (int)dtype, (int)dev.Type, dev.Index));
    }

    /// <summary>A random permutation of 0 … n−1 (int64).</summary>
    public static Tensor RandPerm(long n, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var dev = UsableDevice(device);
        return Tensor.Wrap(NativeMethods.mvt_randperm(n, (int)dev.Type, dev.Index));
    }

    /// <summary>Concatenates tensors along an existing dimension.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, long dim = 0) => CatOrStack(tensors, dim, false);

    /// <summary>Stacks tensors along a new dimension.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, long dim = 0) => CatOrStack(tensors, dim, true);

    private static unsafe Tensor CatOrStack(IReadOnlyList<Tensor> tensors, long dim, bool stack)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException($"{(stack ? "Stack" : "Cat")} needs at least one tensor.", nameof(tensors));
        var handles = new IntPtr[tensors.Count];
        for (int i = 0; i < handles.Length; i++) handles[i] = (tensors[i] ?? throw new ArgumentNullException(nameof(tensors), $"tensor {i} is null")).Handle;
        Tensor result;
        fixed (IntPtr* p = handles) result = Tensor.Wrap(NativeMethods.mvt_cat(p, handles.Length, dim, stack ? 1 : 0));
        GC.KeepAlive(tensors);
        return result;
    }

    /// <summary>An identity matrix of <paramref name="n"/> rows and <paramref name="m"/> columns (<paramref name="n"/> when not given; torch.eye).</summary>
    public static Tensor Eye(long n, long? m = null, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (m is < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "m must be ≥ 0.");
        Guard.Defined(dtype);
        var dev = UsableDevice(device);
        return Tensor.Wrap(NativeMethods.mvt_eye(n, m ?? n, (int)dtype, (int)dev.Type, dev.Index));
    }

    /// <summary>
    /// Einstein summation (torch.einsum): <paramref name="equation"/> names the dimensions of each operand and of the
    /// result, e.g. <c>"bij,bjk-&gt;bik"</c> (batched matrix product) or <c>"bchw,bc-&gt;bhw"</c> (a weighted sum of channels).
    /// </summary>
    public static unsafe Tensor Einsum(string equation, params Tensor[] operands)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(equation);
        ArgumentNullException.ThrowIfNull(operands);
        if (operands.Length == 0) throw new ArgumentException("Einsum needs at least one operand.", nameof(operands));
        var handles = new IntPtr[operands.Length];
        for (int i = 0; i < handles.Length; i++) handles[i] = (operands[i] ?? throw new ArgumentNullException(nameof(operands), $"operand {i} is null")).Handle;
        Tensor result;
        fixed (IntPtr* p = handles) result = Tensor.Wrap(NativeMethods.mvt_einsum(equation, p, handles.Length));
        GC.KeepAlive(operands);
        return result;
    }

    /// <summary>
    /// The p-norm distances between every row of <paramref name="x1"/> (…, P, M) and every row of <paramref name="x2"/>
    /// (…, R, M), as a (…, P, R) tensor (torch.cdist; embeddings of a Siamese network against a gallery).
    /// </summary>
    public static Tensor Cdist(Tensor x1, Tensor x2, double p = 2)
    {
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(x2);
        if (!(p >= 0) || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must be ≥ 0 (∞ for the maximum norm).");
        return Tensor.Wrap(NativeMethods.mvt_cdist(x1.Handle, x2.Handle, p));
    }

    /// <summary>Elementwise choice: <paramref name="x"/> where <paramref name="condition"/> is true, else <paramref name="y"/>.</summary>
    public static Tensor Where(Tensor condition, Tensor x, Tensor y) => Tensor.Wrap(NativeMethods.mvt_where(Tensor.NotNull(condition).Handle, Tensor.NotNull(x).Handle, Tensor.NotNull(y).Handle));

    // The device a factory creates on: the CPU by default; a CUDA device only where CUDA is usable (else a clear error).
    private static Device UsableDevice(Device? device)
    {
        var d = device ?? Device.Cpu;
        Cuda.EnsureUsable(d);
        return d;
    }
}
