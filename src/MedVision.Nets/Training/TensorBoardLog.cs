using MedVision.Torch.Nn;
using MedVision.Torch.TensorBoard;

namespace MedVision.Nets.Training;

/// <summary>
/// Where a trainer writes its TensorBoard summaries: a folder of its own (a writer opened when the run starts and closed
/// when it ends) or the caller's <see cref="SummaryWriter"/> (flushed, never closed, by the trainer).
/// </summary>
internal sealed record TensorBoardTarget(string? Directory, SummaryWriter? Writer, bool ParameterHistograms)
{
    public static TensorBoardTarget ToDirectory(string logDirectory, bool parameterHistograms)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        return new(Path.GetFullPath(logDirectory), null, parameterHistograms);
    }

    public static TensorBoardTarget ToWriter(SummaryWriter writer, bool parameterHistograms)
        => new(null, writer ?? throw new ArgumentNullException(nameof(writer)), parameterHistograms);

    public TensorBoardLog Open() => Writer is not null ? new(Writer, owned: false, ParameterHistograms) : new(new SummaryWriter(Directory), owned: true, ParameterHistograms);
}

/// <summary>
/// What the trainers write to TensorBoard, with the same tags in every trainer: per optimizer step
/// <c>train/batch_loss</c> (x = global batch index); per epoch (x = 0-based epoch) <c>train/…</c>,
/// <c>validation/…</c> and <c>time/epoch_seconds</c>, measures not taken (NaN) left out; optionally a histogram of
/// every parameter per epoch (<c>parameters/&lt;name&gt;</c>); at the end the selected model's measures
/// (<c>selected/…</c>, x = the selected epoch) and a text summary.
/// </summary>
internal sealed class TensorBoardLog(SummaryWriter writer, bool owned, bool parameterHistograms) : IDisposable
{
    public SummaryWriter Writer { get; } = writer;

    public void BatchLoss(long globalStep, double loss) => Writer.AddScalar("train/batch_loss", loss, globalStep);

    public void Scalars(long step, IEnumerable<(string Tag, double Value)> values)
    {
        foreach (var (tag, value) in values)
            if (!double.IsNaN(value)) Writer.AddScalar(tag, value, step);
    }

    public void Parameters(Module model, long step)
    {
        if (!parameterHistograms) return;
        foreach (var (name, parameter) in model.NamedParameters())
            if (parameter.NumElements > 0) Writer.AddHistogram("parameters/" + name, parameter, step);
    }

    public void Text(string tag, string markdown, long step) => Writer.AddText(tag, markdown, step);

    /// <summary>Writes out what is buffered, so TensorBoard shows the epoch now rather than at the flush interval.</summary>
    public void Flush() => Writer.Flush();

    public void Dispose()
    {
        if (owned) Writer.Dispose();
        else
        {
            try { Writer.Flush(); }
            catch (ObjectDisposedException) { } // the caller closed its writer first: nothing is left to write out
        }
    }
}
