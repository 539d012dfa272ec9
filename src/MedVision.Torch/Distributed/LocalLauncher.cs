using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MedVision.Torch.Distributed;

/// <summary>
/// Starts the processes of one machine for data-parallel training, as <c>torchrun --nproc-per-node</c> does: each gets
/// <c>WORLD_SIZE</c>, <c>RANK</c>, <c>LOCAL_RANK</c>, <c>LOCAL_WORLD_SIZE</c>, <c>MASTER_ADDR</c> and <c>MASTER_PORT</c>,
/// its output lines are forwarded with a "[rank N]" prefix, and when one process fails the others are stopped, so a
/// crashed rank never leaves its peers waiting. For several machines, run the launcher on each with the same
/// <see cref="LaunchOptions.Nodes"/>, master address and port, and its own <see cref="LaunchOptions.NodeRank"/>.
/// </summary>
public static class LocalLauncher
{
    /// <summary>Runs the processes to completion.</summary>
    /// <param name="options">What to start.</param>
    /// <param name="output">Where prefixed output lines go (null: the console).</param>
    /// <param name="cancellationToken">Stops every process when cancelled.</param>
    public static Task<LaunchResult> RunAsync(LaunchOptions options, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        // Bad options throw here, when the call is made, not from the returned task.
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return RunCoreAsync(options, output, cancellationToken);
    }

    private static async Task<LaunchResult> RunCoreAsync(LaunchOptions options, TextWriter? output, CancellationToken cancellationToken)
    {
        output ??= Console.Out;
        var writer = TextWriter.Synchronized(output);
        int port = options.MasterPort == 0 ? FreePort() : options.MasterPort;
        int n = options.ProcessesPerNode;
        int world = n * options.Nodes;
        int threads = options.ThreadsPerProcess ?? Math.Max(1, System.Environment.ProcessorCount / n);
        var stopwatch = Stopwatch.StartNew();
        var processes = new Process[n];
        var exitCodes = new int[n];
        int? firstFailed = null;
        int failedCode = 0;
        var gate = new object();
        try
        {
            for (int local = 0; local < n; local++)
            {
                int rank = options.NodeRank * n + local;
                var info = new ProcessStartInfo(options.FileName)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                    WorkingDirectory = options.WorkingDirectory ?? System.Environment.CurrentDirectory,
                };
                foreach (var a in options.Arguments) info.ArgumentList.Add(a);
                foreach (var (k, v) in options.Environment) info.Environment[k] = v;
                info.Environment["WORLD_SIZE"] = world.ToString(System.Globalization.CultureInfo.InvariantCulture);
                info.Environment["RANK"] = rank.ToString(System.Globalization.CultureInfo.InvariantCulture);
                info.Environment["LOCAL_RANK"] = local.ToString(System.Globalization.CultureInfo.InvariantCulture);
                info.Environment["LOCAL_WORLD_SIZE"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                info.Environment["MASTER_ADDR"] = options.MasterAddress;
                info.Environment["MASTER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                info.Environment["OMP_NUM_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
                info.Environment["MEDVISION_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var p = new Process { StartInfo = info, EnableRaisingEvents = true };
                var prefix = $"[rank {rank}] ";
                p.OutputDataReceived += (_, e) => { if (e.Data is not null) writer.WriteLine(prefix + e.Data); };
                p.ErrorDataReceived += (_, e) => { if (e.Data is not null) writer.WriteLine(prefix + e.Data); };
                if (!p.Start()) throw new InvalidOperationException($"Could not start '{options.FileName}' for rank {rank}.");
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                processes[local] = p;
            }

            var waits = processes.Select(async (p, local) =>
            {
                await p.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                p.WaitForExit(); // flushes the redirected output
                exitCodes[local] = p.ExitCode;
                if (p.ExitCode != 0)
                {
                    bool first;
                    lock (gate)
                    {
                        first = firstFailed is null;
                        if (first) { firstFailed = options.NodeRank * n + local; failedCode = p.ExitCode; }
                    }
                    if (first && options.StopOthersOnFailure)
                    {
                        writer.WriteLine($"[launcher] rank {options.NodeRank * n + local} exited with code {p.ExitCode}; stopping the other processes");
                        foreach (var other in processes) Kill(other);
                    }
                }
            }).ToArray();
            await Task.WhenAll(waits).ConfigureAwait(false);
        }
        finally
        {
            foreach (var p in processes) { Kill(p); p?.Dispose(); }
        }
        return new LaunchResult(exitCodes, firstFailed, stopwatch.Elapsed) { ExitCode = failedCode };
    }

    private static void Kill(Process? p)
    {
        try { if (p is not null && !p.HasExited) p.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>A TCP port that is free on the loopback interface now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
