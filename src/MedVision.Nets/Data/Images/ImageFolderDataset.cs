using System.Globalization;
using System.Text;

namespace MedVision.Nets.Data.Images;

/// <summary>
/// Labelled JPEG/PNG images in a folder (e.g. fundus photographs), labelled by sub-folder name, by a file-name rule
/// or by a CSV table (one class per image, or several 0/1 findings: <see cref="CsvLabelOptions.LabelColumns"/>). Images are decoded on demand by <see cref="LoadImage"/>.
/// </summary>
public sealed class ImageFolderDataset
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".dcm"];

    private ImageFolderDataset(string root, IReadOnlyList<string> classNames, IReadOnlyList<ImageSample> samples, int labelColumns = 1)
    {
        Root = root;
        ClassNames = classNames;
        Samples = samples;
        LabelColumns = labelColumns;
    }

    /// <summary>
    /// Labels per image: 1 for a single-label dataset (each image's <see cref="ImageSample.Label"/>), or the number of
    /// findings of a multi-label one (<see cref="CsvLabelOptions.LabelColumns"/>; each image's
    /// <see cref="ImageSample.Labels"/>).
    /// </summary>
    public int LabelColumns { get; }

    /// <summary>Whether each image has several 0/1 labels (a multi-label table) rather than one class.</summary>
    public bool IsMultiLabel => LabelColumns > 1;

    /// <summary>The folder the images were found in.</summary>
    public string Root { get; }

    /// <summary>Class names by label index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The labelled images, ordered by path (ordinal).</summary>
    public IReadOnlyList<ImageSample> Samples { get; }

    /// <summary>The number of images.</summary>
    public int Count => Samples.Count;

    /// <summary>
    /// Labels images by sub-folder: each immediate sub-folder of <paramref name="root"/> is a class (sorted ordinally,
    /// label = index), and every <c>.jpg</c>/<c>.jpeg</c>/<c>.png</c>/<c>.dcm</c> file below it is a sample of that class.
    /// </summary>
    /// <param name="root">The folder holding one sub-folder per class.</param>
    /// <returns>The dataset.</returns>
    public static ImageFolderDataset FromSubfolders(string root)
    {
        CheckFolder(root);
        string[] classes = Directory.GetDirectories(root).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
        {
            throw new DataFormatException(root, "the folder has no class sub-folders.");
        }

        var samples = new List<ImageSample>();
        for (int label = 0; label < classes.Length; label++)
        {
            samples.AddRange(ImageFiles(Path.Combine(root, classes[label]), SearchOption.AllDirectories).Select(f => new ImageSample(f, label)));
        }

        return new ImageFolderDataset(root, classes, Sorted(samples));
    }

    /// <summary>Labels the images directly in <paramref name="folder"/> by a file-name rule.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="rule">The rule, e.g. <see cref="FileNameLabelRule.PathologicMyopia"/>.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DataFormatException">A file name matches no label, or the rule gives a label outside the classes.</exception>
    public static ImageFolderDataset FromFileNames(string folder, FileNameLabelRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        CheckFolder(folder);
        var samples = new List<ImageSample>();
        foreach (string file in ImageFiles(folder, SearchOption.TopDirectoryOnly))
        {
            int? label = rule.LabelOf(Path.GetFileName(file));
            if (label is null)
            {
                throw new DataFormatException(file, "the file name matches no label of the file-name rule.");
            }

            if (label < 0 || label >= rule.ClassNames.Count)
            {
                throw new DataFormatException(file, $"the file-name rule gave label {label}, outside the class range 0..{rule.ClassNames.Count - 1}.");
            }

            samples.Add(new ImageSample(file, label.Value));
        }

        return new ImageFolderDataset(folder, rule.ClassNames, Sorted(samples));
    }

    /// <summary>Labels the images directly in <paramref name="folder"/> with a function of the file name.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="classNames">Class names by label index.</param>
    /// <param name="labelOf">Maps a file name to a label, or <see langword="null"/> when it is not recognised (an error).</param>
    /// <returns>The dataset.</returns>
    public static ImageFolderDataset FromFileNames(string folder, IReadOnlyList<string> classNames, Func<string, int?> labelOf) =>
        FromFileNames(folder, new FileNameLabelRule(classNames, labelOf));

    /// <summary>
    /// Labels images with a CSV table that names each image file (relative to <paramref name="imageFolder"/>; a name
    /// without an extension, as APTOS's <c>id_code</c> and EyePACS's <c>image</c>, names the one JPEG, PNG or DICOM
    /// file of that name) and its integer label, e.g. <c>imgName,Label</c> — or, with <see cref="CsvLabelOptions.LabelColumns"/>, a 0/1
    /// label per finding column (a multi-label table such as ODIR-5K's, e.g. <c>imgName,N,D,G,C,A,H,M,O</c>).
    /// </summary>
    /// <param name="imageFolder">The folder holding the images.</param>
    /// <param name="csvPath">The CSV file; the first line is the header.</param>
    /// <param name="options">Column names and checks; <see langword="null"/> for <c>imgName</c>/<c>Label</c>.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DataFormatException">
    /// A column is missing, a label is not an integer or is outside the class range (a multi-label one not 0 or 1),
    /// a row names a missing image, or images in the folder have no row.
    /// </exception>
    /// <exception cref="ArgumentException">Label columns named twice, or class names of another number than the label columns.</exception>
    public static ImageFolderDataset FromCsv(string imageFolder, string csvPath, CsvLabelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        CheckFolder(imageFolder);
        options ??= new CsvLabelOptions();
        string[] lines = File.ReadAllLines(csvPath, Encoding.UTF8);
        if (lines.Length == 0)
        {
            throw new DataFormatException(csvPath, "the CSV file is empty (a header line is needed).");
        }

        List<string> header = SplitCsv(lines[0], options.Delimiter, csvPath, 1);
        int nameColumn = header.FindIndex(h => h.Trim() == options.FileNameColumn);
        if (options.LabelColumns is { Count: > 0 } findings)
        {
            return FromMultiLabelCsv(imageFolder, csvPath, options, lines, header, nameColumn, findings);
        }

        int labelColumn = header.FindIndex(h => h.Trim() == options.LabelColumn);
        if (nameColumn < 0 || labelColumn < 0)
        {
            throw new DataFormatException(csvPath, $"the header must have columns '{options.FileNameColumn}' and '{options.LabelColumn}' (found: {string.Join(", ", header)}).");
        }

        var samples = ReadRows(imageFolder, csvPath, options, lines, nameColumn, Math.Max(nameColumn, labelColumn), (fields, name, line) =>
        {
            string labelText = fields[labelColumn].Trim();
            if (!TryParseLabel(labelText, out int label))
            {
                throw new DataFormatException(csvPath, $"line {line}: label '{labelText}' of '{name}' is not an integer.");
            }

            if (label < 0 || (options.ClassNames is { } names && label >= names.Count))
            {
                string range = options.ClassNames is null ? "labels must be non-negative" : $"valid range is 0..{options.ClassNames.Count - 1}";
                throw new DataFormatException(csvPath, $"line {line}: label {label} of '{name}' is outside the class range ({range}).");
            }

            return (label, null);
        });

        IReadOnlyList<string> classNames = options.ClassNames?.ToArray()
            ?? Enumerable.Range(0, samples.Count == 0 ? 0 : samples.Max(s => s.Label) + 1).Select(k => k.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new ImageFolderDataset(imageFolder, classNames, Sorted(samples));
    }

    // A multi-label table: each row names an image and gives a 0/1 label per finding column.
    private static ImageFolderDataset FromMultiLabelCsv(string imageFolder, string csvPath, CsvLabelOptions options, string[] lines, List<string> header, int nameColumn,
        IReadOnlyList<string> findings)
    {
        if (findings.Any(f => f is null)) throw new ArgumentException("A label column name is null.", nameof(options));
        if (findings.Distinct(StringComparer.Ordinal).Count() != findings.Count)
            throw new ArgumentException($"The label columns name one column twice ({string.Join(", ", findings)}).", nameof(options));
        if (options.ClassNames is { } given && given.Count != findings.Count)
            throw new ArgumentException($"{given.Count} class names for {findings.Count} label columns; give one name per column.", nameof(options));
        int[] columns = findings.Select(f => header.FindIndex(h => h.Trim() == f)).ToArray();
        if (nameColumn < 0 || columns.Any(c => c < 0))
        {
            throw new DataFormatException(csvPath, $"the header must have columns '{options.FileNameColumn}' and {string.Join(", ", findings.Select(f => $"'{f}'"))} (found: {string.Join(", ", header)}).");
        }

        var samples = ReadRows(imageFolder, csvPath, options, lines, nameColumn, Math.Max(nameColumn, columns.Max()), (fields, name, line) =>
        {
            var labels = new int[columns.Length];
            for (int k = 0; k < columns.Length; k++)
            {
                string text = fields[columns[k]].Trim();
                if (!TryParseLabel(text, out labels[k]) || labels[k] is not (0 or 1))
                {
                    throw new DataFormatException(csvPath, $"line {line}: '{findings[k]}' of '{name}' is '{text}'; a multi-label column holds 0 or 1.");
                }
            }

            return (-1, labels);
        });

        return new ImageFolderDataset(imageFolder, (options.ClassNames ?? findings).ToArray(), Sorted(samples), findings.Count);
    }

    // A table's rows after the header (blank lines skipped): each row's labels as `labelsOf` reads them from its fields
    // (a class, or −1 and a 0/1 per finding), then its image (RowImage); and, unless the options allow it, a row for
    // every image of the folder.
    private static List<ImageSample> ReadRows(string imageFolder, string csvPath, CsvLabelOptions options, string[] lines, int nameColumn, int lastColumn,
        Func<List<string>, string, int, (int Label, int[]? Labels)> labelsOf)
    {
        var samples = new List<ImageSample>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stems = new Dictionary<string, ILookup<string, string>>(StringComparer.Ordinal);
        for (int i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            List<string> fields = SplitCsv(lines[i], options.Delimiter, csvPath, i + 1);
            if (fields.Count <= lastColumn)
            {
                throw new DataFormatException(csvPath, $"line {i + 1} has {fields.Count} fields; expected at least {lastColumn + 1}.");
            }

            string name = fields[nameColumn].Trim();
            var (label, labels) = labelsOf(fields, name, i + 1);
            samples.Add(new ImageSample(RowImage(imageFolder, name, csvPath, i + 1, seen, stems), label) { Labels = labels });
        }

        if (options.RequireEveryImageLabelled)
        {
            CheckEveryImageLabelled(imageFolder, csvPath, seen);
        }

        return samples;
    }

    // The image a table's row names: it must exist, and be named by no earlier row. A name without an extension (APTOS's
    // id_code, EyePACS's image) names the one image file of that name with an image extension.
    // (The image files of each folder rows name, by name without extension, are listed once per table in `stems`.)
    private static string RowImage(string imageFolder, string name, string csvPath, int lineNumber, HashSet<string> seen, Dictionary<string, ILookup<string, string>> stems)
    {
        string file = Path.GetFullPath(Path.Combine(imageFolder, name));
        if (!File.Exists(file) && Path.GetExtension(name).Length == 0 && Path.GetDirectoryName(file) is { } folder && Directory.Exists(folder))
        {
            if (!stems.TryGetValue(folder, out var byStem))
            {
                stems[folder] = byStem = ImageFiles(folder, SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal)
                    .ToLookup(f => Path.GetFileNameWithoutExtension(f), StringComparer.Ordinal);
            }

            string[] named = byStem[Path.GetFileName(file)].ToArray();
            if (named.Length > 1)
            {
                throw new DataFormatException(csvPath, $"line {lineNumber}: '{name}' names no file, and several images by its name: {string.Join(", ", named.Select(Path.GetFileName))}; write the file name with its extension.");
            }

            if (named.Length == 1)
            {
                file = named[0];
            }
        }

        if (!File.Exists(file))
        {
            throw new DataFormatException(csvPath, $"line {lineNumber}: image '{name}' does not exist in {imageFolder}.");
        }

        if (!seen.Add(file))
        {
            throw new DataFormatException(csvPath, $"line {lineNumber}: image '{name}' is listed more than once.");
        }

        return file;
    }

    // Every image of the folder has a row of the table.
    private static void CheckEveryImageLabelled(string imageFolder, string csvPath, HashSet<string> seen)
    {
        string[] unlabelled = ImageFiles(imageFolder, SearchOption.TopDirectoryOnly).Select(Path.GetFullPath).Where(f => !seen.Contains(f)).ToArray();
        if (unlabelled.Length > 0)
        {
            throw new DataFormatException(csvPath, $"image and label counts disagree: {unlabelled.Length} image(s) in {imageFolder} have no row, e.g. '{Path.GetFileName(unlabelled[0])}'.");
        }
    }

    /// <summary>
    /// The images at <paramref name="indices"/>, in that order, as a dataset of the same folder, classes and label
    /// columns — e.g. the two parts of <see cref="Loading.DataSplits.StratifiedHoldout"/> on
    /// <c>Samples.Select(s =&gt; s.Label)</c>, to hold some training images out for calibration.
    /// </summary>
    /// <param name="indices">Distinct sample indices, each in [0, <see cref="Count"/>); at least one.</param>
    /// <returns>The subset.</returns>
    /// <exception cref="ArgumentException">No index, or one repeated.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index outside [0, <see cref="Count"/>).</exception>
    public ImageFolderDataset Subset(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Count == 0) throw new ArgumentException($"A subset of the {Count} images of {Root} needs at least one index.", nameof(indices));
        var seen = new HashSet<int>();
        var samples = new ImageSample[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int index = indices[i];
            if (index < 0 || index >= Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"Index {index} (position {i}) is outside the {Count} images of {Root}.");
            if (!seen.Add(index)) throw new ArgumentException($"Index {index} appears twice in the subset (position {i}); each image can be taken once.", nameof(indices));
            samples[i] = Samples[index];
        }
        return new ImageFolderDataset(Root, ClassNames, samples, LabelColumns);
    }

    /// <summary>
    /// Decodes image <paramref name="index"/>, converts it to <paramref name="channels"/> channels and resizes it
    /// bilinearly to <paramref name="width"/>×<paramref name="height"/>.
    /// </summary>
    /// <param name="index">The sample index.</param>
    /// <param name="width">Output width.</param>
    /// <param name="height">Output height.</param>
    /// <param name="channels">1 (grey) or 3 (RGB).</param>
    /// <returns>Pixels in (H, W, C) order.</returns>
    /// <exception cref="DataFormatException">The file is truncated, corrupt or not JPEG/PNG.</exception>
    public RasterImage LoadImage(int index, int width, int height, int channels = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return ImageCodec.DecodeFile(Samples[index].FilePath).WithChannels(channels).Resize(width, height);
    }

    /// <summary>Parses an integer label, also accepting integral decimals such as <c>1.0</c> (as written by pandas).</summary>
    private static bool TryParseLabel(string text, out int label)
    {
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out label))
        {
            return true;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            && value == Math.Floor(value) && value >= int.MinValue && value <= int.MaxValue)
        {
            label = (int)value;
            return true;
        }

        label = 0;
        return false;
    }

    private static void CheckFolder(string folder, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(folder))] string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder, name);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{folder}: the folder does not exist.");
        }
    }

    private static IEnumerable<string> ImageFiles(string folder, SearchOption search) =>
        Directory.EnumerateFiles(folder, "*", search).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()));

    private static ImageSample[] Sorted(List<ImageSample> samples) => samples.OrderBy(s => s.FilePath, StringComparer.Ordinal).ToArray();

    private static List<string> SplitCsv(string line, char delimiter, string csvPath, int lineNumber)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == delimiter)
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        if (quoted)
        {
            throw new DataFormatException(csvPath, $"line {lineNumber} has an unterminated quoted field.");
        }

        fields.Add(current.ToString());
        if (lineNumber == 1 && fields.Count > 0)
        {
            fields[0] = fields[0].TrimStart('\uFEFF');
        }

        return fields;
    }
}
