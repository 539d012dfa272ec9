using System.Globalization;
using System.Text;
using MedVision.Protobuf;

namespace MedVision.Torch.TensorBoard;

/// <summary>
/// Writes scalars, histograms, images and text to TensorBoard event files, as PyTorch's
/// <c>torch.utils.tensorboard.SummaryWriter</c> does: <c>tensorboard --logdir runs</c> shows them. Safe to call from
/// several threads; dispose it to write everything out and close the file.
/// </summary>
/// <example>
/// <code>
/// using var writer = new SummaryWriter("runs/resnet18");          // tensorboard --logdir runs
/// for (int step = 0; step &lt; steps; step++)
/// {
///     double loss = TrainStep();
///     writer.AddScalar("loss/train", loss, step);
/// }
/// foreach (var (name, parameter) in model.NamedParameters())
///     writer.AddHistogram("parameters/" + name, parameter, steps);
/// </code>
/// </example>
public sealed class SummaryWriter : IDisposable
{
    private readonly object _gate = new();
    private readonly SummaryWriterOptions _options;
    private readonly EventFileWriter _file;
    private readonly Dictionary<string, EventFileWriter> _scalarsWriters = new(StringComparer.Ordinal);
    private readonly List<string> _embeddings = [];
    private readonly ITimer? _flushTimer;
    private bool _disposed;

