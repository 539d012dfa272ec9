namespace MedVision.Torch.Distributed;

/// <summary>What <see cref="LocalLauncher"/> starts: N copies of one command on this machine (torchrun's options).</summary>
public sealed record LaunchOptions
{
    /// <summary>The program to start (e.g. "dotnet" or an app's path).</summary>
    public required string FileName { get; init => field = value ?? throw new ArgumentNullException(nameof(FileName)); }

    /// <summary>Its arguments (identical for every rank; each rank reads its rank from the environment).</summary>
    public IReadOnlyList<string> Arguments { get; init => field = value ?? throw new ArgumentNullException(nameof(Arguments)); } = Array.Empty<string>();

    /// <summary>Processes on this machine (torchrun's <c>--nproc-per-node</c>).</summary>
    public int ProcessesPerNode { get; init; } = 1;

    /// <summary>Machines taking part (<c>--nnodes</c>); each runs the launcher with its own <see cref="NodeRank"/>.</summary>
    public int Nodes { get; init; } = 1;

    /// <summary>This machine's index, 0 ≤ NodeRank &lt; Nodes (<c>--node-rank</c>); node 0 hosts rank 0 and the rendezvous.</summary>
    public int NodeRank { get; init; }

    /// <summary>Address of node 0 as the other machines reach it (default 127.0.0.1 for one machine).</summary>
    public string MasterAddress { get; init => field = value ?? throw new ArgumentNullException(nameof(MasterAddress)); } = "127.0.0.1";

    /// <summary>Rendezvous port; 0 picks a free port (single machine only).</summary>
    public int MasterPort { get; init; } = DistributedOptions.DefaultPort;

    /// <summary>Intra-op threads per process, passed as OMP_NUM_THREADS and MEDVISION_THREADS (default: cores / processes, at least 1).</summary>
    public int? ThreadsPerProcess { get; init; }

    /// <summary>Extra environment variables for every process.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init => field = value ?? throw new ArgumentNullException(nameof(Environment)); } = new Dictionary<string, string>();

    /// <summary>Stop the other processes as soon as one fails (torchrun's behaviour; default true). When false they run on and meet the failure themselves (within their timeout).</summary>
    public bool StopOthersOnFailure { get; init; } = true;

    /// <summary>Working directory of the processes (default: the current one).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(FileName)) throw new ArgumentException("No program to launch.");
        if (ProcessesPerNode < 1) throw new ArgumentException($"Processes per node must be at least 1, got {ProcessesPerNode}.");
        if (Nodes < 1) throw new ArgumentException($"Nodes must be at least 1, got {Nodes}.");
        if (NodeRank < 0 || NodeRank >= Nodes) throw new ArgumentException($"Node rank {NodeRank} is outside 0..{Nodes - 1}.");
        if (MasterPort is < 0 or > 65535) throw new ArgumentException($"Master port {MasterPort} is outside 0..65535.");
        if (MasterPort == 0 && Nodes > 1) throw new ArgumentException("A free port (0) can only be picked for a single machine; give --master-port on every node.");
        if (ThreadsPerProcess is < 1) throw new ArgumentException($"Threads per process must be at least 1, got {ThreadsPerProcess}.");
    }
}
