using System.Diagnostics;
using MedVision.Torch.Distributed;

namespace MedVision.Torch.Tests.Distributed;

/// <summary>Starts DistributedWorker processes (one per rank) and collects their output.</summary>
internal static class WorkerRunner
{
    public static string WorkerPath => Path.Combine(AppContext.BaseDirectory, "DistributedWorker.dll");

    /// <summary>
    /// Runs one non-distributed worker command (e.g. "cpu-memory", "onednn") in a new process whose environment has the
    /// MedVision variables <paramref name="cleared"/> removed and <paramref name="variable"/> set; returns its trimmed
    /// standard output after checking that it exited with 0.
    /// </summary>
    public static string RunSingle(string command, (string Name, string? Value)? variable, params string[] cleared)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(WorkerPath);
        info.ArgumentList.Add(command);
        foreach (var name in cleared) info.Environment.Remove(name);
        if (variable is { } v) info.Environment[v.Name] = v.Value;
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        p.ExitCode.Should().Be(0, stderr);
        return stdout.Result.Trim();
    }

    /// <summary>Runs <paramref name="world"/> ranks through <see cref="LocalLauncher"/>; returns the result and each rank's lines.</summary>
    public static async Task<(LaunchResult Result, Dictionary<int, List<string>> Lines, string All)> Launch(int world, int timeoutMs, bool stopOthers, params string[] args)
    {
        var output = new StringWriter();
        var options = new LaunchOptions
        {
            FileName = "dotnet",
            Arguments = new[] { WorkerPath }.Concat(args).ToArray(),
            ProcessesPerNode = world,
            MasterPort = 0,
            ThreadsPerProcess = 1,
            StopOthersOnFailure = stopOthers,
            Environment = new Dictionary<string, string> { ["MEDVISION_DIST_TIMEOUT_MS"] = timeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var result = await LocalLauncher.RunAsync(options, output, cts.Token);
        var all = output.ToString();
        var lines = new Dictionary<int, List<string>>();
        foreach (var line in all.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("[rank ", StringComparison.Ordinal)) continue;
            var close = line.IndexOf(']');
            var rank = int.Parse(line[6..close], System.Globalization.CultureInfo.InvariantCulture);
            if (!lines.TryGetValue(rank, out var list)) lines[rank] = list = new List<string>();
            list.Add(line[(close + 1)..].Trim());
        }
        return (result, lines, all);
    }

    /// <summary>Starts one rank with explicit environment values (for inconsistent configurations the launcher would not produce).</summary>
    public static Process StartRank(int world, int rank, int port, int timeoutMs, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(WorkerPath);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["WORLD_SIZE"] = world.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["RANK"] = rank.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["MASTER_ADDR"] = "127.0.0.1";
        info.Environment["MASTER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["MEDVISION_DIST_TIMEOUT_MS"] = timeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Process.Start(info)!;
    }

    public static async Task<(int ExitCode, string Output, TimeSpan Elapsed)> Finish(Process p, Stopwatch clock)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = p.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = p.StandardError.ReadToEndAsync(cts.Token);
        await p.WaitForExitAsync(cts.Token);
        var elapsed = clock.Elapsed;
        return (p.ExitCode, await stdout + await stderr, elapsed);
    }
}