    /// <summary>
    /// Opens a new event file in <paramref name="logDirectory"/> (created when missing). Without a folder, PyTorch's
    /// default: <c>runs/</c> + the date and time (<c>Dec06_14-05-09</c>) + the machine's name + the options' comment.
    /// </summary>
    public SummaryWriter(string? logDirectory = null, SummaryWriterOptions? options = null)
    {
        _options = options ?? new SummaryWriterOptions();
        if (_options.FlushInterval < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), _options.FlushInterval, "The flush interval must not be negative.");
        if (_options.FileNameSuffix.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || _options.FileNameSuffix.Contains('/'))
            throw new ArgumentException($"The file name suffix \"{_options.FileNameSuffix}\" has characters a file name cannot have.", nameof(options));
        if (logDirectory is not null && string.IsNullOrWhiteSpace(logDirectory))
            throw new ArgumentException("The log folder is empty; give a folder, or null for runs/<date>_<machine>.", nameof(logDirectory));
        LogDirectory = logDirectory ?? Path.Combine("runs",
            _options.TimeProvider.GetLocalNow().ToString("MMMdd_HH-mm-ss", CultureInfo.InvariantCulture) + "_" + Environment.MachineName + _options.Comment);
        _file = new EventFileWriter(LogDirectory, _options);
        // As PyTorch's writer thread: buffered events reach the file within the flush interval even when no further
        // event comes (a long epoch, a stalled run), so that TensorBoard shows them while the run goes on.
        if (_options.FlushInterval > TimeSpan.Zero)
            _flushTimer = _options.TimeProvider.CreateTimer(_ => FlushOnTimer(), null, _options.FlushInterval, _options.FlushInterval);
    }

    /// <summary>The folder this writer writes to (<c>tensorboard --logdir</c> takes it or a folder above it).</summary>
    public string LogDirectory { get; }

    /// <summary>The event file this writer appends to.</summary>
    public string EventFilePath => _file.Path;

    /// <summary>
    /// Adds a scalar (stored as a 32-bit float, as PyTorch stores it; NaN and infinities are kept, so a diverging run
    /// shows as one). <paramref name="globalStep"/> is the x-axis; <paramref name="wallTime"/> (seconds since the Unix
    /// epoch) defaults to now.
    /// </summary>
    public void AddScalar(string tag, double value, long? globalStep = null, double? wallTime = null)
        => Write(_file, tag, globalStep, wallTime, v => v.Float(2, Single(value)));

    /// <summary>Adds the value of a one-element tensor (any device) as a scalar.</summary>
    public void AddScalar(string tag, Tensor value, long? globalStep = null, double? wallTime = null)
    {
        CheckTag(tag, nameof(tag));
        ArgumentNullException.ThrowIfNull(value);
        if (value.NumElements != 1)
            throw new ArgumentException($"A scalar summary needs a one-element tensor, not one of shape [{string.Join(", ", value.Shape)}].", nameof(value));
        AddScalar(tag, value.Item(), globalStep, wallTime);
    }

    /// <summary>
    /// Adds several scalars to one chart, as PyTorch's <c>add_scalars</c> does: each key gets its own run, a sub-folder
    /// <c>&lt;log folder&gt;/&lt;mainTag&gt;_&lt;key&gt;</c> (slashes of <paramref name="mainTag"/> made underscores), in which
    /// the value is written under <paramref name="mainTag"/>; TensorBoard draws the runs on one chart.
    /// </summary>
    public void AddScalars(string mainTag, IReadOnlyDictionary<string, double> values, long? globalStep = null, double? wallTime = null)
    {
        CheckTag(mainTag, nameof(mainTag));
        ArgumentNullException.ThrowIfNull(values);
        if (mainTag.Replace('/', '_').IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"\"{mainTag}\" names the runs' folders and has characters a folder name cannot have.", nameof(mainTag));
        foreach (var key in values.Keys)
        {
            if (string.IsNullOrWhiteSpace(key) || key.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || key.Contains('/') || key is "." or "..")
                throw new ArgumentException($"\"{key}\" cannot name a run folder; use letters, digits, '_', '-' or '.'.", nameof(values));
        }
        lock (_gate)
        {
            ThrowIfDisposed();
            double time = CheckWallTime(wallTime) ?? _file.Now();
            foreach (var (key, value) in values)
            {
                var folder = Path.Combine(LogDirectory, mainTag.Replace('/', '_') + "_" + key);
                if (!_scalarsWriters.TryGetValue(folder, out var writer))
                    _scalarsWriters[folder] = writer = new EventFileWriter(folder, _options);
                WriteSummary(writer, time, globalStep, v =>
                {
                    v.String(1, mainTag);
                    v.Float(2, Single(value));
                });
            }
        }
    }

    /// <summary>
    /// Adds a histogram of <paramref name="values"/> (any shape, dtype and device), counted as PyTorch's
    /// <c>add_histogram</c> counts: in TensorFlow's default buckets, or in <paramref name="bins"/> equal ones from the
    /// smallest value to the largest. See <see cref="HistogramData.Of(ReadOnlySpan{double}, int?)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An empty tensor, or a NaN or infinite value.</exception>
    public void AddHistogram(string tag, Tensor values, long? globalStep = null, int? bins = null, double? wallTime = null)
    {
        CheckTag(tag, nameof(tag));
        ArgumentNullException.ThrowIfNull(values);
        // float32 and narrower types are read out as float32 (exact), everything else as float64: the same histogram
        // from half the memory for the usual parameters and activations.
        if (values.ScalarType is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16) AddHistogram(tag, Floats(values), globalStep, bins, wallTime);
        else AddHistogram(tag, Doubles(values), globalStep, bins, wallTime);
    }

    /// <summary>Adds a histogram of float32 <paramref name="values"/>; see <see cref="AddHistogram(string, Tensor, long?, int?, double?)"/>.</summary>
    public void AddHistogram(string tag, ReadOnlySpan<float> values, long? globalStep = null, int? bins = null, double? wallTime = null)
    {
        CheckTag(tag, nameof(tag));
        var h = HistogramData.Of(values, bins);
        Write(_file, tag, globalStep, wallTime, v => v.Message(5, m => WriteHistogram(m, h)));
    }

    /// <summary>Adds a histogram of <paramref name="values"/>; see <see cref="AddHistogram(string, Tensor, long?, int?, double?)"/>.</summary>
    public void AddHistogram(string tag, ReadOnlySpan<double> values, long? globalStep = null, int? bins = null, double? wallTime = null)
    {
        CheckTag(tag, nameof(tag));
        var h = HistogramData.Of(values, bins);
        Write(_file, tag, globalStep, wallTime, v => v.Message(5, m => WriteHistogram(m, h)));
    }

    /// <summary>
    /// Adds an image. <paramref name="dataFormats"/> names the axes: "CHW" (default), "HWC" or "HW"; 1 (grey),
    /// 3 (RGB) or 4 (RGBA) channels. As in PyTorch, a uint8 image is taken as it is and any other dtype is taken as
    /// intensities in [0, 1] (multiplied by 255, clipped to [0, 255], truncated). Stored as PNG.
    /// </summary>
    /// <exception cref="ArgumentException">Axes that do not match the tensor, or a channel count that is not 1, 3 or 4.</exception>
    public void AddImage(string tag, Tensor image, long? globalStep = null, string dataFormats = "CHW", double? wallTime = null)
    {
        CheckTag(tag, nameof(tag));
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(dataFormats);
        var (pixels, height, width, channels) = dataFormats switch
        {
            "CHW" or "HWC" or "HW" => ImagePixels.Interleaved(image, dataFormats, nameof(image)),
            _ => throw new ArgumentException($"\"{dataFormats}\" is not an image layout: use \"CHW\", \"HWC\" or \"HW\" (\"NCHW\" and \"NHWC\" go to AddImages).", nameof(dataFormats)),
        };
        WriteImage(tag, pixels, height, width, channels, globalStep, wallTime);
    }

    /// <summary>
    /// Adds a batch of images as one grid, as PyTorch's <c>add_images</c> does: up to 8 per row, row after row, no
    /// padding. <paramref name="dataFormats"/>: "NCHW" (default) or "NHWC"; the values as in
    /// <see cref="AddImage"/>.
    /// </summary>
    public void AddImages(string tag, Tensor images, long? globalStep = null, string dataFormats = "NCHW", double? wallTime = null)
    {
        CheckTag(tag, nameof(tag));
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(dataFormats);
        if (dataFormats is not ("NCHW" or "NHWC"))
            throw new ArgumentException($"\"{dataFormats}\" is not a batch layout: use \"NCHW\" or \"NHWC\".", nameof(dataFormats));
        var (pixels, height, width, channels) = ImagePixels.Grid(images, dataFormats, columns: 8, nameof(images));
        WriteImage(tag, pixels, height, width, channels, globalStep, wallTime);
    }

    /// <summary>
    /// Adds text (Markdown, shown by TensorBoard's text tab), stored as PyTorch stores it: under
    /// <c>&lt;tag&gt;/text_summary</c>, for the "text" plugin.
    /// </summary>
    public void AddText(string tag, string text, long? globalStep = null, double? wallTime = null)
    {
        CheckTag(tag, nameof(tag));
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        Write(_file, tag + "/text_summary", globalStep, wallTime, v =>
        {
            v.Message(8, t =>
            {
                t.Int64(1, 7); // DT_STRING
                t.Message(2, shape => shape.Message(2, dim => dim.Int64(1, 1)));
                t.Bytes(8, bytes);
            });
            v.Message(9, metadata => metadata.Message(1, plugin => plugin.String(1, "text")));
        });
    }

    /// <summary>
    /// Records a run's hyperparameters and final metrics for TensorBoard's HParams tab, as PyTorch's
    /// <c>add_hparams</c> does: in a run folder of its own (<paramref name="runName"/>, by default the time in seconds)
    /// under this writer's folder, the plugin's experiment, session start (the values) and session end, then each
    /// metric as a scalar. Values may be numbers (any .NET numeric type, or a one-element tensor), strings or booleans;
    /// null values are left out. <paramref name="discreteDomains"/> lists, for some hyperparameters, every value they
    /// take across the experiment (TensorBoard offers them as filters).
    /// </summary>
    /// <exception cref="ArgumentException">A value of another type, a domain for an unknown hyperparameter or of
    /// values of another type, or a run name that is not a relative folder.</exception>
    public void AddHyperparameters(IReadOnlyDictionary<string, object?> hyperparameters, IReadOnlyDictionary<string, double> metrics,
        IReadOnlyDictionary<string, IReadOnlyList<object>>? discreteDomains = null, string? runName = null, long? globalStep = null)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        ArgumentNullException.ThrowIfNull(metrics);
        var values = new List<(string Name, HyperparameterValue Value)>();
        foreach (var (name, value) in hyperparameters)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A hyperparameter needs a name that is not empty.", nameof(hyperparameters));
            if (value is null) continue;
            values.Add((name, HyperparameterValue.Of(value, $"Hyperparameter \"{name}\"", nameof(hyperparameters))));
        }
        foreach (var name in metrics.Keys) CheckTag(name, nameof(metrics));
        var domains = new Dictionary<string, HyperparameterValue[]>(StringComparer.Ordinal);
        foreach (var (name, domain) in discreteDomains ?? new Dictionary<string, IReadOnlyList<object>>())
        {
            var kind = values.FirstOrDefault(v => v.Name == name).Value?.Kind
                ?? throw new ArgumentException($"\"{name}\" has a domain but no value among the hyperparameters.", nameof(discreteDomains));
            if (domain is null || domain.Count == 0) throw new ArgumentException($"The domain of \"{name}\" lists no value.", nameof(discreteDomains));
            domains[name] = domain.Select(d => HyperparameterValue.Of(d, $"A value in the domain of \"{name}\"", nameof(discreteDomains))).ToArray();
            if (domains[name].Any(d => d.Kind != kind))
                throw new ArgumentException($"The domain of \"{name}\" must hold values of its type ({kind}).", nameof(discreteDomains));
        }
        if (runName is not null && (string.IsNullOrWhiteSpace(runName) || Path.IsPathRooted(runName)
            || runName.Split('/', '\\').Any(part => part is "" or "." or "..") || runName.IndexOfAny(Path.GetInvalidPathChars()) >= 0))
            throw new ArgumentException($"The run name \"{runName}\" must be a folder inside the log folder (no '..', not rooted).", nameof(runName));

        lock (_gate)
        {
            ThrowIfDisposed();
            double time = _file.Now();
            var folder = Path.Combine(LogDirectory, runName ?? time.ToString("R", CultureInfo.InvariantCulture));
            using var run = new EventFileWriter(folder, _options);
            // HParamsPluginData (version 0, left out): experiment = 2, session_start_info = 3, session_end_info = 4.
            WritePlugin(run, time, "_hparams_/experiment", data => data.Message(2, experiment =>
            {
                foreach (var (name, value) in values)
                {
                    experiment.Message(4, info =>
                    {
                        info.String(1, name);
                        info.Int64(4, (int)value.Kind);
                        if (domains.TryGetValue(name, out var domain))
                            info.Message(5, list => { foreach (var d in domain) list.Message(1, d.Write); });
                    });
                }
                foreach (var metric in metrics.Keys) experiment.Message(5, info => info.Message(1, metricName => metricName.String(2, metric)));
            }));
            WritePlugin(run, time, "_hparams_/session_start_info", data => data.Message(3, start =>
            {
                // The map's entries in key order, as deterministic serialisation orders them.
                foreach (var (name, value) in values.OrderBy(v => v.Name, StringComparer.Ordinal))
                    start.Message(1, entry =>
                    {
                        entry.String(1, name);
                        entry.Message(2, value.Write);
                    });
            }));
            WritePlugin(run, time, "_hparams_/session_end_info", data => data.Message(4, end => end.Int64(1, 1))); // STATUS_SUCCESS
            foreach (var (name, value) in metrics)
                WriteSummary(run, time, globalStep, v =>
                {
                    v.String(1, name);
                    v.Float(2, Single(value));
                });
            run.Flush();
        }
    }

    private static void WritePlugin(EventFileWriter file, double time, string tag, Action<ProtoWriter> content)
    {
        var data = new ProtoWriter();
        content(data);
        var bytes = data.ToArray();
        WriteSummary(file, time, null, v =>
        {
            v.String(1, tag);
            v.Message(9, metadata => metadata.Message(1, plugin =>
            {
                plugin.String(1, "hparams");
                plugin.Bytes(2, bytes);
            }));
        });
    }

    /// <summary>
    /// Adds points for TensorBoard's embedding projector (PCA, t-SNE, UMAP of e.g. a Siamese network's features), as
    /// PyTorch's <c>add_embedding</c> does: in <c>&lt;step, 5 digits&gt;/&lt;tag&gt;/</c> under the log folder,
    /// <c>tensors.tsv</c> (one row per point), <c>metadata.tsv</c> (one label per point, e.g. the grade) and, from
    /// <paramref name="labelImages"/> (N, C, H, W; C 1 or 3; intensities in [0, 1] or uint8), <c>sprite.png</c> (the
    /// images in a square grid); <c>projector_config.pbtxt</c> in the log folder lists every embedding added so far.
    /// Each file is written whole (temporary file, then renamed).
    /// </summary>
    /// <param name="embeddings">(N, D) finite values: N points of D dimensions.</param>
    /// <param name="metadata">One label per point (no tabs or line breaks), or null.</param>
    /// <param name="labelImages">One image per point, or null.</param>
    /// <param name="globalStep">The step (0 when null), part of the folder's name.</param>
    /// <param name="tag">The embedding's name (default "default").</param>
    /// <exception cref="ArgumentException">Not (N, D), NaN or infinite values, labels or images that do not count N, a label with a tab or line break, or an embedding of this tag and step already written.</exception>
    public void AddEmbedding(Tensor embeddings, IReadOnlyList<string>? metadata = null, Tensor? labelImages = null, long? globalStep = null, string tag = "default")
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        CheckTag(tag, nameof(tag));
        if (embeddings.Dim != 2 || embeddings.Shape[0] == 0 || embeddings.Shape[1] == 0)
            throw new ArgumentException($"The embeddings must be (N, D) with N and D at least 1, not of shape [{string.Join(", ", embeddings.Shape)}].", nameof(embeddings));
        long n = embeddings.Shape[0], d = embeddings.Shape[1];
        if (metadata is not null)
        {
            if (metadata.Count != n) throw new ArgumentException($"{metadata.Count} labels were given for {n} points.", nameof(metadata));
            int bad = Enumerable.Range(0, metadata.Count).FirstOrDefault(i => metadata[i] is null || metadata[i].IndexOfAny(['\t', '\n', '\r']) >= 0, -1);
            if (bad >= 0) throw new ArgumentException($"Label {bad} is null or holds a tab or line break, which metadata.tsv cannot hold.", nameof(metadata));
        }
        if (labelImages is not null && (labelImages.Dim != 4 || labelImages.Shape[0] != n))
            throw new ArgumentException($"The label images must be (N, C, H, W) with N = {n}, not of shape [{string.Join(", ", labelImages.Shape)}].", nameof(labelImages));
        var values = Doubles(embeddings);
        int notFinite = Array.FindIndex(values, v => !double.IsFinite(v));
        if (notFinite >= 0) throw new ArgumentException($"Point {notFinite / d}, dimension {notFinite % d} is {values[notFinite]}; the projector needs finite values.", nameof(embeddings));
        byte[]? sprite = null;
        int spriteHeight = 0, spriteWidth = 0;
        if (labelImages is not null)
        {
            // PyTorch's make_sprite: a grid of ⌈√N⌉ columns, padded with black rows to ⌈√N⌉ rows (a square of square images).
            int columns = (int)Math.Ceiling(Math.Sqrt(n));
            var (grid, height, width, channels) = ImagePixels.Grid(labelImages, "NCHW", columns, nameof(labelImages));
            if (channels == 4) throw new ArgumentException("The label images have 4 channels; the sprite takes 1 (grey) or 3 (RGB).", nameof(labelImages));
            (spriteHeight, spriteWidth) = ((int)labelImages.Shape[2], (int)labelImages.Shape[3]);
            var full = new byte[(long)columns * spriteHeight * width * channels];
            Array.Copy(grid, full, grid.Length); // the grid's rows, then black ones
            sprite = PngEncoder.Encode(full, columns * spriteHeight, width, channels);
        }

        long step = globalStep ?? 0;
        string subfolder = $"{step.ToString("D5", CultureInfo.InvariantCulture)}/{tag.Replace("%", "%25").Replace("/", "%2f").Replace("\\", "%5c")}";
        lock (_gate)
        {
            ThrowIfDisposed();
            var folder = Path.Combine(LogDirectory, subfolder);
            if (Directory.Exists(folder))
                throw new ArgumentException($"An embedding \"{tag}\" of step {step} is already in {folder}; give each call its own step or tag.", nameof(tag));
            Directory.CreateDirectory(folder);
            var rows = new StringBuilder();
            for (long i = 0; i < n; i++)
            {
                for (long j = 0; j < d; j++)
                {
                    if (j > 0) rows.Append('\t');
                    rows.Append(values[i * d + j].ToString("R", CultureInfo.InvariantCulture));
                }
                rows.Append('\n');
            }
            Serialization.AtomicFile.WriteAllText(Path.Combine(folder, "tensors.tsv"), rows.ToString());
            if (metadata is not null) Serialization.AtomicFile.WriteAllText(Path.Combine(folder, "metadata.tsv"), string.Concat(metadata.Select(m => m + "\n")));
            if (sprite is not null) Serialization.AtomicFile.Write(Path.Combine(folder, "sprite.png"), stream => stream.Write(sprite));
            // projector_config.pbtxt: every embedding so far, fields in their numbers' order (tensor_name 1, metadata_path 2,
            // sprite 5, tensor_path 8), as protobuf's text format prints a ProjectorConfig.
            var entry = new StringBuilder("embeddings {\n");
            entry.Append(CultureInfo.InvariantCulture, $"  tensor_name: {Quoted($"{tag}:{step.ToString("D5", CultureInfo.InvariantCulture)}")}\n");
            if (metadata is not null) entry.Append(CultureInfo.InvariantCulture, $"  metadata_path: {Quoted(subfolder + "/metadata.tsv")}\n");
            if (sprite is not null)
                entry.Append(CultureInfo.InvariantCulture, $"  sprite {{\n    image_path: {Quoted(subfolder + "/sprite.png")}\n    single_image_dim: {spriteHeight}\n    single_image_dim: {spriteWidth}\n  }}\n");
            entry.Append(CultureInfo.InvariantCulture, $"  tensor_path: {Quoted(subfolder + "/tensors.tsv")}\n}}\n");
            _embeddings.Add(entry.ToString());
            Serialization.AtomicFile.WriteAllText(Path.Combine(LogDirectory, "projector_config.pbtxt"), string.Concat(_embeddings));
        }
    }

    // A string in protobuf's text format: double quotes, with backslash, quote and control characters escaped.
    private static string Quoted(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in text)
        {
            quoted.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\t' => "\\t",
                _ when c < ' ' => $"\\{Convert.ToString(c, 8).PadLeft(3, '0')}",
                _ => c.ToString(),
            });
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>Writes out every buffered event.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _file.Flush();
            foreach (var w in _scalarsWriters.Values) w.Flush();
        }
    }

    // The flush timer's callback: what Flush does, unless the writer is closed. An I/O error (a full disk) is left to the
    // next Add… or Flush, which meets it on the caller's thread; a timer thread has no one to report it to.
    private void FlushOnTimer()
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                _file.Flush();
                foreach (var w in _scalarsWriters.Values) w.Flush();
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Writes out every buffered event and closes the files. Further calls of Add… throw.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _flushTimer?.Dispose();
            _file.Dispose();
            foreach (var w in _scalarsWriters.Values) w.Dispose();
        }
    }

    private void WriteImage(string tag, byte[] pixels, int height, int width, int channels, long? globalStep, double? wallTime)
    {
        var png = PngEncoder.Encode(pixels, height, width, channels);
        Write(_file, tag, globalStep, wallTime, v => v.Message(4, image =>
        {
            image.Int64(1, height);
            image.Int64(2, width);
            image.Int64(3, channels);
            image.Bytes(4, png);
        }));
    }

    internal static void WriteHistogram(ProtoWriter m, HistogramData h)
    {
        void NonZero(int field, double value)
        {
            if (BitConverter.DoubleToInt64Bits(value) != 0) m.Double(field, value);
        }
        NonZero(1, h.Min);
        NonZero(2, h.Max);
        NonZero(3, h.Count);
        NonZero(4, h.Sum);
        NonZero(5, h.SumSquares);
        m.PackedDoubles(6, h.BucketLimits);
        m.PackedDoubles(7, h.BucketCounts);
    }

    // One Summary.Value under a tag (field 1); the caller writes the value's other fields in field-number order.
    private void Write(EventFileWriter file, string tag, long? globalStep, double? wallTime, Action<ProtoWriter> value)
    {
        CheckTag(tag, nameof(tag));
        lock (_gate)
        {
            ThrowIfDisposed();
            WriteSummary(file, CheckWallTime(wallTime) ?? file.Now(), globalStep, v =>
            {
                v.String(1, tag);
                value(v);
            });
        }
    }

    private static void WriteSummary(EventFileWriter file, double wallTime, long? globalStep, Action<ProtoWriter> value)
        => file.Write(wallTime, globalStep, e => e.Message(5, summary => summary.Message(1, value)));

    // A tensor's values (any dtype, device, gradient) as float64, row-major.
    private static double[] Doubles(Tensor tensor) => Values<double>(tensor, ScalarType.Float64);

    // A floating tensor's values as float32, row-major (exact for float32, float16 and bfloat16).
    private static float[] Floats(Tensor tensor) => Values<float>(tensor, ScalarType.Float32);

    private static T[] Values<T>(Tensor tensor, ScalarType type) where T : unmanaged
    {
        using var noGrad = Tensors.NoGrad();
        using var converted = tensor.Detach().To(type, Device.Cpu);
        return converted.ToArray<T>();
    }

    // NaN as Python writes it (the positive quiet NaN; .NET's double.NaN has the sign bit set), so files match bit for bit.
    private static float Single(double value) => double.IsNaN(value) ? BitConverter.Int32BitsToSingle(0x7FC00000) : (float)value;

    private static double? CheckWallTime(double? wallTime)
        => wallTime is double t && !double.IsFinite(t)
            ? throw new ArgumentOutOfRangeException(nameof(wallTime), t, "The wall time must be finite (seconds since the Unix epoch).")
            : wallTime;

    private static void CheckTag(string tag, string name)
    {
        ArgumentNullException.ThrowIfNull(tag, name);
        if (string.IsNullOrWhiteSpace(tag)) throw new ArgumentException("A summary needs a tag that is not empty.", name);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
