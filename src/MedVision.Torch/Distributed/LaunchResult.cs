namespace MedVision.Torch.Distributed;

/// <summary>How the processes started by <see cref="LocalLauncher"/> ended.</summary>
/// <param name="ExitCodes">Exit code of each local process, by local rank (a process stopped by the launcher after another failed reports its own code).</param>
/// <param name="FirstFailedRank">Global rank of the first process that failed, or null when all succeeded.</param>
/// <param name="Elapsed">Wall time from start to the last exit.</param>
public sealed record LaunchResult(IReadOnlyList<int> ExitCodes, int? FirstFailedRank, TimeSpan Elapsed)
{
    /// <summary>Exit code of each local process, by local rank (a process stopped by the launcher after another failed reports its own code).</summary>
    public IReadOnlyList<int> ExitCodes { get; init; } = ExitCodes ?? throw new ArgumentNullException(nameof(ExitCodes));

    /// <summary>True when every process exited with code 0.</summary>
    public bool Succeeded => FirstFailedRank is null;

    /// <summary>The exit code a launcher tool should return: 0, or the first failed process's code.</summary>
    public int ExitCode { get; init; }
}
