namespace MedVision.Torch.Distributed;

/// <summary>The c10d communication backend of a <see cref="ProcessGroup"/>.</summary>
public enum DistributedBackend
{
    /// <summary>Gloo: CPU tensors, TCP between processes (PyTorch's CPU default).</summary>
    Gloo = 0,
    /// <summary>NCCL: CUDA tensors, one GPU per process (needs a CUDA build of libtorch).</summary>
    Nccl = 1,
}
