using MedVision.Torch.Native;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Distributed;

/// <summary>
/// Data-parallel training over a <see cref="ProcessGroup"/>, as PyTorch's <c>DistributedDataParallel</c>: each rank runs
/// the same model on its own shard of the batch; on construction the parameters and buffers are copied from rank 0;
/// during backward the gradients are averaged over the ranks in buckets, each all-reduce starting as soon as its bucket's
/// gradients are ready so that communication overlaps the rest of backward. After <c>loss.Backward()</c> every rank holds
/// the same averaged gradients, so identical optimizers keep the replicas identical.
/// </summary>
/// <remarks>
/// The wrapped model is registered as the child "module" (state-dict keys gain a "module." prefix, as in PyTorch); save
/// <see cref="Module"/> itself to get plain keys. Disposing the wrapper disposes the model. Gradients are averaged only
/// for a backward that follows a training-mode forward through the wrapper with gradients enabled; forwards of the inner
/// module skip synchronisation (PyTorch's <c>no_sync</c>).
/// </remarks>
public sealed class DistributedDataParallel<TInput, TOutput> : Module<TInput, TOutput>
{
    private IntPtr _reducer;
    private readonly Tensor[] _buffers;

    /// <summary>Wraps <paramref name="module"/> (already on its device) for data-parallel training over <paramref name="group"/>.</summary>
    /// <exception cref="ArgumentException">The model has no trainable parameters.</exception>
    /// <exception cref="DistributedException">Copying rank 0's weights failed (a peer died or timed out).</exception>
    public unsafe DistributedDataParallel(Module<TInput, TOutput> module, ProcessGroup group, DataParallelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(group);
        Options = options ?? new DataParallelOptions();
        if (Options.BucketCapBytes <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.BucketCapBytes, "BucketCapBytes must be positive.");
        Group = group;
        Module = RegisterModule("module", module);
        var parameters = module.Parameters().Where(p => p.RequiresGrad).ToArray();
        if (parameters.Length == 0) throw new ArgumentException("The model has no trainable parameters to synchronise.", nameof(module));
        _buffers = module.Buffers().ToArray();
        if (Options.SyncBatchNorm) Distributed.SyncBatchNorm.Convert(module, group);
        using (Tensors.NoGrad())
        {
            foreach (var p in module.Parameters()) group.Broadcast(p, 0);
            foreach (var b in _buffers) group.Broadcast(b, 0);
        }
        var handles = parameters.Select(p => p.Handle).ToArray();
        fixed (IntPtr* h = handles) _reducer = NativeMethods.mvt_ddp_create(group.Handle, h, handles.Length, Options.BucketCapBytes);
        if (_reducer == IntPtr.Zero) throw new DistributedException(TorchException.FromNative("creating the gradient reducer").Message);
    }

    /// <summary>The wrapped model.</summary>
    public Module<TInput, TOutput> Module { get; }

    /// <summary>The process group the gradients are averaged over.</summary>
    public ProcessGroup Group { get; }

    /// <summary>The options.</summary>
    public DataParallelOptions Options { get; }

    private IntPtr Reducer => _reducer != IntPtr.Zero ? _reducer : throw new ObjectDisposedException(nameof(DistributedDataParallel<TInput, TOutput>));

    /// <summary>
    /// Runs the model. In training mode with gradients enabled it first copies rank 0's buffers (when
    /// <see cref="DataParallelOptions.BroadcastBuffers"/>) and arms gradient averaging for the next backward.
    /// </summary>
    public override TOutput Forward(TInput input)
    {
        if (Training && Tensors.IsGradEnabled)
        {
            if (Options.BroadcastBuffers && Group.WorldSize > 1)
                using (Tensors.NoGrad())
                    foreach (var b in _buffers) Group.Broadcast(b, 0);
            Tensor.Check(NativeMethods.mvt_ddp_prepare_backward(Reducer));
        }
        return Module.Call(input);
    }

    /// <summary>Communication counters: steps, bytes, time waiting for all-reduces, overlap with backward.</summary>
    public unsafe DataParallelStatistics Statistics
    {
        get
        {
            var s = stackalloc long[4];
            Tensor.Check(NativeMethods.mvt_ddp_stats(Reducer, s));
            var buckets = NativeMethods.mvt_ddp_bucket_count(Reducer);
            Tensor.Check(buckets);
            return new DataParallelStatistics(s[0], s[1], TimeSpan.FromTicks(s[2] * 10), s[3], buckets);
        }
    }

    /// <inheritdoc />
    public override string TypeName => "DistributedDataParallel";

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        var h = Interlocked.Exchange(ref _reducer, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.mvt_ddp_free(h);
        base.Dispose(disposing);
    }
}
