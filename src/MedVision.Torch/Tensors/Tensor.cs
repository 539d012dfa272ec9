using System.Runtime.InteropServices;
using System.Text;
using MedVision.Torch.Native;

namespace MedVision.Torch;

/// <summary>
/// An n-dimensional array on a device, with autograd: a handle to one libtorch tensor. Operations follow PyTorch's
/// semantics and argument order. Tensors own native memory: dispose them, or create them inside a
/// <see cref="DisposeScope"/>; the finalizer is only a backstop.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private IntPtr _handle;
    private long[]? _shape;

    internal Tensor(IntPtr handle)
    {
        _handle = handle;
        DisposeScope.Current?.Register(this);
    }

    /// <summary>Finalizer: releases the native tensor if it was never disposed (a backstop, not the plan).</summary>
    ~Tensor() => Release();

    internal DisposeScope? OwnerScope { get; set; }

    /// <summary>True once the tensor has been disposed.</summary>
    public bool IsDisposed => _handle == IntPtr.Zero;

    internal IntPtr Handle
    {
        get
        {
            var h = _handle;
            if (h == IntPtr.Zero) throw new ObjectDisposedException(nameof(Tensor), "The tensor has been disposed.");
            KeepAliveForCall(this);
            return h;
        }
    }

    // The last tensors whose handles this thread took, kept reachable. A handle is taken just before the native call
    // that uses it; without this, a temporary that nothing else references (x.MatMul(y).Sum(): the product) could be
    // collected while that call runs and its finalizer free the native tensor under it — a use-after-free that crashed
    // the process (a loop of such temporaries with a thread forcing collections; see ReachabilityTests). A native call
    // runs no managed code that takes handles, so its tensors stay here until it returns (32 entries: more than any
    // call takes one by one); calls taking arrays of tensors also keep the array alive.
    private const int RecentHandles = 32;
    [ThreadStatic] private static Tensor?[]? t_recent;
    [ThreadStatic] private static int t_next;

    private static readonly List<WeakReference<Tensor?[]>> s_rings = new();

    private static void KeepAliveForCall(Tensor tensor)
    {
        var recent = t_recent ??= NewRing();
        int next = t_next;
        recent[next] = tensor;
        t_next = (next + 1) & (RecentHandles - 1);
    }

    private static Tensor?[] NewRing()
    {
        var ring = new Tensor?[RecentHandles];
        lock (s_rings)
        {
            s_rings.RemoveAll(r => !r.TryGetTarget(out _));
            s_rings.Add(new WeakReference<Tensor?[]>(ring));
        }
        return ring;
    }

    /// <summary>Forgets every thread's recently handed-out tensors; only safe while no native call is running.</summary>
    internal static void ForgetRecentHandles()
    {
        lock (s_rings)
            foreach (var r in s_rings)
                if (r.TryGetTarget(out var ring)) Array.Clear(ring);
    }

    internal static IntPtr HandleOrZero(Tensor? t) => t is null ? IntPtr.Zero : t.Handle;

    /// <summary>The tensor, or an ArgumentNullException naming the argument it was passed as.</summary>
    internal static Tensor NotNull([System.Diagnostics.CodeAnalysis.NotNull] Tensor? tensor, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(tensor))] string? name = null) =>
        tensor ?? throw new ArgumentNullException(name);

    /// <summary>True when this handle and <paramref name="other"/> are handles to one libtorch tensor.</summary>
    internal bool IsSameTensor(Tensor other) => NativeMethods.mvt_tensor_identity(Handle) == NativeMethods.mvt_tensor_identity(NotNull(other).Handle);

    /// <summary>
    /// Gives this tensor <paramref name="data"/>'s storage, dtype and device while it stays the same tensor (PyTorch's
    /// <c>tensor.data = data</c>): its handles, autograd flags and every reference to it see the new data.
    /// </summary>
    internal void SetData(Tensor data) => Check(NativeMethods.mvt_set_data(Handle, data.Handle));

    /// <summary>Wraps a native result, throwing the native error when the handle is null.</summary>
    internal static Tensor Wrap(IntPtr handle) => handle == IntPtr.Zero ? throw TorchException.FromNative() : new Tensor(handle);

    internal static void Check(int status)
    {
        if (status < 0) throw TorchException.FromNative();
    }

    /// <summary>Releases the native tensor. Safe to call more than once.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.mvt_free(h);
    }

    // ---------------------------------------------------------------- properties

    /// <summary>The sizes of each dimension.</summary>
    public unsafe long[] Shape
    {
        get
        {
            if (_shape is not null) { _ = Handle; return (long[])_shape.Clone(); }
            var n = NativeMethods.mvt_ndim(Handle);
            Check(n);
            var shape = new long[n];
            fixed (long* p = shape) Check(NativeMethods.mvt_shape(Handle, p, n));
            _shape = shape;
            return (long[])shape.Clone();
        }
    }

    /// <summary>Number of dimensions.</summary>
    public int Dim
    {
        get
        {
            var n = NativeMethods.mvt_ndim(Handle);
            Check(n);
            return n;
        }
    }

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long Size(int dim)
    {
        var shape = CachedShape;
        var d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"dimension out of range for a {shape.Length}-D tensor");
        return shape[d];
    }

    internal unsafe long[] CachedShape
    {
        get
        {
            if (_shape is not null) { _ = Handle; return _shape; }
            _ = Shape;
            return _shape!;
        }
    }

    /// <summary>Total number of elements.</summary>
    public long NumElements
    {
        get
        {
            var n = NativeMethods.mvt_numel(Handle);
            if (n < 0) throw TorchException.FromNative();
            return n;
        }
    }

    /// <summary>Element type.</summary>
    public ScalarType ScalarType
    {
        get
        {
            var d = NativeMethods.mvt_dtype(Handle);
            Check(d);
            return (ScalarType)d;
        }
    }

    /// <summary>The device holding the data.</summary>
    public unsafe Device Device
    {
        get
        {
            int type, index;
            Check(NativeMethods.mvt_device(Handle, &type, &index));
            return new Device((DeviceType)type, index);
        }
    }

    /// <summary>The version counter libtorch bumps on every in-place change of the data (PyTorch's <c>_version</c>).</summary>
    internal long Version
    {
        get
        {
            var v = NativeMethods.mvt_version(Handle);
            if (v < 0) throw TorchException.FromNative();
            return v;
        }
    }

    /// <summary>True when the elements are laid out contiguously in row-major order.</summary>
    public bool IsContiguous
    {
        get
        {
            var r = NativeMethods.mvt_is_contiguous(Handle);
            Check(r);
            return r == 1;
        }
    }

    // ---------------------------------------------------------------- data out

    /// <summary>Copies the elements (row-major) into a new array; the tensor may be on any device.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var result = new T[NumElements];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>Copies the elements (row-major) into <paramref name="destination"/>, whose length must equal the element count.</summary>
    public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        RequireElementType<T>();
        fixed (T* p = destination)
        {
            var status = NativeMethods.mvt_copy_to(Handle, p, (long)destination.Length * sizeof(T));
            if (status < 0) throw new ArgumentException(TorchException.FromNative().Message, nameof(destination));
        }
    }

    /// <summary>Overwrites the elements from <paramref name="source"/> (row-major), whose length must equal the element count.</summary>
    public unsafe void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        RequireElementType<T>();
        fixed (T* p = source)
        {
            var status = NativeMethods.mvt_copy_from(Handle, p, (long)source.Length * sizeof(T));
            if (status < 0) throw new ArgumentException(TorchException.FromNative().Message, nameof(source));
        }
    }

    private void RequireElementType<T>() where T : unmanaged
    {
        var want = ScalarTypeExtensions.For<T>();
        var have = ScalarType;
        if (want != have)
            throw new ArgumentException($"The tensor holds {have} elements, not {typeof(T).Name} ({want}); convert it first with To(ScalarType.{want}).");
    }

    /// <summary>The value of a one-element tensor as a double.</summary>
    public unsafe double Item()
    {
        double v;
        if (NativeMethods.mvt_item(Handle, &v) < 0) throw new InvalidOperationException(TorchException.FromNative("Item() needs a one-element tensor").Message);
        return v;
    }

    /// <summary>The value of a one-element tensor converted to <typeparamref name="T"/>.</summary>
    public unsafe T Item<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(long) || typeof(T) == typeof(int) || typeof(T) == typeof(short) || typeof(T) == typeof(byte) || typeof(T) == typeof(sbyte))
        {
            long v;
            if (NativeMethods.mvt_item_long(Handle, &v) < 0) throw new InvalidOperationException(TorchException.FromNative("Item() needs a one-element tensor").Message);
            try
            {
                return (T)Convert.ChangeType(v, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (OverflowException)
            {
                throw new OverflowException($"Item<{typeof(T).Name}>(): the tensor's value {v} does not fit in {typeof(T).Name}.");
            }
        }
        var d = Item();
        if (typeof(T) == typeof(bool)) return (T)(object)(d != 0);
        if (typeof(T) == typeof(Half)) return (T)(object)(Half)d;
        return (T)Convert.ChangeType(d, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    // ---------------------------------------------------------------- conversions

    /// <summary>Converts to another element type (a no-op alias when it already has that type).</summary>
    public Tensor To(ScalarType type) => To(type, Device);

    /// <summary>Moves to another device (a no-op alias when already there).</summary>
    public Tensor To(Device device) => To(ScalarType, device);

    /// <summary>Converts element type and device at once.</summary>
    public Tensor To(ScalarType type, Device device, bool nonBlocking = false, bool copy = false)
    {
        Guard.Defined(type);
        Tensors.Cuda.EnsureUsable(device);
        return Wrap(NativeMethods.mvt_to(Handle, (int)type, (int)device.Type, device.Index, nonBlocking ? 1 : 0, copy ? 1 : 0));
    }

    /// <summary>Copies to host memory.</summary>
    public Tensor Cpu() => To(Device.Cpu);

    /// <summary>Copies to a CUDA device.</summary>
    public Tensor Cuda(int index = 0) => To(Device.Cuda(index));

    /// <summary>Copies into page-locked host memory (faster, asynchronous transfers to CUDA).</summary>
    public Tensor PinMemory() => Wrap(NativeMethods.mvt_pin_memory(Handle));

    /// <summary>A contiguous tensor with the same data (an alias when already contiguous).</summary>
    public Tensor Contiguous() => Wrap(NativeMethods.mvt_contiguous(Handle));

    /// <summary>A copy with its own storage, recorded by autograd.</summary>
    public Tensor Clone() => Wrap(NativeMethods.mvt_clone(Handle));

    /// <summary>A new tensor sharing storage but cut from the autograd graph.</summary>
    public Tensor Detach() => Wrap(NativeMethods.mvt_detach(Handle));

    /// <summary>A second handle to the same tensor (same storage and autograd identity), owned separately.</summary>
    public Tensor Alias() => Wrap(NativeMethods.mvt_alias(Handle));

    // ---------------------------------------------------------------- display

    /// <summary>A readable description: shape, dtype, device and a preview of the values.</summary>
    public override string ToString()
    {
        if (IsDisposed) return "tensor(disposed)";
        var shape = CachedShape;
        var sb = new StringBuilder();
        sb.Append("tensor(shape=[").Append(string.Join(", ", shape)).Append("], dtype=").Append(ScalarType)
          .Append(", device=").Append(Device);
        if (RequiresGrad) sb.Append(", requires_grad");
        sb.Append(')');
        var n = NumElements;
        if (n == 0) return sb.Append(" []").ToString();
        const int preview = 12;
        double[] values;
        using (Tensors.NoGrad())
        {
            using var flat = Reshape(-1);
            using var head = flat.Narrow(0, 0, Math.Min(n, preview));
            using var asDouble = head.To(ScalarType.Float64, Device.Cpu);
            values = asDouble.ToArray<double>();
        }
        sb.Append(" [").Append(string.Join(", ", values.Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture))));
        if (n > preview) sb.Append(", … (").Append(n).Append(" values)");
        return sb.Append(']').ToString();
    }
}
