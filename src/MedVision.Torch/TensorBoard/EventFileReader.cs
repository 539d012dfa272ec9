using System.Buffers.Binary;
using System.Text;

namespace MedVision.Torch.TensorBoard;

/// <summary>
/// Reads TensorBoard event files (this library's, PyTorch's, TensorFlow's): every record's CRCs are checked, and the
/// summaries' scalars, histograms, images and text are decoded. A record cut short at the end of a file — a writer
/// that is still writing, or stopped mid-way — ends the reading quietly, as TensorBoard reads it; damage anywhere
/// else throws <see cref="TensorBoardFormatException"/>.
/// </summary>
public static class EventFileReader
{
    /// <summary>Every complete event of one event file, in order.</summary>
    /// <exception cref="TensorBoardFormatException">A record whose CRC does not match, or an event that cannot be decoded.</exception>
    public static IReadOnlyList<TensorBoardEvent> Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        var events = new List<TensorBoardEvent>();
        long offset = 0;
        while (bytes.Length - offset >= 12)
        {
            var header = bytes.AsSpan((int)offset, 12);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != Crc32C.Masked(header[..8]))
                throw new TensorBoardFormatException(path, offset, "the record's length does not match its checksum");
            if (length > (ulong)(bytes.Length - offset - 12) || bytes.Length - offset - 12 - (long)length < 4) break; // cut short at the end
            var data = bytes.AsSpan((int)offset + 12, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)(offset + 12 + (long)length), 4));
            if (stored != Crc32C.Masked(data))
                throw new TensorBoardFormatException(path, offset, "the record's data does not match its checksum");
            try
            {
                events.Add(DecodeEvent(data));
            }
            catch (FormatException e)
            {
                throw new TensorBoardFormatException(path, offset, "the record is not an event: " + e.Message);
            }
            offset += 12 + (long)length + 4;
        }
        if (events.Count == 0 && bytes.Length > 0)
            throw new TensorBoardFormatException(path, 0, "the file holds no complete record");
        return events;
    }

    /// <summary>
    /// The scalar points of an event file, or of every event file directly in a folder (read in name order, which is
    /// the order they were created in) — one run, as TensorBoard shows it. Sub-folders are runs of their own.
    /// </summary>
    public static IReadOnlyList<ScalarPoint> ReadScalars(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        IEnumerable<string> files = Directory.Exists(path)
            ? Directory.GetFiles(path).Where(IsEventFile).Order(StringComparer.Ordinal)
            : File.Exists(path) ? [path] : throw new FileNotFoundException($"{path}: no such event file or folder.", path);
        var points = new List<ScalarPoint>();
        foreach (var file in files)
            foreach (var e in Read(file))
                foreach (var v in e.Values)
                    if (v.Scalar is double value) points.Add(new ScalarPoint(v.Tag, e.Step, e.WallTime, value));
        return points;
    }

    /// <summary>
    /// The scalar points of every run under <paramref name="logDirectory"/>, as <c>tensorboard --logdir</c> finds runs:
    /// each folder (the log folder itself included) that holds event files is one, named by its path relative to the
    /// log folder with '/' between folders ("." for the log folder itself) — e.g. the runs of <see cref="SummaryWriter.AddScalars"/>,
    /// or a cross-validation's <c>fold-1</c> … <c>fold-k</c>. Runs in ordinal order of their names.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The log folder does not exist.</exception>
    /// <exception cref="TensorBoardFormatException">An event file is damaged.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<ScalarPoint>> ReadRuns(string logDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        if (!Directory.Exists(logDirectory)) throw new DirectoryNotFoundException($"{logDirectory}: no such log folder.");
        var runs = new SortedDictionary<string, IReadOnlyList<ScalarPoint>>(StringComparer.Ordinal);
        foreach (var folder in Directory.EnumerateDirectories(logDirectory, "*", SearchOption.AllDirectories).Prepend(logDirectory))
        {
            if (!Directory.EnumerateFiles(folder).Any(IsEventFile)) continue;
            var name = Path.GetRelativePath(logDirectory, folder).Replace(Path.DirectorySeparatorChar, '/');
            runs[name] = ReadScalars(folder);
        }
        return runs;
    }

    // TensorBoard's rule for which files of a folder are event files.
    private static bool IsEventFile(string path) => Path.GetFileName(path).Contains("tfevents", StringComparison.Ordinal);

    private static TensorBoardEvent DecodeEvent(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        double wallTime = 0;
        long step = 0;
        string? version = null;
        var values = new List<SummaryValue>();
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: wallTime = r.Double(wire); break;
                case 2: step = r.Int64(wire); break;
                case 3: version = Utf8(r.Bytes(wire)); break;
                case 5: DecodeSummary(r.Bytes(wire), values); break;
                default: r.Skip(wire); break;
            }
        }
        return new TensorBoardEvent(wallTime, step, version, values);
    }

    private static void DecodeSummary(ReadOnlySpan<byte> data, List<SummaryValue> into)
    {
        var r = new ProtoReader(data);
        while (r.Next(out var field, out var wire))
        {
            if (field == 1) into.Add(DecodeValue(r.Bytes(wire)));
            else r.Skip(wire);
        }
    }

    private static SummaryValue DecodeValue(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        string tag = "";
        double? scalar = null;
        HistogramData? histogram = null;
        SummaryImage? image = null;
        string? text = null, plugin = null;
        byte[] content = [];
        bool tensor = false;
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: tag = Utf8(r.Bytes(wire)); break;
                case 2: scalar = r.Float(wire); break;
                case 4: image = DecodeImage(r.Bytes(wire)); break;
                case 5: histogram = DecodeHistogram(r.Bytes(wire)); break;
                case 8: tensor = true; (scalar, text) = DecodeTensor(r.Bytes(wire), scalar, text); break;
                case 9: (plugin, content) = DecodePlugin(r.Bytes(wire)); break;
                default: r.Skip(wire); break;
            }
        }
        var kind = histogram is not null ? SummaryValueKind.Histogram
            : image is not null ? SummaryValueKind.Image
            : text is not null ? SummaryValueKind.Text
            : scalar is not null ? SummaryValueKind.Scalar
            : SummaryValueKind.Other;
        if (tensor && kind == SummaryValueKind.Scalar && plugin is not (null or "scalars")) kind = SummaryValueKind.Other;
        if (kind == SummaryValueKind.Other) scalar = null;
        return new SummaryValue(tag, kind) { Scalar = scalar, Histogram = histogram, Image = image, Text = text, PluginName = plugin, PluginContent = content };
    }

    private static SummaryImage DecodeImage(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        int height = 0, width = 0, colorspace = 0;
        byte[] encoded = [];
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: height = (int)r.Int64(wire); break;
                case 2: width = (int)r.Int64(wire); break;
                case 3: colorspace = (int)r.Int64(wire); break;
                case 4: encoded = r.Bytes(wire).ToArray(); break;
                default: r.Skip(wire); break;
            }
        }
        return new SummaryImage(height, width, colorspace, encoded);
    }

    private static HistogramData DecodeHistogram(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        double min = 0, max = 0, num = 0, sum = 0, squares = 0;
        var limits = new List<double>();
        var counts = new List<double>();
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: min = r.Double(wire); break;
                case 2: max = r.Double(wire); break;
                case 3: num = r.Double(wire); break;
                case 4: sum = r.Double(wire); break;
                case 5: squares = r.Double(wire); break;
                case 6: r.Doubles(wire, limits); break;
                case 7: r.Doubles(wire, counts); break;
                default: r.Skip(wire); break;
            }
        }
        if (limits.Count != counts.Count) throw new FormatException($"a histogram has {limits.Count} bucket limits but {counts.Count} counts");
        return new HistogramData(min, max, num, sum, squares, limits, counts);
    }

    // A tensor value: a float scalar (new-style scalar summaries: DT_FLOAT = 1, float_val = 5 or tensor_content = 4)
    // or the first string (DT_STRING = 7, string_val = 8) for text.
    private static (double? Scalar, string? Text) DecodeTensor(ReadOnlySpan<byte> data, double? scalar, string? text)
    {
        var r = new ProtoReader(data);
        long dtype = 0;
        while (r.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: dtype = r.Int64(wire); break;
                case 4:
                    var content = r.Bytes(wire);
                    if (dtype == 1 && content.Length == 4) scalar = BinaryPrimitives.ReadSingleLittleEndian(content);
                    break;
                case 5:
                    if (wire == 5) scalar = r.Float(wire);
                    else
                    {
                        var packed = r.Bytes(wire);
                        if (packed.Length >= 4) scalar = BinaryPrimitives.ReadSingleLittleEndian(packed);
                    }
                    break;
                case 8:
                    var s = Utf8(r.Bytes(wire));
                    text ??= s;
                    break;
                default: r.Skip(wire); break;
            }
        }
        if (dtype != 7) text = null;
        return (scalar, text);
    }

    private static (string? Name, byte[] Content) DecodePlugin(ReadOnlySpan<byte> metadata)
    {
        var r = new ProtoReader(metadata);
        string? name = null;
        byte[] content = [];
        while (r.Next(out var field, out var wire))
        {
            if (field != 1)
            {
                r.Skip(wire);
                continue;
            }
            var plugin = new ProtoReader(r.Bytes(wire));
            while (plugin.Next(out var f, out var w))
            {
                if (f == 1) name = Utf8(plugin.Bytes(w));
                else if (f == 2) content = plugin.Bytes(w).ToArray();
                else plugin.Skip(w);
            }
        }
        return (name, content);
    }

    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException("a string is not UTF-8");
        }
    }
}
