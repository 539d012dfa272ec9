namespace MedVision.Nets.Data.Nifti;

/// <summary>One subject of a <see cref="PairedModalityDataset"/>: its identifier and the file of each modality it has.</summary>
public sealed class PairedSubject
{
    private readonly Dictionary<string, string> _paths;

    internal PairedSubject(string subjectId, Dictionary<string, string> paths)
    {
        SubjectId = subjectId;
        _paths = paths;
    }

    /// <summary>The subject identifier, e.g. <c>sub-001</c>.</summary>
    public string SubjectId { get; }

    /// <summary>The modalities present for this subject, with their files.</summary>
    public IReadOnlyDictionary<string, string> Paths => _paths;

    /// <summary>Whether the subject has a file for <paramref name="modality"/> (case-insensitive).</summary>
    /// <param name="modality">A modality name, e.g. <c>mri</c>.</param>
    /// <returns><see langword="true"/> if present.</returns>
    public bool Has(string modality) => _paths.ContainsKey(modality);

    /// <summary>The file of <paramref name="modality"/>, or <see langword="null"/> when it is missing for this subject.</summary>
    /// <param name="modality">A modality name.</param>
    /// <returns>The path, or <see langword="null"/>.</returns>
    public string? GetPath(string modality) => _paths.TryGetValue(modality, out string? p) ? p : null;

    /// <summary>Reads the volume of <paramref name="modality"/>, or returns <see langword="null"/> when it is missing.</summary>
    /// <param name="modality">A modality name.</param>
    /// <returns>The volume, or <see langword="null"/>.</returns>
    /// <exception cref="DataFormatException">The file exists but is not a valid NIfTI-1 volume.</exception>
    public NiftiImage? Load(string modality) => GetPath(modality) is { } p ? NiftiReader.Read(p) : null;
}
