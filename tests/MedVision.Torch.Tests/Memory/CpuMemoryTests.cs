using System.Globalization;
using Xunit.Abstractions;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Memory;

/// <summary>
/// The CPU caching allocator: freed large blocks are reused within their size class, stay within the limit, never
/// carry old contents into initialised tensors, are thread-safe, and spare the page faults that glibc's mmap/munmap
/// of large blocks costs. Runs alone: the counters are process-wide.
/// </summary>
[Collection(SerialCollection.Name)]
public class CpuMemoryTests
{
    private const long MiB = 1 << 20;
    private readonly ITestOutputHelper _output;
    public CpuMemoryTests(ITestOutputHelper output) => _output = output;

    private static Tensor Floats(long bytes) => Tensors.Empty([bytes / sizeof(float)]);

    /// <summary>Runs a test body with a given cache limit and restores the previous limit afterwards.</summary>
    private static void WithLimit(long limit, Action body)
    {
        var previous = CpuMemory.CacheLimit;
        try
        {
            CpuMemory.EmptyCache();
            CpuMemory.CacheLimit = limit;
            body();
        }
        finally
        {
            CpuMemory.CacheLimit = previous;
        }
    }

    private static double SumOf(Tensor t)
    {
        using var sum = t.Sum();
        return sum.Item();
    }

