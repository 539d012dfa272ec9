using System.CommandLine;
using System.Globalization;
using MedVision.Torch.Distributed;

namespace MedVision.Samples;

/// <summary>
/// The data-parallel options every training sample accepts. Their defaults come from the torchrun environment
/// variables (WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT), which the Launch sample sets for each process it starts.
/// </summary>
internal sealed class DistributedCommandLine
{
    private static readonly DistributedOptions FromEnvironment = DistributedOptions.FromEnvironment();

    public Option<int> WorldSize { get; } = new("--world-size") { Description = "Processes taking part in data-parallel training (env WORLD_SIZE; 1: no distribution).", DefaultValueFactory = _ => FromEnvironment.WorldSize };
    public Option<int> Rank { get; } = new("--rank") { Description = "This process's rank, 0 … world size − 1 (env RANK).", DefaultValueFactory = _ => FromEnvironment.Rank };
    public Option<string> MasterAddress { get; } = new("--master-addr") { Description = "Address of rank 0, where the rendezvous runs (env MASTER_ADDR).", DefaultValueFactory = _ => FromEnvironment.MasterAddress };
    public Option<int> MasterPort { get; } = new("--master-port") { Description = "Rendezvous port on rank 0 (env MASTER_PORT).", DefaultValueFactory = _ => FromEnvironment.MasterPort };
    public Option<bool> SyncBatchNorm { get; } = new("--sync-bn") { Description = "Batch-norm statistics over the global batch of all processes (default: per process, as PyTorch DDP)." };

    public IEnumerable<Option> All => new Option[] { WorldSize, Rank, MasterAddress, MasterPort, SyncBatchNorm };

    public DistributedOptions Read(ParseResult r) => new()
    {
        WorldSize = r.GetValue(WorldSize),
        Rank = r.GetValue(Rank),
        LocalRank = FromEnvironment.LocalRank,
        MasterAddress = r.GetValue(MasterAddress)!,
        MasterPort = r.GetValue(MasterPort),
    };

    /// <summary>Default intra-op threads: MEDVISION_THREADS (set by the launcher), else the number of processors.</summary>
    public static int DefaultThreads =>
        int.TryParse(Environment.GetEnvironmentVariable("MEDVISION_THREADS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : Environment.ProcessorCount;
}
