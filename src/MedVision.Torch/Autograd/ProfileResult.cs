using System.Globalization;
using System.Text;
using System.Text.Json;
using MedVision.Torch.Serialization;

namespace MedVision.Torch.Autograd;

/// <summary>
/// What <see cref="AutogradProfiler.Stop"/> recorded: every range with its nesting, self time and memory; their
/// per-name sums (<see cref="KeyAverages"/>), a table of them (<see cref="Table"/>) and a Chrome trace
/// (<see cref="ExportChromeTrace"/>), as PyTorch's profiler gives them.
/// </summary>
public sealed class ProfileResult
{
    internal ProfileResult(List<AutogradProfiler.RawEvent> raw, bool recordedShapes, bool recordedMemory)
    {
        RecordedShapes = recordedShapes;
        RecordedMemory = recordedMemory;
        Events = Nest(raw);
    }

    /// <summary>Every range, by thread and then by start (an enclosing range before the ranges inside it).</summary>
    public IReadOnlyList<ProfilerEvent> Events { get; }

    /// <summary>Whether the profiler recorded input shapes.</summary>
    public bool RecordedShapes { get; }

    /// <summary>Whether the profiler recorded CPU memory.</summary>
    public bool RecordedMemory { get; }

    /// <summary>The self times of every range summed: the CPU time the profile accounts for (PyTorch's "Self CPU time total").</summary>
    public double SelfCpuTimeTotalMicroseconds => Events.Sum(e => e.SelfDurationMicroseconds);

    /// <summary>
    /// The events summed per name — and per input shape with <paramref name="groupByInputShape"/> (which needs recorded
    /// shapes) — in order of first appearance (PyTorch's <c>key_averages(group_by_input_shape)</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">Grouping by shape when the profiler did not record shapes.</exception>
    public IReadOnlyList<ProfilerAverage> KeyAverages(bool groupByInputShape = false)
    {
        if (groupByInputShape && !RecordedShapes)
            throw new InvalidOperationException("The profiler did not record input shapes: start it with recordShapes: true to group by them.");
        return Events
            .GroupBy(e => (e.Name, Shapes: groupByInputShape ? e.InputShapes : ""))
            .Select(g => new ProfilerAverage(g.Key.Name, g.Key.Shapes, g.Count(), g.Sum(e => e.DurationMicroseconds), g.Sum(e => e.SelfDurationMicroseconds),
                g.Sum(e => e.CpuMemoryBytes), g.Sum(e => e.SelfCpuMemoryBytes)))
            .ToList();
    }

    /// <summary>
    /// The key averages as a text table, largest <paramref name="sortBy"/> first, at most <paramref name="rowLimit"/>
    /// rows, with the self CPU time total beneath (PyTorch's <c>key_averages().table(sort_by, row_limit)</c>); memory
    /// columns when memory was recorded, an input-shape column when grouped by shape.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An unknown sort key, or a row limit below 1.</exception>
    /// <exception cref="InvalidOperationException">Sorting by memory, or grouping by shape, of what the profiler did not record.</exception>
    public string Table(ProfilerSortKey sortBy = ProfilerSortKey.SelfCpuTime, int rowLimit = 20, bool groupByInputShape = false)
    {
        if (!Enum.IsDefined(sortBy)) throw new ArgumentOutOfRangeException(nameof(sortBy), sortBy, "Unknown sort key.");
        ArgumentOutOfRangeException.ThrowIfLessThan(rowLimit, 1);
        if (sortBy is ProfilerSortKey.CpuMemory or ProfilerSortKey.SelfCpuMemory && !RecordedMemory)
            throw new InvalidOperationException("The profiler did not record memory: start it with profileMemory: true to sort by memory.");
        var rows = KeyAverages(groupByInputShape).OrderByDescending(a => sortBy switch
        {
            ProfilerSortKey.CpuTime => a.CpuTimeTotalMicroseconds,
            ProfilerSortKey.Count => a.Count,
            ProfilerSortKey.SelfCpuMemory => a.SelfCpuMemoryBytes,
            ProfilerSortKey.CpuMemory => a.CpuMemoryBytes,
            _ => a.SelfCpuTimeTotalMicroseconds,
        }).Take(rowLimit).ToList();
        double selfTotal = SelfCpuTimeTotalMicroseconds;
        var header = new List<string> { "Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg" };
        if (RecordedMemory) header.AddRange(["CPU Mem", "Self CPU Mem"]);
        header.Add("# of Calls");
        if (groupByInputShape) header.Add("Input Shapes");
        var cells = rows.Select(a =>
        {
            var row = new List<string>
            {
                a.Name, Percent(a.SelfCpuTimeTotalMicroseconds, selfTotal), Time(a.SelfCpuTimeTotalMicroseconds),
                Percent(a.CpuTimeTotalMicroseconds, selfTotal), Time(a.CpuTimeTotalMicroseconds), Time(a.CpuTimeAverageMicroseconds),
            };
            if (RecordedMemory) row.AddRange([Bytes(a.CpuMemoryBytes), Bytes(a.SelfCpuMemoryBytes)]);
            row.Add(a.Count.ToString(CultureInfo.InvariantCulture));
            if (groupByInputShape) row.Add(a.InputShapes);
            return row;
        }).ToList();
        var widths = header.Select((h, c) => Math.Max(h.Length, cells.Select(r => r[c].Length).DefaultIfEmpty(0).Max())).ToArray();
        var text = new StringBuilder();
        string rule = string.Join("  ", widths.Select(w => new string('-', w)));
        void Line(IReadOnlyList<string> values) => text.AppendLine(string.Join("  ", values.Select((v, c) => c == 0 || (groupByInputShape && c == values.Count - 1) ? v.PadRight(widths[c]) : v.PadLeft(widths[c]))).TrimEnd());
        text.AppendLine(rule);
        Line(header);
        text.AppendLine(rule);
        foreach (var row in cells) Line(row);
        text.AppendLine(rule);
        text.Append("Self CPU time total: ").AppendLine(Time(selfTotal));
        return text.ToString();
    }

