using System.Text.RegularExpressions;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// How <see cref="PairedModalityDataset"/> finds files. By default a file named
/// <c>&lt;subject&gt;_&lt;modality&gt;.nii</c> or <c>.nii.gz</c> (e.g. <c>sub-001_mri.nii.gz</c>,
/// <c>sub-001_pet.nii.gz</c>) belongs to subject <c>sub-001</c> and modality <c>mri</c>/<c>pet</c>.
/// </summary>
public sealed class PairedModalityOptions
{
    /// <summary>The default file-name pattern: subject, underscore, modality, <c>.nii</c> or <c>.nii.gz</c>.</summary>
    public const string DefaultPattern = @"^(?<subject>.+)_(?<modality>[A-Za-z0-9]+)\.nii(?:\.gz)?$";

    /// <summary>The modalities to collect (case-insensitive); files of other modalities are ignored. Default: <c>mri</c>, <c>pet</c>.</summary>
    public IReadOnlyList<string> Modalities { get; init => field = value ?? throw new ArgumentNullException(nameof(Modalities)); } = ["mri", "pet"];

    /// <summary>
    /// A regular expression matched against each file name (not the folder); it must define the named groups
    /// <c>subject</c> and <c>modality</c>. Files that do not match are ignored.
    /// </summary>
    public string FileNamePattern { get; init => field = value ?? throw new ArgumentNullException(nameof(FileNamePattern)); } = DefaultPattern;

    /// <summary>Also search sub-folders (default <see langword="false"/>).</summary>
    public bool Recursive { get; init; }

    internal Regex BuildRegex()
    {
        var regex = new Regex(FileNamePattern, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        string[] groups = regex.GetGroupNames();
        if (!groups.Contains("subject") || !groups.Contains("modality"))
        {
            throw new ArgumentException($"The file-name pattern '{FileNamePattern}' must define the named groups 'subject' and 'modality'.");
        }

        return regex;
    }
}
