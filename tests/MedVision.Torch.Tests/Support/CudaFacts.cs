using MedVision.Torch;

namespace MedVision.Torch.Tests.Support;

/// <summary>Whether this process can run CUDA work (a CUDA build of libtorch and a GPU), read once.</summary>
public static class CudaSupport
{
    private static readonly Lazy<bool> Available = new(() =>
    {
        try { return Tensors.Cuda.IsAvailable; }
        catch (Exception) { return false; }
    });

    /// <summary>True when CUDA tests can run.</summary>
    public static bool IsAvailable => Available.Value;

    /// <summary>The reason given for skipping.</summary>
    public const string SkipReason = "needs a CUDA build of libtorch (MEDVISION_LIBTORCH) and an NVIDIA GPU";
}

/// <summary>A fact that runs only where CUDA is available; reported as skipped elsewhere (e.g. CI, which has no GPU).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    /// <summary>Skips the test unless CUDA is available.</summary>
    public CudaFactAttribute()
    {
        if (!CudaSupport.IsAvailable) Skip = CudaSupport.SkipReason;
    }
}

/// <summary>A theory that runs only where CUDA is available.</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips the theory unless CUDA is available.</summary>
    public CudaTheoryAttribute()
    {
        if (!CudaSupport.IsAvailable) Skip = CudaSupport.SkipReason;
    }
}

/// <summary>A fact about the CPU-only build (what asking for CUDA does there); skipped where CUDA is available.</summary>
public sealed class CpuBuildFactAttribute : FactAttribute
{
    /// <summary>Skips the test where CUDA is available.</summary>
    public CpuBuildFactAttribute()
    {
        if (CudaSupport.IsAvailable) Skip = "checks the behaviour of a libtorch without CUDA; this one has CUDA";
    }
}
