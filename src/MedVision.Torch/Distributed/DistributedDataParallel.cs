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
/// module skip synchronisation (PyTorch's <c>no_sync</c>). Code that drives the forward itself can use
/// <see cref="GradientSynchronizer"/> directly.
/// </remarks>
/// <example><code>
/// using var group = ProcessGroup.Initialize(DistributedOptions.FromEnvironment());
/// using var ddp = new DistributedDataParallel&lt;Tensor, Tensor&gt;(model, group);
/// var loss = Functional.CrossEntropy(ddp.Call(images), labels);
/// loss.Backward();                 // gradients are now averaged over the ranks
/// optimizer.Step();
/// </code></example>
public sealed class DistributedDataParallel<TInput, TOutput> : Module<TInput, TOutput>
{
    private readonly GradientSynchronizer _sync;

    /// <summary>Wraps <paramref name="module"/> (already on its device) for data-parallel training over <paramref name="group"/>.</summary>
    /// <exception cref="ArgumentException">The model has no trainable parameters.</exception>
    /// <exception cref="DistributedException">Copying rank 0's weights failed (a peer died or timed out).</exception>
    public DistributedDataParallel(Module<TInput, TOutput> module, ProcessGroup group, DataParallelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        _sync = new GradientSynchronizer(module, group, options);
        Module = RegisterModule("module", module);
    }

    /// <summary>The wrapped model.</summary>
    public Module<TInput, TOutput> Module { get; }

    /// <summary>The process group the gradients are averaged over.</summary>
    public ProcessGroup Group => _sync.Group;

    /// <summary>The options.</summary>
    public DataParallelOptions Options => _sync.Options;

    /// <summary>Communication counters: steps, bytes, time waiting for all-reduces, overlap with backward.</summary>
    public DataParallelStatistics Statistics => _sync.Statistics;

    /// <summary>
    /// Runs the model. In training mode with gradients enabled it first copies rank 0's buffers (when
    /// <see cref="DataParallelOptions.BroadcastBuffers"/>) and arms gradient averaging for the next backward.
    /// </summary>
    public override TOutput Forward(TInput input)
    {
        if (Training && Tensors.IsGradEnabled) _sync.PrepareForward();
        return Module.Call(input);
    }

    /// <inheritdoc />
    public override string TypeName => "DistributedDataParallel";

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _sync.Dispose();
        base.Dispose(disposing);
    }
}
