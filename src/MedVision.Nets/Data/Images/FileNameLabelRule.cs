namespace MedVision.Nets.Data.Images;

/// <summary>
/// Assigns a class label from an image's file name (without folder). A rule returns <see langword="null"/> for a
/// name it does not recognise; <see cref="ImageFolderDataset.FromFileNames(string, FileNameLabelRule)"/> reports such files.
/// </summary>
public sealed class FileNameLabelRule
{
    /// <summary>Creates a rule.</summary>
    /// <param name="classNames">Class names by label index.</param>
    /// <param name="labelOf">Maps a file name (e.g. <c>P0001.jpg</c>) to a label in 0..classNames.Count-1, or <see langword="null"/>.</param>
    public FileNameLabelRule(IReadOnlyList<string> classNames, Func<string, int?> labelOf)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(labelOf);
        if (classNames.Count == 0)
        {
            throw new ArgumentException("At least one class is needed.", nameof(classNames));
        }

        ClassNames = classNames.ToArray();
        LabelOf = labelOf;
    }

    /// <summary>
    /// iChallenge-PM / PALM: names beginning with <c>P</c> are pathologic myopia (label 1); names beginning with
    /// <c>N</c> (normal) or <c>H</c> (high myopia) are not (label 0). Case-insensitive.
    /// </summary>
    public static FileNameLabelRule PathologicMyopia { get; } = new(
        ["non-pathologic", "pathologic myopia"],
        name => name.Length == 0 ? null : char.ToUpperInvariant(name[0]) switch
        {
            'P' => 1,
            'N' or 'H' => 0,
            _ => null,
        });

    /// <summary>Class names by label index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The mapping from file name to label (or <see langword="null"/> when not recognised).</summary>
    public Func<string, int?> LabelOf { get; }
}
