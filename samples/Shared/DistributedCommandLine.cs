using System.CommandLine;
using MedVision.Torch.Distributed;

namespace MedVision.Samples;

/// <summary>
/// The data-parallel options every training sample accepts. Their defaults come from the torchrun environment
/// variables (WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT), which the Launch sample sets for each process it starts.
/// </summary>
internal sealed class DistributedCommandLine
{
    private static readonly DistributedOptions FromEnvironment = DistributedOptions.FromEnvironment();

    public Option<int> WorldSize { get; } = new Option<int>("--world-size") { Description = "Processes taking part in data-parallel training (env WORLD_SIZE; 1: no distribution).", DefaultValueFactory = _ => FromEnvironment.WorldSize }.AtLeast(1);
    public Option<int> Rank { get; } = new Option<int>("--rank") { Description = "This process's rank, 0 … world size − 1 (env RANK).", DefaultValueFactory = _ => FromEnvironment.Rank }.AtLeast(0);
    public Option<string> MasterAddress { get; } = new("--master-addr") { Description = "Address of rank 0, where the rendezvous runs (env MASTER_ADDR).", DefaultValueFactory = _ => FromEnvironment.MasterAddress };
    public Option<int> MasterPort { get; } = new Option<int>("--master-port") { Description = "Rendezvous port on rank 0 (env MASTER_PORT).", DefaultValueFactory = _ => FromEnvironment.MasterPort }.Between(1, 65535);
    public Option<bool> SyncBatchNorm { get; } = new("--sync-bn") { Description = "Batch-norm statistics over the global batch of all processes (default: per process, as PyTorch DDP)." };

    public IEnumerable<Option> All => new Option[] { WorldSize, Rank, MasterAddress, MasterPort, SyncBatchNorm };

    /// <summary>
    /// Adds the options to <paramref name="command"/> with the checks that involve several of them: the rank below the
    /// world size, and (when <paramref name="batch"/> is given) a global batch that splits evenly over the processes,
    /// at least <paramref name="perProcess"/> images each.
    /// </summary>
    public Command AddTo(Command command, Option<int>? batch = null, int perProcess = 1)
    {
        foreach (var option in All) command.Options.Add(option);
        return command.Check(r =>
        {
            int world = r.GetValue(WorldSize), rank = r.GetValue(Rank);
            if (world < 1) return null; // --world-size reports it
            if (rank < 0 || rank >= world)
                return world == 1 ? $"--rank must be 0 when --world-size is 1, got {rank}." : $"--rank must be in 0…{world - 1} (--world-size {world}), got {rank}.";
            if (batch is not null && r.GetValue(batch) is var b && b >= 1 && (b % world != 0 || b / world < perProcess))
                return $"--batch {b} must split evenly over the {world} processes of --world-size{(perProcess > 1 ? $", at least {perProcess} images each" : "")}.";
            return null;
        });
    }

    public DistributedOptions Read(ParseResult r) => new()
    {
        WorldSize = r.GetValue(WorldSize),
        Rank = r.GetValue(Rank),
        LocalRank = FromEnvironment.LocalRank,
        MasterAddress = r.GetValue(MasterAddress)!,
        MasterPort = r.GetValue(MasterPort),
    };

    /// <summary>Default intra-op threads: MEDVISION_THREADS (set by the launcher), else the number of processors.</summary>
    public static int DefaultThreads => SampleCommandLine.DefaultThreads;
}
