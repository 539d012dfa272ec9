using MedVision.Torch.Native;

namespace MedVision.Torch;

/// <summary>
/// A region of automatic mixed precision on the current thread (torch.autocast), from <see cref="Tensors.Autocast"/>:
/// inside it, convolutions, matrix products and linear layers on the region's device run in a lower precision
/// (bfloat16 on the CPU, where oneDNN uses the processor's bfloat16 instructions; float16 or bfloat16 on CUDA), while
/// reductions, losses and normalisation statistics stay in float32. Parameters and their gradients stay float32, so an
/// optimizer works unchanged; backward may run outside the region. Disposing restores the state the region found, on
/// the thread that created it. Regions nest, as PyTorch's do (an inner <c>enabled: false</c> region turns casting off).
/// </summary>
public sealed class AutocastScope : IDisposable
{
    private readonly int _device;
    private readonly int _previousEnabled;
    private readonly int _previousDtype;
    private readonly int _threadId;
    private bool _disposed;

    internal unsafe AutocastScope(DeviceType device, ScalarType dtype, bool enabled)
    {
        _device = device == DeviceType.Cuda ? 1 : 0;
        DeviceType = device;
        ScalarType = dtype;
        Enabled = enabled;
        int previousEnabled, previousDtype;
        Tensor.Check(NativeMethods.mvt_autocast_enter(_device, enabled ? 1 : 0, (int)dtype, &previousEnabled, &previousDtype));
        _previousEnabled = previousEnabled;
        _previousDtype = previousDtype;
        _threadId = Environment.CurrentManagedThreadId;
    }

    /// <summary>The device whose operations the region casts.</summary>
    public DeviceType DeviceType { get; }

    /// <summary>The lower precision of the region.</summary>
    public ScalarType ScalarType { get; }

    /// <summary>Whether the region casts (false for a region that turns an outer one off).</summary>
    public bool Enabled { get; }

    /// <summary>Restores the autocast state that was in force when the region began.</summary>
    /// <exception cref="InvalidOperationException">Disposed on another thread than the one that created it (autocast
    /// state belongs to a thread; an <c>await</c> inside the region can resume elsewhere).</exception>
    public void Dispose()
    {
        if (_disposed) return;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException(
                $"An autocast region must end on the thread that began it (thread {_threadId}, not {Environment.CurrentManagedThreadId}); do not await inside it.");
        _disposed = true;
        Tensor.Check(NativeMethods.mvt_autocast_exit(_device, _previousEnabled, _previousDtype));
    }
}
