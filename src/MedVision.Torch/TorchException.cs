using System.Runtime.InteropServices;
using MedVision.Torch.Native;

namespace MedVision.Torch;

/// <summary>An error raised by libtorch, carrying libtorch's own message. The process keeps working after it.</summary>
public class TorchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TorchException(string? message, TorchErrorKind kind = TorchErrorKind.Generic) : base(message) => Kind = kind;

    /// <summary>The category of the error.</summary>
    public TorchErrorKind Kind { get; }

    /// <summary>Builds an exception from the native shim's thread-local last error.</summary>
    internal static TorchException FromNative(string? context = null)
    {
        var kind = (TorchErrorKind)NativeMethods.mvt_last_error_kind();
        var message = Marshal.PtrToStringUTF8(NativeMethods.mvt_last_error()) ?? "unknown libtorch error";
        if (kind == TorchErrorKind.None) message = "libtorch reported a failure without a message";
        message = message.Trim();
        // A tensor whose byte count does not fit in 64 bits cannot be allocated either: libtorch says so before asking
        // the allocator, as a generic error.
        if (kind == TorchErrorKind.Generic && message.StartsWith("Storage size calculation overflowed", StringComparison.Ordinal))
            kind = TorchErrorKind.OutOfMemory;
        if (context is not null) message = $"{context}: {message}";
        return kind switch
        {
            TorchErrorKind.OutOfMemory => new TorchOutOfMemoryException(message),
            TorchErrorKind.Distributed => new Distributed.DistributedException(message),
            _ => new TorchException(message, kind),
        };
    }

    /// <summary>
    /// Like <see cref="FromNative(string?)"/>, but builds the context only after the native error has been read: a
    /// context that queries tensors (shape, dtype) calls into the shim, which clears the thread's last error.
    /// </summary>
    internal static TorchException FromNative(Func<string> context)
    {
        var native = FromNative();
        var message = $"{context()}: {native.Message}";
        if (native.Kind == TorchErrorKind.Distributed) return new Distributed.DistributedException(message);
        return native.Kind == TorchErrorKind.OutOfMemory ? new TorchOutOfMemoryException(message) : new TorchException(message, native.Kind);
    }
}

/// <summary>libtorch's allocator (CPU or CUDA) ran out of memory, or a tensor was asked for whose size in bytes does not fit in 64 bits.</summary>
public sealed class TorchOutOfMemoryException : TorchException
{
    /// <summary>Creates the exception.</summary>
    public TorchOutOfMemoryException(string? message) : base(message, TorchErrorKind.OutOfMemory) { }
}
