using MedVision.Torch.Native;

namespace MedVision.Torch;

/// <summary>
/// The caching allocator behind every CPU tensor (the CPU counterpart of <c>torch.cuda.memory_stats</c> and
/// <c>torch.cuda.empty_cache</c>).
/// </summary>
/// <remarks>
/// <para>
/// glibc's malloc hands every block above its mmap threshold (at most 32 MiB) back to the kernel when it is freed, so a
/// training step whose activations are that large faults all of their pages in again on every step. MedVision.Torch
/// therefore installs its own CPU allocator when the native library loads: blocks of
/// <see cref="CpuMemoryStatistics.MinimumCachedBlockSize"/> (1 MiB) and more are kept after they are freed, in size
/// classes at most 12.5% apart, and reused for later tensors of the same class, up to <see cref="CacheLimit"/> bytes
/// (least recently used classes are released first). Smaller blocks go to malloc as with libtorch's default allocator.
/// Measured on 2 cores: a ResNet-50 (28×28, batch 128) training epoch on RetinaMNIST takes 36–44 s instead of
/// 140–160 s (docs/benchmarks.md).
/// </para>
/// <para>
/// Environment, read once when the native library loads: <c>MEDVISION_CPU_CACHE_LIMIT</c> sets the initial limit
/// in bytes (suffixes K, M, G; 0 disables caching); <c>MEDVISION_CPU_ALLOCATOR=default</c> keeps libtorch's default
/// allocator (then <see cref="IsInstalled"/> is false and the other members do nothing). Tensor contents are never
/// affected: a reused block is handed out uninitialised, exactly like a fresh <c>torch.empty</c>.
/// </para>
/// </remarks>
public static class CpuMemory
{
    /// <summary>True when the caching allocator serves CPU tensors (false with MEDVISION_CPU_ALLOCATOR=default, or on a C library without malloc_usable_size).</summary>
    public static bool IsInstalled => NativeMethods.mvt_cpu_cache_installed() == 1;

    /// <summary>
    /// Most bytes the allocator keeps in its cache of freed blocks (default: a quarter of the physical memory, or
    /// MEDVISION_CPU_CACHE_LIMIT). Lowering it releases cached blocks at once; 0 stops caching.
    /// </summary>
    public static long CacheLimit
    {
        get => GetStatistics().Limit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Tensor.Check(NativeMethods.mvt_cpu_cache_set_limit(value));
        }
    }

    /// <summary>Returns every cached (freed, kept) block to the system. Tensors in use are not touched.</summary>
    public static void EmptyCache() => Tensor.Check(NativeMethods.mvt_cpu_cache_empty());

    /// <summary>Sets <see cref="CpuMemoryStatistics.PeakLargeBytesInUse"/> to the bytes in use now, to measure the peak of a section of code.</summary>
    public static void ResetPeak() => Tensor.Check(NativeMethods.mvt_cpu_cache_reset_peak());

    /// <summary>A snapshot of the allocator's counters (all zero when it is not installed).</summary>
    public static unsafe CpuMemoryStatistics GetStatistics()
    {
        CpuMemoryStatsNative s;
        Tensor.Check(NativeMethods.mvt_cpu_cache_stats(&s));
        return new CpuMemoryStatistics(s.CachedBytes, s.CachedBlocks, s.LargeBytesInUse, s.PeakLargeBytesInUse,
            s.CacheHits, s.CacheMisses, s.EvictedBlocks, s.Limit, s.MinCachedBlock);
    }
}

/// <summary>Counters of the CPU caching allocator (<see cref="CpuMemory.GetStatistics"/>). Sizes are in bytes, rounded up to the allocator's size classes.</summary>
/// <param name="CachedBytes">Bytes held in freed blocks kept for reuse.</param>
/// <param name="CachedBlocks">Number of those blocks.</param>
/// <param name="LargeBytesInUse">Bytes of live blocks of at least <paramref name="MinimumCachedBlockSize"/> (smaller tensors are not counted).</param>
/// <param name="PeakLargeBytesInUse">Highest <paramref name="LargeBytesInUse"/> since the process started or <see cref="CpuMemory.ResetPeak"/>.</param>
/// <param name="CacheHits">Large allocations served from the cache.</param>
/// <param name="CacheMisses">Large allocations that had to ask the system for memory.</param>
/// <param name="EvictedBlocks">Cached blocks released to stay within the limit.</param>
/// <param name="Limit">The cache limit (<see cref="CpuMemory.CacheLimit"/>).</param>
/// <param name="MinimumCachedBlockSize">Smallest block the allocator caches (1 MiB).</param>
public readonly record struct CpuMemoryStatistics(
    long CachedBytes, long CachedBlocks, long LargeBytesInUse, long PeakLargeBytesInUse,
    long CacheHits, long CacheMisses, long EvictedBlocks, long Limit, long MinimumCachedBlockSize)
{
    /// <summary>Share of large allocations served from the cache (0 when there were none).</summary>
    public double HitRate => CacheHits + CacheMisses == 0 ? 0 : (double)CacheHits / (CacheHits + CacheMisses);
}
