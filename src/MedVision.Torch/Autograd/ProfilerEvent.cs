namespace MedVision.Torch.Autograd;

/// <summary>
/// One recorded range of a profile: an operator call (<c>aten::addmm</c>), an autograd node of the backward pass, or a
/// <see cref="AutogradProfiler.RecordFunction"/> range.
/// </summary>
/// <param name="Name">The operator, node or range name, as PyTorch's profiler shows it.</param>
/// <param name="ThreadId">libtorch's number of the thread it ran on.</param>
/// <param name="StartMicroseconds">When it began, from the start of the profile.</param>
/// <param name="DurationMicroseconds">Its CPU wall time, the ranges it contains included.</param>
/// <param name="SelfDurationMicroseconds">Its time less the time of the ranges directly inside it.</param>
/// <param name="InputShapes">Its inputs' shapes, e.g. <c>[[8, 3, 28, 28], [64, 3, 3, 3], []]</c> (<c>[]</c> for a non-tensor argument), when the profiler recorded shapes; else empty.</param>
/// <param name="CpuMemoryBytes">CPU memory it allocated less what it freed, the ranges inside it included, when the profiler recorded memory; else 0.</param>
/// <param name="SelfCpuMemoryBytes">The same without the ranges inside it.</param>
/// <param name="Depth">How many ranges enclose it (0 for a range the profiled code called directly).</param>
public sealed record ProfilerEvent(string Name, int ThreadId, double StartMicroseconds, double DurationMicroseconds, double SelfDurationMicroseconds,
    string InputShapes, long CpuMemoryBytes, long SelfCpuMemoryBytes, int Depth)
{
    /// <summary>The operator, node or range name, as PyTorch's profiler shows it.</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>Its inputs' shapes when the profiler recorded shapes; else empty.</summary>
    public string InputShapes { get; init; } = InputShapes ?? throw new ArgumentNullException(nameof(InputShapes));

    /// <summary>When it ended, from the start of the profile.</summary>
    public double EndMicroseconds => StartMicroseconds + DurationMicroseconds;
}

/// <summary>The events of one name (and, when asked, one input shape) summed: a row of <see cref="ProfileResult.Table"/> (PyTorch's <c>key_averages()</c>).</summary>
/// <param name="Name">The operator, node or range name.</param>
/// <param name="InputShapes">The input shapes they share when grouped by shape; else empty.</param>
/// <param name="Count">How many calls.</param>
/// <param name="CpuTimeTotalMicroseconds">Their times summed, the ranges inside them included.</param>
/// <param name="SelfCpuTimeTotalMicroseconds">Their self times summed.</param>
/// <param name="CpuMemoryBytes">Their CPU memory summed, the ranges inside them included.</param>
/// <param name="SelfCpuMemoryBytes">Their self CPU memory summed.</param>
public sealed record ProfilerAverage(string Name, string InputShapes, int Count, double CpuTimeTotalMicroseconds, double SelfCpuTimeTotalMicroseconds,
    long CpuMemoryBytes, long SelfCpuMemoryBytes)
{
    /// <summary>The operator, node or range name.</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>The input shapes they share when grouped by shape; else empty.</summary>
    public string InputShapes { get; init; } = InputShapes ?? throw new ArgumentNullException(nameof(InputShapes));

    /// <summary>The mean time per call (0 for no calls).</summary>
    public double CpuTimeAverageMicroseconds => Count > 0 ? CpuTimeTotalMicroseconds / Count : 0;
}

/// <summary>What <see cref="ProfileResult.Table"/> sorts its rows by, largest first.</summary>
public enum ProfilerSortKey
{
    /// <summary>Self CPU time (PyTorch's <c>self_cpu_time_total</c>): where the time is spent.</summary>
    SelfCpuTime,
    /// <summary>CPU time with the ranges inside (<c>cpu_time_total</c>).</summary>
    CpuTime,
    /// <summary>Number of calls (<c>count</c>).</summary>
    Count,
    /// <summary>Self CPU memory (<c>self_cpu_memory_usage</c>).</summary>
    SelfCpuMemory,
    /// <summary>CPU memory with the ranges inside (<c>cpu_memory_usage</c>).</summary>
    CpuMemory,
}
