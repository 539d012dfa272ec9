namespace MedVision.Torch;

/// <summary>
/// Thrown on first use when the native shim or libtorch cannot be loaded. The message names the missing library
/// and the command that installs it.
/// </summary>
public sealed class TorchNotFoundException : DllNotFoundException
{
    /// <summary>Creates the exception with a message.</summary>
    public TorchNotFoundException(string? message) : base(message) { }

    /// <summary>Creates the exception with a message and the loader's exception.</summary>
    public TorchNotFoundException(string? message, Exception? inner) : base(message, inner) { }
}