    /// <summary>
    /// Writes the ranges as a Chrome trace (the JSON <c>chrome://tracing</c> and Perfetto read; PyTorch's
    /// <c>export_chrome_trace</c>): a complete event per range, with its input shapes and memory as arguments, and
    /// an instant event per recorded allocation. Written to a temporary file and renamed into place.
    /// </summary>
    public void ExportChromeTrace(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int pid = Environment.ProcessId;
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
            json.WriteStartObject();
            json.WriteStartArray("traceEvents");
            foreach (var e in Events)
            {
                json.WriteStartObject();
                json.WriteString("name", e.Name);
                json.WriteString("ph", "X");
                json.WriteString("cat", "cpu_op");
                json.WriteNumber("ts", e.StartMicroseconds);
                json.WriteNumber("dur", e.DurationMicroseconds);
                json.WriteNumber("pid", pid);
                json.WriteNumber("tid", e.ThreadId);
                json.WriteStartObject("args");
                if (RecordedShapes) json.WriteString("Input Dims", e.InputShapes);
                if (RecordedMemory) json.WriteNumber("CPU Memory Bytes", e.CpuMemoryBytes);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("displayTimeUnit", "ms");
            json.WriteEndObject();
        });
    }

    // Nests each thread's ranges by their times (a range inside the innermost open one that contains it), attributes
    // each allocation to the innermost range open at its time, and sums self times and memory.
    private static List<ProfilerEvent> Nest(List<AutogradProfiler.RawEvent> raw)
    {
        var result = new List<ProfilerEvent>();
        foreach (var thread in raw.GroupBy(e => e.Thread).OrderBy(g => g.Key))
        {
            var ranges = thread.Where(e => e.Kind == 0).OrderBy(e => e.Start).ThenByDescending(e => e.Duration).ToList();
            var memory = thread.Where(e => e.Kind == 1).OrderBy(e => e.Start).ToList();
            int n = ranges.Count;
            var parent = new int[n];
            var depth = new int[n];
            var childTime = new double[n];
            var selfBytes = new long[n];
            var totalBytes = new long[n];
            var stack = new Stack<int>();
            int m = 0;
            // a tolerance for times that rounding put a hair outside their parent
            const double Slack = 1e-3;
            for (int i = 0; i < n; i++)
            {
                // allocations before this range starts go to the innermost range open then
                for (; m < memory.Count && memory[m].Start < ranges[i].Start; m++) Attribute(memory[m]);
                while (stack.Count > 0 && ranges[i].Start + ranges[i].Duration > End(stack.Peek()) + Slack) stack.Pop();
                parent[i] = stack.Count > 0 ? stack.Peek() : -1;
                depth[i] = stack.Count;
                if (parent[i] >= 0) childTime[parent[i]] += ranges[i].Duration;
                stack.Push(i);
            }
            for (; m < memory.Count; m++) Attribute(memory[m]);
            for (int i = n - 1; i >= 0; i--)
            {
                totalBytes[i] += selfBytes[i];
                if (parent[i] >= 0) totalBytes[parent[i]] += totalBytes[i];
            }
            for (int i = 0; i < n; i++)
            {
                var r = ranges[i];
                result.Add(new ProfilerEvent(r.Name, r.Thread, r.Start, r.Duration, Math.Max(0, r.Duration - childTime[i]), r.Shapes, totalBytes[i], selfBytes[i], depth[i]));
            }

            double End(int i) => ranges[i].Start + ranges[i].Duration;
            void Attribute(AutogradProfiler.RawEvent allocation)
            {
                while (stack.Count > 0 && allocation.Start > End(stack.Peek()) + Slack) stack.Pop();
                if (stack.Count > 0) selfBytes[stack.Peek()] += allocation.Bytes;
            }
        }
        return result;
    }

    private static string Percent(double part, double whole) => whole > 0 ? (100 * part / whole).ToString("F2", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Time(double us) => us >= 1e6 ? (us / 1e6).ToString("F3", CultureInfo.InvariantCulture) + "s"
        : us >= 1e3 ? (us / 1e3).ToString("F3", CultureInfo.InvariantCulture) + "ms"
        : us.ToString("F3", CultureInfo.InvariantCulture) + "us";

    private static string Bytes(long bytes)
    {
        double magnitude = Math.Abs((double)bytes);
        return magnitude >= 1L << 30 ? (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GB"
            : magnitude >= 1 << 20 ? (bytes / (double)(1 << 20)).ToString("F2", CultureInfo.InvariantCulture) + " MB"
            : magnitude >= 1 << 10 ? (bytes / (double)(1 << 10)).ToString("F2", CultureInfo.InvariantCulture) + " KB"
            : bytes.ToString(CultureInfo.InvariantCulture) + " B";
    }
}
