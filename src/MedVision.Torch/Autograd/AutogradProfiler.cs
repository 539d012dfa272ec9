using System.Runtime.InteropServices;
using MedVision.Torch.Native;

namespace MedVision.Torch.Autograd;

/// <summary>
/// Records the operators libtorch runs — forward operators (<c>aten::conv2d</c>, …), autograd's backward nodes, and
/// the ranges of <see cref="RecordFunction"/> — with their CPU times, and optionally their input shapes and the CPU
/// memory they allocate: PyTorch's <c>torch.autograd.profiler.profile</c> (libtorch's profiler without Kineto, which
/// libtorch 1.13 and 2.x both have). The profiler records the thread that started it (and the tasks libtorch launches
/// from it; the backward pass of CPU tensors runs there too): start, run and stop on one thread.
/// </summary>
/// <example><code>
/// using var profiler = AutogradProfiler.Start(recordShapes: true);
/// using (Tensors.NewDisposeScope()) { model.Forward(batch).Sum().Backward(); }
/// var profile = profiler.Stop();
/// Console.WriteLine(profile.Table(ProfilerSortKey.SelfCpuTime, rowLimit: 10));
/// profile.ExportChromeTrace("trace.json");   // chrome://tracing or https://ui.perfetto.dev
/// </code></example>
public sealed class AutogradProfiler : IDisposable
{
    private readonly int _threadId;
    private bool _running;

    private AutogradProfiler(bool recordShapes, bool profileMemory)
    {
        _threadId = Environment.CurrentManagedThreadId;
        RecordShapes = recordShapes;
        ProfileMemory = profileMemory;
        Tensor.Check(NativeMethods.mvt_profiler_start(recordShapes ? 1 : 0, profileMemory ? 1 : 0));
        _running = true;
    }

    /// <summary>Whether input shapes are recorded (<see cref="ProfilerEvent.InputShapes"/>).</summary>
    public bool RecordShapes { get; }

    /// <summary>Whether CPU allocations are recorded (<see cref="ProfilerEvent.CpuMemoryBytes"/>).</summary>
    public bool ProfileMemory { get; }

    /// <summary>True until <see cref="Stop"/> or <see cref="Dispose"/>.</summary>
    public bool IsRunning => _running;

    /// <summary>Whether a profiler records the current thread.</summary>
    public static bool IsEnabled => NativeMethods.mvt_profiler_enabled() == 1;

    /// <summary>Starts recording the current thread's operators.</summary>
    /// <param name="recordShapes">Record each operator's input shapes (PyTorch's <c>record_shapes</c>; costs time per operator).</param>
    /// <param name="profileMemory">Record the CPU memory each operator allocates and frees (PyTorch's <c>profile_memory</c>).</param>
    /// <exception cref="InvalidOperationException">A profiler already records this thread.</exception>
    public static AutogradProfiler Start(bool recordShapes = false, bool profileMemory = false)
    {
        if (IsEnabled) throw new InvalidOperationException("A profiler already records this thread: stop it before starting another.");
        return new AutogradProfiler(recordShapes, profileMemory);
    }

    /// <summary>
    /// Marks a range of the profile (PyTorch's <c>torch.autograd.profiler.record_function</c>): the operators run
    /// until the range is disposed appear under <paramref name="name"/>, as a row of its own. Ranges nest; dispose them
    /// innermost first, on the thread that opened them. Without a profiler running, a range costs little and records nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public static ProfilerRange RecordFunction(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new ProfilerRange(name);
    }

    /// <summary>Stops recording and returns what was recorded.</summary>
    /// <exception cref="InvalidOperationException">The profiler was stopped already, or this is not the thread that started it.</exception>
    public ProfileResult Stop()
    {
        if (!_running) throw new InvalidOperationException("The profiler has stopped already.");
        CheckThread();
        _running = false;
        ProfilerRange.ForgetOpen();
        var profile = NativeMethods.mvt_profiler_stop();
        if (profile == IntPtr.Zero) throw TorchException.FromNative();
        try
        {
            return new ProfileResult(Read(profile), RecordShapes, ProfileMemory);
        }
        finally
        {
            NativeMethods.mvt_profile_free(profile);
        }
    }

    /// <summary>Stops recording when <see cref="Stop"/> was not called, discarding the profile.</summary>
    /// <exception cref="InvalidOperationException">The profiler is running and this is not the thread that started it (libtorch keeps it per thread).</exception>
    public void Dispose()
    {
        if (!_running) return;
        CheckThread();
        _running = false;
        ProfilerRange.ForgetOpen();
        var profile = NativeMethods.mvt_profiler_stop();
        if (profile != IntPtr.Zero) NativeMethods.mvt_profile_free(profile);
    }

    private void CheckThread()
    {
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException($"The profiler records the thread that started it (managed thread {_threadId}); stop it there, not on thread {Environment.CurrentManagedThreadId}.");
    }

    private static unsafe List<RawEvent> Read(IntPtr profile)
    {
        long count = NativeMethods.mvt_profile_count(profile);
        if (count < 0) throw TorchException.FromNative();
        var events = new List<RawEvent>((int)Math.Min(count, int.MaxValue));
        for (long i = 0; i < count; i++)
        {
            int kind;
            IntPtr name, shapes;
            long thread, bytes;
            double start, duration;
            Tensor.Check(NativeMethods.mvt_profile_event(profile, i, &kind, &name, &thread, &start, &duration, &bytes, &shapes));
            events.Add(new RawEvent(kind, Marshal.PtrToStringUTF8(name) ?? "", (int)thread, start, duration, bytes, Marshal.PtrToStringUTF8(shapes) ?? ""));
        }
        return events;
    }

    internal readonly record struct RawEvent(int Kind, string Name, int Thread, double Start, double Duration, long Bytes, string Shapes);
}
