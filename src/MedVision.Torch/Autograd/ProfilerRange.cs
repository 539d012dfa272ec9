using MedVision.Torch.Native;

namespace MedVision.Torch.Autograd;

/// <summary>A named range of a profile, open until disposed (see <see cref="AutogradProfiler.RecordFunction"/>).</summary>
public sealed class ProfilerRange : IDisposable
{
    // The ranges open on this thread, innermost last: they end innermost first.
    [ThreadStatic] private static List<ProfilerRange>? t_open;
    private readonly int _threadId;
    private bool _closed;

    internal ProfilerRange(string name)
    {
        Name = name;
        _threadId = Environment.CurrentManagedThreadId;
        Tensor.Check(NativeMethods.mvt_profiler_push_range(name));
        (t_open ??= new()).Add(this);
    }

    /// <summary>The range's name, as the profile shows it.</summary>
    public string Name { get; }

    /// <summary>Ends the range.</summary>
    /// <exception cref="InvalidOperationException">Another range opened inside this one is still open, or this is not the thread that opened it.</exception>
    public void Dispose()
    {
        if (_closed) return;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException($"The profiler range '{Name}' ends on the thread that opened it (managed thread {_threadId}).");
        var open = t_open!;
        if (open.Count == 0 || !ReferenceEquals(open[^1], this))
        {
            // the profiler stopped meanwhile (which ended the range) or an inner range is open
            if (!open.Contains(this)) { _closed = true; return; }
            throw new InvalidOperationException($"The profiler range '{Name}' still holds the open range '{open[^1].Name}': end ranges innermost first.");
        }
        _closed = true;
        open.RemoveAt(open.Count - 1);
        Tensor.Check(NativeMethods.mvt_profiler_pop_range());
    }

    // Stopping the profiler ends the ranges open on this thread (the shim drops them).
    internal static void ForgetOpen() => t_open?.Clear();
}
