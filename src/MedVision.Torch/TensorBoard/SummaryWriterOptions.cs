namespace MedVision.Torch.TensorBoard;

/// <summary>Options of a <see cref="SummaryWriter"/> (PyTorch's <c>SummaryWriter</c> keyword arguments).</summary>
public sealed record SummaryWriterOptions
{
    /// <summary>Appended to the default log folder's name (PyTorch's <c>comment</c>); unused when a folder is given.</summary>
    public string Comment { get; init => field = value ?? throw new ArgumentNullException(nameof(Comment)); } = "";

    /// <summary>
    /// How often buffered events are written out (PyTorch's <c>flush_secs</c>, 120 s by default): a timer of
    /// <see cref="TimeProvider"/> flushes the writer at this interval whether or not events keep coming, as PyTorch's
    /// writer thread does; events are also written out by <see cref="SummaryWriter.Flush"/> and on disposal.
    /// <see cref="TimeSpan.Zero"/> writes every event out at once (no timer).
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Appended to every event file's name (PyTorch's <c>filename_suffix</c>).</summary>
    public string FileNameSuffix { get; init => field = value ?? throw new ArgumentNullException(nameof(FileNameSuffix)); } = "";

    /// <summary>The clock that stamps events and names files (a fake one makes files reproducible in tests).</summary>
    public TimeProvider TimeProvider { get; init => field = value ?? throw new ArgumentNullException(nameof(TimeProvider)); } = TimeProvider.System;
}
