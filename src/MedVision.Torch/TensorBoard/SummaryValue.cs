namespace MedVision.Torch.TensorBoard;

/// <summary>What a <see cref="SummaryValue"/> holds.</summary>
public enum SummaryValueKind
{
    /// <summary>A scalar (<see cref="SummaryValue.Scalar"/>).</summary>
    Scalar,
    /// <summary>A histogram (<see cref="SummaryValue.Histogram"/>).</summary>
    Histogram,
    /// <summary>An encoded image (<see cref="SummaryValue.Image"/>).</summary>
    Image,
    /// <summary>Text for TensorBoard's text plugin (<see cref="SummaryValue.Text"/>).</summary>
    Text,
    /// <summary>Anything else (audio, tensors of other plugins): its tag and plugin name only.</summary>
    Other,
}

/// <summary>An image in an event file.</summary>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Colorspace">1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.</param>
/// <param name="Encoded">The encoded image (PNG as <see cref="SummaryWriter"/> writes it).</param>
public sealed record SummaryImage(int Height, int Width, int Colorspace, ReadOnlyMemory<byte> Encoded);

/// <summary>One tagged value of an event's summary.</summary>
/// <param name="Tag">The tag (TensorBoard groups tags by their part before the first slash).</param>
/// <param name="Kind">What the value holds.</param>
public sealed record SummaryValue(string Tag, SummaryValueKind Kind)
{
    /// <summary>The tag (TensorBoard groups tags by their part before the first slash).</summary>
    public string Tag { get; init; } = Tag ?? throw new ArgumentNullException(nameof(Tag));

    /// <summary>The scalar, for <see cref="SummaryValueKind.Scalar"/>.</summary>
    public double? Scalar { get; init; }

    /// <summary>The histogram, for <see cref="SummaryValueKind.Histogram"/>.</summary>
    public HistogramData? Histogram { get; init; }

    /// <summary>The image, for <see cref="SummaryValueKind.Image"/>.</summary>
    public SummaryImage? Image { get; init; }

    /// <summary>The text, for <see cref="SummaryValueKind.Text"/>.</summary>
    public string? Text { get; init; }

    /// <summary>The TensorBoard plugin the value is for, when the file names one.</summary>
    public string? PluginName { get; init; }

    /// <summary>The plugin's own data (a serialised message of the plugin's protos, e.g. the HParams plugin's), or empty.</summary>
    public ReadOnlyMemory<byte> PluginContent { get; init; }
}

/// <summary>One event of an event file.</summary>
/// <param name="WallTime">Seconds since the Unix epoch.</param>
/// <param name="Step">The global step (0 when none was given).</param>
/// <param name="FileVersion">The format version of a file's first event ("brain.Event:2"); null on the others.</param>
/// <param name="Values">The summary's values (empty for events that are not summaries).</param>
public sealed record TensorBoardEvent(double WallTime, long Step, string? FileVersion, IReadOnlyList<SummaryValue> Values)
{
    /// <summary>The summary's values (empty for events that are not summaries).</summary>
    public IReadOnlyList<SummaryValue> Values { get; init; } = Values ?? throw new ArgumentNullException(nameof(Values));
}

/// <summary>One point of a scalar series.</summary>
/// <param name="Tag">The series.</param>
/// <param name="Step">The global step.</param>
/// <param name="WallTime">Seconds since the Unix epoch.</param>
/// <param name="Value">The value.</param>
public sealed record ScalarPoint(string Tag, long Step, double WallTime, double Value)
{
    /// <summary>The series.</summary>
    public string Tag { get; init; } = Tag ?? throw new ArgumentNullException(nameof(Tag));
}
