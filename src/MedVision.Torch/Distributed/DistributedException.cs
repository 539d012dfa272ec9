namespace MedVision.Torch.Distributed;

/// <summary>
/// A collective or the rendezvous failed: a peer died or closed its connection, a wait exceeded the group's timeout,
/// or the ranks disagree (e.g. on the world size). The message names the operation, the rank and libtorch's reason.
/// </summary>
public sealed class DistributedException : TorchException
{
    /// <summary>Creates the exception.</summary>
    public DistributedException(string? message, TorchErrorKind kind = TorchErrorKind.Distributed) : base(message, kind) { }

    internal static DistributedException FromNative()
    {
        var inner = TorchException.FromNative();
        return new DistributedException(inner.Message, inner.Kind);
    }
}