    private static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);  // field 10 of /proc/pid/stat: minflt
    }

    [Fact]
    public void IsInstalledByDefault_WithALimitAndAOneMiBThreshold()
    {
        CpuMemory.IsInstalled.Should().BeTrue("the shim installs its allocator when it loads, unless MEDVISION_CPU_ALLOCATOR=default");
        var s = CpuMemory.GetStatistics();
        s.MinimumCachedBlockSize.Should().Be(MiB);
        s.Limit.Should().BePositive();
    }

    [Fact]
    public void FreedLargeBlock_ServesTheNextTensorOfItsSizeClass()
    {
        WithLimit(256 * MiB, () =>
        {
            var before = CpuMemory.GetStatistics();
            using (var a = Floats(20_000_000)) { }  // class 20 MiB (2 MiB steps above 16 MiB)
            var afterFirst = CpuMemory.GetStatistics();
            afterFirst.CacheMisses.Should().Be(before.CacheMisses + 1);
            afterFirst.CachedBlocks.Should().Be(1);
            afterFirst.CachedBytes.Should().Be(20 * MiB);

            using (var b = Floats(19_600_000)) // a different size of the same class: reuses the block
            {
                var during = CpuMemory.GetStatistics();
                during.CacheHits.Should().Be(before.CacheHits + 1);
                during.CachedBytes.Should().Be(0);
                during.LargeBytesInUse.Should().Be(before.LargeBytesInUse + 20 * MiB);
            }
            using (var c = Floats(30_000_000)) // another class: a miss
            {
                CpuMemory.GetStatistics().CacheMisses.Should().Be(before.CacheMisses + 2);
            }
            var end = CpuMemory.GetStatistics();
            end.CachedBytes.Should().Be(20 * MiB + 30 * MiB);  // 30,000,000 bytes round up to 30 MiB
            end.LargeBytesInUse.Should().Be(before.LargeBytesInUse);
            end.HitRate.Should().BeGreaterThan(0);

            CpuMemory.EmptyCache();
            CpuMemory.GetStatistics().CachedBytes.Should().Be(0);
        });
    }

    [Fact]
    public void ReusedBlock_DoesNotLeakOldValuesIntoInitialisedTensors()
    {
        WithLimit(256 * MiB, () =>
        {
            long n = 3_000_000;
            var hits = CpuMemory.GetStatistics().CacheHits;
            using (var full = Tensors.Full([n], 7)) SumOf(full).Should().BeApproximately(7.0 * n, 7.0 * n * 1e-6);
            using var zeros = Tensors.Zeros([n]);
            CpuMemory.GetStatistics().CacheHits.Should().Be(hits + 1, "the zeros take the block the sevens were in");
            SumOf(zeros).Should().Be(0);
            zeros.Dispose();
            using var ones = Tensors.Ones(n);
            SumOf(ones).Should().Be(n);
        });
    }

    [Fact]
    public void Cache_StaysWithinItsLimit_EvictingTheLeastRecentlyUsedClassFirst()
    {
        WithLimit(4 * MiB, () =>
        {
            var start = CpuMemory.GetStatistics();
            var blocks = Enumerable.Range(0, 3).Select(_ => Floats(3 * MiB / 2)).ToList();  // class 1.5 MiB
            foreach (var t in blocks) t.Dispose();
            var s = CpuMemory.GetStatistics();
            s.CachedBlocks.Should().Be(2, "two 1.5 MiB blocks fit the 4 MiB limit; the third goes back to the system");
            s.CachedBytes.Should().Be(3 * MiB);
            s.EvictedBlocks.Should().Be(start.EvictedBlocks);

            using (var b = Floats(5 * MiB / 4)) { }  // class 1.25 MiB: one 1.5 MiB block makes room for it
            s = CpuMemory.GetStatistics();
            s.EvictedBlocks.Should().Be(start.EvictedBlocks + 1);
            s.CachedBytes.Should().Be(3 * MiB / 2 + 5 * MiB / 4);

            using (var a = Floats(3 * MiB / 2)) { }  // a hit: class 1.5 MiB is now the most recently used
            using (var c = Floats(2 * MiB)) { }      // class 2 MiB: evicts the least recently used class, 1.25 MiB
            s = CpuMemory.GetStatistics();
            s.EvictedBlocks.Should().Be(start.EvictedBlocks + 2);
            s.CachedBytes.Should().Be(3 * MiB / 2 + 2 * MiB);

            var hits = s.CacheHits;
            var misses = s.CacheMisses;
            using (var a = Floats(3 * MiB / 2)) CpuMemory.GetStatistics().CacheHits.Should().Be(hits + 1, "1.5 MiB was kept");
            using (var b = Floats(5 * MiB / 4)) CpuMemory.GetStatistics().CacheMisses.Should().Be(misses + 1, "1.25 MiB was evicted");

            using (var huge = Floats(8 * MiB)) { }  // larger than the limit: never cached
            CpuMemory.GetStatistics().CachedBytes.Should().BeLessThanOrEqualTo(4 * MiB);

            CpuMemory.CacheLimit = 2 * MiB;  // lowering the limit releases at once
            CpuMemory.GetStatistics().CachedBytes.Should().BeLessThanOrEqualTo(2 * MiB);
        });
    }

    [Fact]
    public void ZeroLimit_ReturnsEveryFreedBlockToTheSystem()
    {
        WithLimit(0, () =>
        {
            using (var a = Floats(10 * MiB)) { }
            CpuMemory.GetStatistics().CachedBytes.Should().Be(0);
        });
        var act = () => CpuMemory.CacheLimit = -1;
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Peak_CountsLargeBlocksAliveAtTheSameTime()
    {
        WithLimit(256 * MiB, () =>
        {
            var start = CpuMemory.GetStatistics().LargeBytesInUse;
            CpuMemory.ResetPeak();
            using (var a = Floats(8 * MiB))
            using (var b = Floats(8 * MiB))
            {
                CpuMemory.GetStatistics().LargeBytesInUse.Should().Be(start + 16 * MiB);
            }
            using (var c = Floats(8 * MiB)) { }
            var s = CpuMemory.GetStatistics();
            s.PeakLargeBytesInUse.Should().Be(start + 16 * MiB);
            s.LargeBytesInUse.Should().Be(start);
        });
    }

    [Fact]
    public void ManyThreads_AllocatingAndFreeing_KeepValuesAndCountsRight()
    {
        WithLimit(64 * MiB, () =>
        {
            var start = CpuMemory.GetStatistics().LargeBytesInUse;
            var errors = 0;
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
            {
                var random = new Random(thread);
                for (int i = 0; i < 60; i++)
                {
                    long n = MiB / 4 * (1 + random.Next(12));  // 1–12 MiB of int32
                    using var t = Tensors.Full([n], thread + 1, ScalarType.Int32);
                    if (SumOf(t) != (double)n * (thread + 1)) Interlocked.Increment(ref errors);
                }
            });
            errors.Should().Be(0);
            var s = CpuMemory.GetStatistics();
            s.LargeBytesInUse.Should().Be(start);
            s.CachedBytes.Should().BeLessThanOrEqualTo(64 * MiB);
            s.CacheHits.Should().BePositive();
        });
    }

    [Theory]
    [InlineData(null, null, "installed=True limit=* cached=2097152 drift=0")]
    [InlineData("MEDVISION_CPU_CACHE_LIMIT", "3M", "installed=True limit=3145728 cached=2097152 drift=0")]
    [InlineData("MEDVISION_CPU_CACHE_LIMIT", "0", "installed=True limit=0 cached=0 drift=0")]
    [InlineData("MEDVISION_CPU_ALLOCATOR", "default", "installed=False limit=0 cached=0 drift=0")]
    [InlineData("MALLOC_MMAP_THRESHOLD_", "131072", "installed=True limit=* cached=2097152 drift=0")]
    public void EnvironmentVariables_ConfigureTheAllocatorOfANewProcess(string? name, string? value, string expected)
    {
        var stdout = Distributed.WorkerRunner.RunSingle("cpu-memory", name is null ? null : (name, value), "MEDVISION_CPU_CACHE_LIMIT", "MEDVISION_CPU_ALLOCATOR");
        stdout.Should().Match(expected);
    }

    [Fact]
    public void ImpossibleAllocation_ThrowsOutOfMemory_NamingTheSize()
    {
        var before = CpuMemory.GetStatistics();
        var act = () => Tensors.Empty([1L << 55]);  // 2^57 bytes of float32
        act.Should().Throw<TorchOutOfMemoryException>().WithMessage("*out of memory*144115188075855872 bytes*");
        CpuMemory.GetStatistics().LargeBytesInUse.Should().Be(before.LargeBytesInUse);
        using var ok = Tensors.Ones(4);  // the allocator still works
        SumOf(ok).Should().Be(4);
    }

    [Fact]
    public void ATensorWhoseByteCountOverflows_IsOutOfMemoryToo()
    {
        var act = () => Tensors.Zeros([2, 3, 8, int.MaxValue, int.MaxValue]);  // 2^67 elements: libtorch cannot even count the bytes
        act.Should().Throw<TorchOutOfMemoryException>().WithMessage("*Storage size calculation overflowed*");
        using var ok = Tensors.Ones(4);
        SumOf(ok).Should().Be(4);
    }

    [Fact]
    public void ReusingBlocks_SparesThePageFaultsOfFreshMemory()
    {
        const int iterations = 10;
        const long bytes = 64 * MiB;  // above glibc's largest mmap threshold (32 MiB): malloc maps it afresh every time
        long pages = bytes / Environment.SystemPageSize;

        long Run()
        {
            var before = MinorFaults();
            for (int i = 0; i < iterations; i++)
            {
                using var t = Floats(bytes);
                t.FillInPlace(1);
            }
            return MinorFaults() - before;
        }

        long uncached = 0, cached = 0;
        WithLimit(0, () => uncached = Run());
        WithLimit(256 * MiB, () => cached = Run());
        _output.WriteLine($"{iterations} × fill of a 64 MiB tensor: {uncached} minor page faults without the cache, {cached} with it ({pages} pages per tensor)");
        cached.Should().BeLessThan(iterations * pages / 4, "only the first tensor's pages are new; the other nine reuse them");
    }
}
