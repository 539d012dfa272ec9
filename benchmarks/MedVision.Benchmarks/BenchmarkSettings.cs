using System.Globalization;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// Settings shared by the model benchmarks: thread count, the devices to measure (CUDA only where it is available, so
/// a CPU-only machine skips it cleanly) and the opt-in to the slow parameter combinations.
/// </summary>
public static class BenchmarkSettings
{
    /// <summary>Intra-op threads, like the Python references (torch.set_num_threads(2)).</summary>
    public const int Threads = 2;

    /// <summary>MEDVISION_BENCH_FULL=1 adds the combinations that take minutes per benchmark on 2 CPU cores.</summary>
    public static bool Full => Environment.GetEnvironmentVariable("MEDVISION_BENCH_FULL") == "1";

    /// <summary>
    /// "cpu", and "cuda" when libtorch sees a GPU; used as a <c>[ParamsSource]</c>. MEDVISION_BENCH_DEVICES (e.g. "cuda")
    /// narrows the list, so a GPU machine can measure only the CUDA cases; "cuda" is still dropped where CUDA is absent.
    /// </summary>
    public static IEnumerable<string> Devices()
    {
        var wanted = Environment.GetEnvironmentVariable("MEDVISION_BENCH_DEVICES")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        bool Wanted(string name) => wanted is null || wanted.Length == 0 || wanted.Contains(name, StringComparer.OrdinalIgnoreCase);
        if (Wanted("cpu")) yield return "cpu";
        if (Wanted("cuda") && Tensors.Cuda.IsAvailable) yield return "cuda";
        else if (wanted is { Length: > 0 } && Wanted("cuda"))
            Console.Error.WriteLine($"warning: MEDVISION_BENCH_DEVICES asks for cuda, which is skipped: {Tensors.Cuda.UnavailableReason}");
    }

    /// <summary>Seeds libtorch and sets the thread count.</summary>
    public static void Initialize()
    {
        Tensors.ManualSeed(0);
        Tensors.NumThreads = Threads;
    }

    /// <summary>The device a parameter names.</summary>
    public static Device ToDevice(string name) => name == "cuda" ? Device.Cuda() : Device.Cpu;

    /// <summary>Waits for queued CUDA work so that timings include it; a no-op on CPU.</summary>
    public static void Synchronize(Device device)
    {
        if (device.IsCuda) Tensors.Cuda.Synchronize(device.Index < 0 ? 0 : device.Index);
    }

    /// <summary>Parses an integer parameter part.</summary>
    public static int ParseInt(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}
