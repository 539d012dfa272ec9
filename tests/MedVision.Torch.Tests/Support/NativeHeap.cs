using System.Runtime.InteropServices;

namespace MedVision.Torch.Tests.Support;

/// <summary>
/// How much native memory the process holds, measured two ways for leak tests. <see cref="InUseBytes"/> asks glibc's
/// malloc for the bytes its callers hold (every arena, plus blocks it mapped directly): unlike the resident set it does
/// not move when the allocator keeps freed pages or fragments, so a leak test can use a tight bound. The resident set
/// stays as a coarse second check for memory that does not come from malloc.
/// </summary>
public static class NativeHeap
{
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo
    {
        public int Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 GetMallInfo2();

    [DllImport("libc", EntryPoint = "mallinfo")]
    private static extern MallInfo GetMallInfo();

    /// <summary>Runs the finalizers of unreachable tensors, so that what they hold is released before a measurement.</summary>
    public static void Settle() => Tensors.CollectUnreachable();

    /// <summary>
    /// Bytes handed out by malloc and not yet freed (glibc's <c>uordblks + hblkhd</c>, over all arenas), after
    /// <see cref="Settle"/>. glibc before 2.33 has only <c>mallinfo</c>, whose 32-bit fields are enough for a test.
    /// </summary>
    public static long InUseBytes()
    {
        Settle();
        try
        {
            var m = GetMallInfo2();
            return checked((long)(m.UordBlks + m.HBlkHd));
        }
        catch (EntryPointNotFoundException)
        {
            var m = GetMallInfo();
            return (long)(uint)m.UordBlks + (uint)m.HBlkHd;
        }
    }

    /// <summary>The process's resident set in bytes (from <c>/proc/self/statm</c>), after <see cref="Settle"/>.</summary>
    public static long ResidentBytes()
    {
        Settle();
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }
}
