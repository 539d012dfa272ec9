using System.CommandLine;
using MedVision.Torch.Distributed;

namespace MedVision.Samples.Launch;

/// <summary>The launcher's command line (see Program.cs for what it does).</summary>
internal static class LaunchCommand
{
    /// <summary>The root command: options, the command to start, and the action that starts it.</summary>
    public static RootCommand Create()
    {
        var nproc = new Option<int>("--nproc-per-node") { Description = "Processes on this machine.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var nnodes = new Option<int>("--nnodes") { Description = "Machines taking part.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var nodeRank = new Option<int>("--node-rank") { Description = "This machine's index (0 hosts rank 0 and the rendezvous).", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var masterAddr = new Option<string>("--master-addr") { Description = "Address of node 0 as the other machines reach it.", DefaultValueFactory = _ => "127.0.0.1" };
        var masterPort = new Option<int>("--master-port") { Description = "Rendezvous port (0: a free port; one machine only).", DefaultValueFactory = _ => DistributedOptions.DefaultPort }.Between(0, 65535);
        var threads = new Option<int?>("--threads-per-process") { Description = "Intra-op threads of each process (default: cores / processes)." }.AtLeast(1);
        var command = new Argument<string[]>("command") { Description = "The program and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
        var root = new RootCommand("Start the processes of a data-parallel training run on this machine (like torchrun).")
        {
            nproc, nnodes, nodeRank, masterAddr, masterPort, threads, command,
        };
        root.Check(r => r.GetValue(nodeRank) is var k && r.GetValue(nnodes) is var n && n >= 1 && k >= n ? $"--node-rank must be in 0…{n - 1} (--nnodes {n}), got {k}." : null);
        root.Check(r => r.GetValue(masterPort) == 0 && r.GetValue(nnodes) > 1 ? "--master-port 0 (a free port) works on one machine only; give the same port on every node." : null);
        root.SetAction(async (r, ct) =>
        {
            var words = r.GetValue(command)!;
            var options = new LaunchOptions
            {
                FileName = words[0],
                Arguments = words.Skip(1).ToArray(),
                ProcessesPerNode = r.GetValue(nproc),
                Nodes = r.GetValue(nnodes),
                NodeRank = r.GetValue(nodeRank),
                MasterAddress = r.GetValue(masterAddr)!,
                MasterPort = r.GetValue(masterPort),
                ThreadsPerProcess = r.GetValue(threads),
            };
            var result = await LocalLauncher.RunAsync(options, Console.Out, ct);
            Console.WriteLine(result.Succeeded
                ? $"[launcher] {options.ProcessesPerNode} processes finished in {result.Elapsed.TotalSeconds:F1} s"
                : $"[launcher] rank {result.FirstFailedRank} failed with exit code {result.ExitCode}");
            return result.ExitCode;
        });
        return root;
    }
}
