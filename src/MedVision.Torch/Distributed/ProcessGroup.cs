using MedVision.Torch.Native;

namespace MedVision.Torch.Distributed;

/// <summary>
/// A group of processes that communicate through PyTorch's c10d (Gloo on CPU, NCCL on CUDA): what
/// <c>torch.distributed.init_process_group</c> creates. Rank 0 serves a TCP store at the master address; every rank
/// connects to it, and the backend then builds its own connections between the ranks. Every collective must be called
/// by every rank, in the same order. Every wait is bounded by <see cref="DistributedOptions.Timeout"/>: a peer that dies
/// or never arrives gives a <see cref="DistributedException"/>, never an endless hang.
/// </summary>
/// <example><code>
/// using var group = ProcessGroup.Initialize(DistributedOptions.FromEnvironment());
/// using var t = Tensors.Full(new long[] { 3 }, group.Rank + 1.0);
/// group.AllReduce(t);                      // every rank now holds 1 + 2 + ... + world size
/// </code></example>
public sealed class ProcessGroup : IDisposable
{
    private IntPtr _handle;

    private ProcessGroup(IntPtr handle, DistributedOptions options)
    {
        _handle = handle;
        Options = options;
    }

    /// <summary>Finalizer: a backstop that closes the group if it was never disposed.</summary>
    ~ProcessGroup() => Release();

    /// <summary>The options the group was created with.</summary>
    public DistributedOptions Options { get; }

    /// <summary>This process's rank.</summary>
    public int Rank => Options.Rank;

    /// <summary>Number of processes.</summary>
    public int WorldSize => Options.WorldSize;

    /// <summary>The backend.</summary>
    public DistributedBackend Backend => Options.Backend;

    /// <summary>True on rank 0, the process that writes checkpoints and logs.</summary>
    public bool IsMaster => Options.Rank == 0;

    internal IntPtr Handle
    {
        get
        {
            var h = _handle;
            if (h == IntPtr.Zero) throw new ObjectDisposedException(nameof(ProcessGroup), "The process group has been disposed.");
            return h;
        }
    }

    /// <summary>True when this build of the native shim includes <paramref name="backend"/> (Gloo needs the gloo headers at build time; NCCL a CUDA libtorch).</summary>
    public static bool IsAvailable(DistributedBackend backend = DistributedBackend.Gloo)
    {
        return NativeMethods.mvt_dist_backend_available((int)backend) == 1;
    }

    /// <summary>
    /// Joins the group: blocks until all <see cref="DistributedOptions.WorldSize"/> ranks have arrived (or the timeout
    /// passes). Rank 0 must be able to listen on <see cref="DistributedOptions.MasterPort"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="NotSupportedException">The backend is not in this build.</exception>
    /// <exception cref="DistributedException">The rendezvous failed or timed out, or the ranks disagree on the world size.</exception>
    public static ProcessGroup Initialize(DistributedOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!IsAvailable(options.Backend))
            throw new NotSupportedException(options.Backend == DistributedBackend.Gloo
                ? "This build of the native shim has no Gloo backend: install the gloo headers (sudo apt-get install -y libgloo-dev) and rebuild."
                : "This build of the native shim has no NCCL backend: build it against a CUDA libtorch with nccl.h available (MEDVISION_LIBTORCH).");
        var handle = NativeMethods.mvt_dist_init((int)options.Backend, options.MasterAddress, options.MasterPort, options.WorldSize,
            options.Rank, (long)Math.Ceiling(options.Timeout.TotalMilliseconds));
        if (handle == IntPtr.Zero)
        {
            var error = TorchException.FromNative();
            if (error.Kind == TorchErrorKind.Value) throw new ArgumentException(error.Message);
            throw error is DistributedException ? error : new DistributedException(error.Message);
        }
        return new ProcessGroup(handle, options);
    }

    /// <summary>Combines <paramref name="tensor"/> over all ranks, in place (<c>dist.all_reduce</c>). The tensor must be contiguous.</summary>
    public Tensor AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (NativeMethods.mvt_dist_all_reduce(Handle, tensor.Handle, (int)op) < 0) throw Fail();
        return tensor;
    }

    /// <summary>Copies rank <paramref name="root"/>'s tensor into every other rank's, in place (<c>dist.broadcast</c>).</summary>
    public Tensor Broadcast(Tensor tensor, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (NativeMethods.mvt_dist_broadcast(Handle, tensor.Handle, root) < 0) throw Fail();
        return tensor;
    }

    /// <summary>Every rank's tensor (all of the same shape), stacked along a new first dimension indexed by rank (<c>dist.all_gather</c>).</summary>
    public Tensor AllGather(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var h = NativeMethods.mvt_dist_all_gather(Handle, tensor.Handle);
        if (h == IntPtr.Zero) throw Fail();
        return new Tensor(h);
    }

    /// <summary>
    /// Concatenates every rank's tensor along dimension 0 in rank order, where the ranks may hold different numbers of
    /// rows (e.g. the predictions of uneven shards). The other dimensions must agree.
    /// </summary>
    public Tensor AllGatherConcat(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Dim < 1) throw new ArgumentException("AllGatherConcat needs a tensor with at least one dimension.", nameof(tensor));
        using var scope = Tensors.NewDisposeScope();
        var shape = tensor.CachedShape;
        using var rows = Tensors.FromArray(new[] { shape[0] }, 1);
        var counts = AllGather(rows).Flatten().ToArray<long>();
        var max = counts.Max();
        var padded = shape[0] == max ? tensor.Contiguous() : PadRows(tensor, max);
        var gathered = AllGather(padded);
        var parts = new List<Tensor>();
        for (int r = 0; r < counts.Length; r++) parts.Add(gathered.Select(0, r).Narrow(0, 0, counts[r]));
        return scope.MoveToOuter(Tensors.Cat(parts, 0));
    }

    private static Tensor PadRows(Tensor tensor, long rows)
    {
        var shape = tensor.CachedShape.ToArray();
        var extra = (long[])shape.Clone();
        extra[0] = rows - shape[0];
        using var zeros = Tensors.Zeros(extra, tensor.ScalarType, tensor.Device);
        return Tensors.Cat(new[] { tensor, zeros }, 0);
    }

    /// <summary>Blocks until every rank has reached the barrier (<c>dist.barrier</c>).</summary>
    public void Barrier()
    {
        if (NativeMethods.mvt_dist_barrier(Handle) < 0) throw Fail();
    }

    /// <summary>
    /// Differentiable sum over ranks: returns a new tensor holding the sum of every rank's <paramref name="tensor"/>;
    /// its backward all-reduces the incoming gradient. <see cref="Nn.BatchNorm"/>'s synchronised mode builds on it.
    /// </summary>
    public Tensor AllReduceWithGradient(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var h = NativeMethods.mvt_dist_all_reduce_sum_autograd(Handle, tensor.Handle);
        if (h == IntPtr.Zero) throw Fail();
        return new Tensor(h);
    }

    private static Exception Fail()
    {
        var error = TorchException.FromNative();
        return error.Kind == TorchErrorKind.Value ? new ArgumentException(error.Message) : error is DistributedException ? error : new DistributedException(error.Message);
    }

    /// <summary>Leaves the group: closes the backend's connections and the store.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.mvt_dist_free(h);
    }

    /// <inheritdoc />
    public override string ToString() => $"ProcessGroup({Backend}, rank {Rank} of {WorldSize}, {Options.MasterAddress}:{Options.MasterPort})";
}
