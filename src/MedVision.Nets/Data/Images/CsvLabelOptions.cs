namespace MedVision.Nets.Data.Images;

/// <summary>How <see cref="ImageFolderDataset.FromCsv"/> reads a label table.</summary>
public sealed class CsvLabelOptions
{
    /// <summary>The header of the column holding image file names (default <c>imgName</c>).</summary>
    public string FileNameColumn { get; init => field = value ?? throw new ArgumentNullException(nameof(FileNameColumn)); } = "imgName";

    /// <summary>The header of the column holding integer labels (default <c>Label</c>).</summary>
    public string LabelColumn { get; init => field = value ?? throw new ArgumentNullException(nameof(LabelColumn)); } = "Label";

    /// <summary>
    /// Several 0/1 columns, one per finding, for a multi-label table — e.g. ODIR-5K's <c>N,D,G,C,A,H,M,O</c>. When
    /// given, <see cref="LabelColumn"/> is not read, each row's labels are these columns' values (0 or 1; <c>1.0</c>
    /// as pandas writes it is read as 1), and the class names are these headers unless <see cref="ClassNames"/> names
    /// them (one name per column).
    /// </summary>
    public IReadOnlyList<string>? LabelColumns { get; init; }

    /// <summary>The field separator (default comma). Fields may be double-quoted.</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>
    /// Class names by label index. When given, labels must lie in 0..Count-1; when <see langword="null"/>, the
    /// classes are 0..max label found and named by their number.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>
    /// Require every image in the folder to have a row (default <see langword="true"/>): otherwise image and label
    /// counts that disagree are reported. Rows naming missing files are always reported.
    /// </summary>
    public bool RequireEveryImageLabelled { get; init; } = true;
}
