namespace MedVision.Torch;

/// <summary>The category of a libtorch error, as reported by the native shim.</summary>
public enum TorchErrorKind
{
    /// <summary>No error.</summary>
    None = 0,
    /// <summary>A general libtorch error (shape mismatch, unsupported combination, ...).</summary>
    Generic = 1,
    /// <summary>An index out of range.</summary>
    Index = 2,
    /// <summary>An invalid value.</summary>
    Value = 3,
    /// <summary>A wrong data type.</summary>
    Type = 4,
    /// <summary>An operation not implemented for the given inputs (for example the dtype or device).</summary>
    NotImplemented = 5,
    /// <summary>The allocator ran out of memory.</summary>
    OutOfMemory = 6,
    /// <summary>A collective or rendezvous of a distributed process group failed (a peer died, a timeout, a disagreement between ranks).</summary>
    Distributed = 7,
}
