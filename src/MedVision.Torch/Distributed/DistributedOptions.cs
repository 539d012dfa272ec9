using System.Globalization;

namespace MedVision.Torch.Distributed;

/// <summary>
/// Where and how a process joins a process group: the rendezvous address (rank 0 serves a TCP store there), the world
/// size, this process's rank, the backend and the timeout that bounds every wait (rendezvous and collectives). The same
/// conventions as <c>torch.distributed.init_process_group(init_method="env://")</c>; see <see cref="FromEnvironment"/>.
/// </summary>
public sealed record DistributedOptions
{
    /// <summary>The default rendezvous port (PyTorch's).</summary>
    public const int DefaultPort = 29500;

    /// <summary>Host name or address of rank 0 (default 127.0.0.1).</summary>
    public string MasterAddress { get; init => field = value ?? throw new ArgumentNullException(nameof(MasterAddress)); } = "127.0.0.1";

    /// <summary>TCP port of the rendezvous store on rank 0 (default 29500).</summary>
    public int MasterPort { get; init; } = DefaultPort;

    /// <summary>Number of processes in the group.</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>This process's rank, 0 ≤ rank &lt; <see cref="WorldSize"/>.</summary>
    public int Rank { get; init; }

    /// <summary>Rank of this process on its machine (selects the GPU with NCCL).</summary>
    public int LocalRank { get; init; }

    /// <summary>Communication backend (default Gloo).</summary>
    public DistributedBackend Backend { get; init; } = DistributedBackend.Gloo;

    /// <summary>Bound on every wait: rendezvous, and each collective (default 5 minutes; PyTorch's is 30).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>True when more than one process takes part.</summary>
    public bool IsDistributed => WorldSize > 1;

    /// <summary>
    /// Reads <c>WORLD_SIZE</c>, <c>RANK</c>, <c>LOCAL_RANK</c>, <c>MASTER_ADDR</c> and <c>MASTER_PORT</c> (as set by
    /// torchrun and by <c>MedVision.Nets</c>'s launcher). Variables that are absent keep the defaults (a world of one).
    /// </summary>
    /// <exception cref="ArgumentException">A variable is present but not a valid number, or the rank is outside the world.</exception>
    public static DistributedOptions FromEnvironment(IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Get(string name) => environment is null ? Environment.GetEnvironmentVariable(name) : environment.TryGetValue(name, out var v) ? v : null;
        int Int(string name, int fallback)
        {
            var text = Get(name);
            if (string.IsNullOrWhiteSpace(text)) return fallback;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                throw new ArgumentException($"Environment variable {name}='{text}' is not an integer.");
            return value;
        }
        var options = new DistributedOptions
        {
            WorldSize = Int("WORLD_SIZE", 1),
            Rank = Int("RANK", 0),
            LocalRank = Int("LOCAL_RANK", 0),
            MasterAddress = Get("MASTER_ADDR") is { Length: > 0 } addr ? addr : "127.0.0.1",
            MasterPort = Int("MASTER_PORT", DefaultPort),
        };
        options.Validate();
        return options;
    }

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (WorldSize < 1) throw new ArgumentException($"World size must be at least 1, got {WorldSize}.");
        if (Rank < 0 || Rank >= WorldSize) throw new ArgumentException($"Rank {Rank} is outside 0..{WorldSize - 1} (world size {WorldSize}).");
        if (LocalRank < 0) throw new ArgumentException($"Local rank must not be negative, got {LocalRank}.");
        if (MasterPort is < 1 or > 65535) throw new ArgumentException($"Master port {MasterPort} is outside 1..65535.");
        if (string.IsNullOrWhiteSpace(MasterAddress)) throw new ArgumentException("Master address is empty.");
        if (Timeout <= TimeSpan.Zero) throw new ArgumentException($"Timeout must be positive, got {Timeout}.");
    }
}
