using MedVision.Torch.Native;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Distributed;

/// <summary>
/// The engine of data-parallel training, for code that drives a model's forward itself (a trainer, a multi-input
/// task): on construction it copies rank 0's parameters and buffers to every rank; <see cref="PrepareForward"/>, called
/// before each training forward, copies rank 0's buffers (when <see cref="DataParallelOptions.BroadcastBuffers"/>) and
/// arms gradient averaging; the following backward then averages the gradients over the ranks in buckets, each bucket's
/// all-reduce starting as soon as its gradients are ready so that communication overlaps the rest of backward.
/// <see cref="DistributedDataParallel{TInput, TOutput}"/> wraps a model with one.
/// </summary>
public sealed class GradientSynchronizer : IDisposable
{
    private IntPtr _reducer;
    private readonly Tensor[] _buffers;

    /// <summary>Prepares data-parallel training of <paramref name="model"/> (already on its device) over <paramref name="group"/>.</summary>
    /// <exception cref="ArgumentException">The model has no trainable parameters.</exception>
    /// <exception cref="DistributedException">Copying rank 0's weights failed (a peer died or timed out).</exception>
    public unsafe GradientSynchronizer(Module model, ProcessGroup group, DataParallelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(group);
        Options = options ?? new DataParallelOptions();
        if (Options.BucketCapBytes <= 0) throw new ArgumentOutOfRangeException(nameof(options), Options.BucketCapBytes, "BucketCapBytes must be positive.");
        Group = group;
        Model = model;
        var parameters = model.Parameters().Where(p => p.RequiresGrad).ToArray();
        if (parameters.Length == 0) throw new ArgumentException("The model has no trainable parameters to synchronise.", nameof(model));
        _buffers = model.Buffers().ToArray();
        if (Options.SyncBatchNorm) SyncBatchNorm.Convert(model, group);
        using (Tensors.NoGrad())
        {
            foreach (var p in model.Parameters()) group.Broadcast(p, 0);
            foreach (var b in _buffers) group.Broadcast(b, 0);
        }
        var handles = parameters.Select(p => p.Handle).ToArray();
        fixed (IntPtr* h = handles) _reducer = NativeMethods.mvt_ddp_create(group.Handle, h, handles.Length, Options.BucketCapBytes);
        if (_reducer == IntPtr.Zero) throw TorchException.FromNative("creating the gradient reducer");
    }

    /// <summary>The synchronised model.</summary>
    public Module Model { get; }

    /// <summary>The process group.</summary>
    public ProcessGroup Group { get; }

    /// <summary>The options.</summary>
    public DataParallelOptions Options { get; }

    private IntPtr Reducer => _reducer != IntPtr.Zero ? _reducer : throw new ObjectDisposedException(nameof(GradientSynchronizer));

    /// <summary>
    /// Call before each training forward: copies rank 0's buffers (when enabled) and makes the next backward average
    /// the gradients. A backward without it keeps local gradients (PyTorch's <c>no_sync</c>, for gradient accumulation).
    /// </summary>
    public void PrepareForward()
    {
        if (Options.BroadcastBuffers && Group.WorldSize > 1)
            using (Tensors.NoGrad())
                foreach (var b in _buffers) Group.Broadcast(b, 0);
        Tensor.Check(NativeMethods.mvt_ddp_prepare_backward(Reducer));
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

    /// <summary>Removes the gradient hooks and frees the buckets (the model and group stay).</summary>
    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _reducer, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.mvt_ddp_free(h);
    }
}
