using MedVision.Torch.Nn;

namespace MedVision.Torch.Distributed;

/// <summary>
/// Switches the batch-norm layers of a model to synchronised statistics (PyTorch's
/// <c>nn.SyncBatchNorm.convert_sync_batchnorm</c>): in training mode each layer normalises with the mean and variance
/// of the whole global batch, gathered over every rank of the group, so N processes with batch B train like one process
/// with batch N·B. Weights, buffers and state-dict keys are unchanged.
/// </summary>
public static class SyncBatchNorm
{
    /// <summary>Synchronises every <see cref="BatchNorm"/> in <paramref name="module"/> over <paramref name="group"/>; returns how many layers were switched.</summary>
    public static int Convert(Module module, ProcessGroup group)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(group);
        _ = group.Handle;
        int count = 0;
        foreach (var (_, m) in module.NamedModules())
            if (m is BatchNorm bn) { bn.SyncGroup = group; count++; }
        return count;
    }

    /// <summary>Returns every batch-norm layer of <paramref name="module"/> to local statistics; returns how many were switched.</summary>
    public static int Revert(Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        int count = 0;
        foreach (var (_, m) in module.NamedModules())
            if (m is BatchNorm { SyncGroup: not null } bn) { bn.SyncGroup = null; count++; }
        return count;
    }
}
