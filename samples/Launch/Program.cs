using System.CommandLine;
using MedVision.Torch.Distributed;

// Starts N processes of one command for data-parallel training, the way `torchrun --nproc-per-node N` does: each gets
// WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and its share of the cores (OMP_NUM_THREADS,
// MEDVISION_THREADS); output lines are prefixed with the rank; when one process fails the others are stopped.
//
//   dotnet run --project samples/Launch -c Release -- --nproc-per-node 2 -- \
//       dotnet samples/MedMnist/bin/Release/net10.0/medmnist.dll train --epochs 4
//
// Several machines: run the same line on each with --nnodes M --node-rank K --master-addr <node 0's address>.
var nproc = new Option<int>("--nproc-per-node") { Description = "Processes on this machine.", DefaultValueFactory = _ => 1 };
var nnodes = new Option<int>("--nnodes") { Description = "Machines taking part.", DefaultValueFactory = _ => 1 };
var nodeRank = new Option<int>("--node-rank") { Description = "This machine's index (0 hosts rank 0 and the rendezvous).", DefaultValueFactory = _ => 0 };
var masterAddr = new Option<string>("--master-addr") { Description = "Address of node 0 as the other machines reach it.", DefaultValueFactory = _ => "127.0.0.1" };
var masterPort = new Option<int>("--master-port") { Description = "Rendezvous port (0: a free port; one machine only).", DefaultValueFactory = _ => DistributedOptions.DefaultPort };
var threads = new Option<int?>("--threads-per-process") { Description = "Intra-op threads of each process (default: cores / processes)." };
var command = new Argument<string[]>("command") { Description = "The program and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
var root = new RootCommand("Start the processes of a data-parallel training run on this machine (like torchrun).")
{
    nproc, nnodes, nodeRank, masterAddr, masterPort, threads, command,
};
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
return await MedVision.Samples.SampleCommandLine.InvokeAsync(root, args);
