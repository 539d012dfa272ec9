namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// Subjects with several imaging modalities (e.g. MRI and PET) found in a folder by file naming
/// (see <see cref="PairedModalityOptions"/>). A modality may be missing for some subjects.
/// </summary>
public sealed class PairedModalityDataset
{
    private PairedModalityDataset(string folder, IReadOnlyList<string> modalities, IReadOnlyList<PairedSubject> subjects)
    {
        Folder = folder;
        Modalities = modalities;
        Subjects = subjects;
    }

    /// <summary>The folder that was scanned.</summary>
    public string Folder { get; }

    /// <summary>The modalities collected, lower case.</summary>
    public IReadOnlyList<string> Modalities { get; }

    /// <summary>Subjects that have at least one of the modalities, ordered by identifier (ordinal).</summary>
    public IReadOnlyList<PairedSubject> Subjects { get; }

    /// <summary>Scans <paramref name="folder"/> for NIfTI files named by the convention in <paramref name="options"/>.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="options">Naming convention and modalities; <see langword="null"/> for <c>&lt;subject&gt;_mri|pet.nii[.gz]</c>.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="DataFormatException">Two files claim the same subject and modality.</exception>
    public static PairedModalityDataset Scan(string folder, PairedModalityOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new PairedModalityOptions();
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{folder}: the folder does not exist.");
        }

        if (options.Modalities.Count == 0)
        {
            throw new ArgumentException("At least one modality is needed.", nameof(options));
        }

        var regex = options.BuildRegex();
        var wanted = new HashSet<string>(options.Modalities.Select(m => m.ToLowerInvariant()));
        var bySubject = new SortedDictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        SearchOption search = options.Recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly;
        foreach (string file in Directory.EnumerateFiles(folder, "*", search).Order(StringComparer.Ordinal))
        {
            var match = regex.Match(Path.GetFileName(file));
            if (!match.Success)
            {
                continue;
            }

            string modality = match.Groups["modality"].Value.ToLowerInvariant();
            if (!wanted.Contains(modality))
            {
                continue;
            }

            string subject = match.Groups["subject"].Value;
            if (!bySubject.TryGetValue(subject, out Dictionary<string, string>? paths))
            {
                paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                bySubject[subject] = paths;
            }

            if (paths.TryGetValue(modality, out string? existing))
            {
                throw new DataFormatException(file, $"subject '{subject}' already has a {modality} file ('{existing}'); each subject may have one file per modality.");
            }

            paths[modality] = file;
        }

        PairedSubject[] subjects = bySubject.Select(kv => new PairedSubject(kv.Key, kv.Value)).ToArray();
        return new PairedModalityDataset(folder, wanted.Order(StringComparer.Ordinal).ToArray(), subjects);
    }

    /// <summary>The subjects that have every one of <paramref name="modalities"/>.</summary>
    /// <param name="modalities">Modality names (case-insensitive).</param>
    /// <returns>The complete subjects, in identifier order.</returns>
    public IReadOnlyList<PairedSubject> WithAll(params string[] modalities) =>
        Subjects.Where(s => modalities.All(s.Has)).ToArray();
}
