using MedVision.Torch.Native;

namespace MedVision.Torch.Autograd;

/// <summary>Sets gradient recording on the current thread and restores the previous mode when disposed.</summary>
public sealed class GradModeScope : IDisposable
{
    private readonly bool _previous;
    private bool _disposed;

    internal GradModeScope(bool enabled)
    {
        _previous = NativeMethods.mvt_grad_enabled() == 1;
        Tensor.Check(NativeMethods.mvt_set_grad_enabled(enabled ? 1 : 0));
    }

    /// <summary>Restores the previous gradient mode.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMethods.mvt_set_grad_enabled(_previous ? 1 : 0);
    }
}
