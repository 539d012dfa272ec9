using System.Text.Json;
using System.Text.Json.Nodes;

namespace MedVision.Nets.Inference;

/// <summary>
/// What the library's ensemble manifests share (<see cref="EnsemblePredictor.SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>,
/// <see cref="SegmentationModelFile.SaveEnsembleManifest"/>): a JSON object with a <c>format</c> and a
/// <c>format_version</c>, and <c>members</c> whose <c>path</c> is relative to the manifest's folder and whose
/// <c>sha256</c> records the file a choice made on the ensemble was made with. Reading refuses what is not such a file
/// with a <see cref="ModelFormatException"/> naming it; writing is atomic.
/// </summary>
internal static class ManifestFile
{
    /// <summary>
    /// Reads the manifest at <paramref name="path"/> and gives its checked root object to <paramref name="interpret"/>
    /// (with the "is not a valid …" message maker); <paramref name="noun"/> names the kind ("ensemble manifest").
    /// </summary>
    public static T Read<T>(string path, string noun, string format, int newestVersion, Func<JsonObject, Func<string, string>, T> interpret)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The {noun} '{path}' does not exist.", path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path} is not {Article(noun)} {noun}: it is not JSON ({e.Message}).", e);
        }
        string Bad(string what) => $"{path} is not a valid {noun}: {what}.";
        try
        {
            if (root is not JsonObject manifest || manifest["format"]?.GetValueKind() != JsonValueKind.String || (string?)manifest["format"] != format)
                throw new ModelFormatException(Bad($"its \"format\" is not \"{format}\""));
            if (manifest["format_version"] is not JsonValue version || !version.TryGetValue(out int v) || v < 1)
                throw new ModelFormatException(Bad("it has no positive integer \"format_version\""));
            if (v > newestVersion)
                throw new ModelFormatException($"{path} is {Article(noun)} {noun} of format version {v}; this library reads versions up to {newestVersion}. Update MedVision.Nets.");
            return interpret(manifest, Bad);
        }
        catch (ArgumentException e)
        {
            // JsonNode builds objects when they are first read, and an object with a key twice fails then.
            throw new ModelFormatException(Bad($"its JSON cannot be read as a manifest ({e.Message})"), e);
        }
    }

    private static string Article(string noun) => "aeiou".Contains(noun[0]) ? "an" : "a";

    /// <summary>
    /// The members of a manifest read by <see cref="Read"/>: full paths (resolved against the manifest's folder; each
    /// must exist) and recorded SHA-256s (null where none is recorded); <paramref name="member"/> reads what else an
    /// entry holds.
    /// </summary>
    public static (List<string> Paths, string?[] Hashes) Members(JsonObject manifest, string path, Func<string, string> bad, Action<int, JsonObject>? member = null)
    {
        if (manifest["members"] is not JsonArray members || members.Count == 0)
            throw new ModelFormatException(bad("\"members\" is not a non-empty list"));
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var paths = new List<string>();
        var hashes = new string?[members.Count];
        for (int i = 0; i < members.Count; i++)
        {
            if (members[i] is not JsonObject entry || entry["path"] is not JsonValue p || !p.TryGetValue(out string? relative) || string.IsNullOrEmpty(relative))
                throw new ModelFormatException(bad($"member {i} has no \"path\""));
            member?.Invoke(i, entry);
            string? hash = null;
            if (entry["sha256"] is { } h && (h is not JsonValue text || !text.TryGetValue(out hash) || hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower)))
                throw new ModelFormatException(bad($"member {i}'s \"sha256\" is not 64 lower-case hexadecimal digits"));
            hashes[i] = hash;
            var full = Path.GetFullPath(Path.Combine(folder, relative));
            if (!File.Exists(full)) throw new FileNotFoundException($"{path} lists the model file '{relative}' (member {i}), which does not exist at {full}.", full);
            paths.Add(full);
        }
        return (paths, hashes);
    }

    /// <summary>
    /// The members as <see cref="Members"/> reads them, with each entry's <c>"weight"</c> (1 where an entry gives none);
    /// a weight that is not a number is refused here, the rule for weights (<see cref="EnsembleWeights.Check"/>) where
    /// the manifest is loaded.
    /// </summary>
    public static (List<string> Paths, string?[] Hashes, List<double> Weights) WeightedMembers(JsonObject manifest, string path, Func<string, string> bad)
    {
        var weights = new List<double>();
        var (paths, hashes) = Members(manifest, path, bad, (i, member) =>
        {
            double weight = 1;
            if (member["weight"] is { } w && (w is not JsonValue number || !number.TryGetValue(out weight)))
                throw new ModelFormatException(bad($"member {i}'s \"weight\" is not a number"));
            weights.Add(weight);
        });
        return (paths, hashes, weights);
    }

    /// <summary>An exception's message without what .NET appends for developers (" (Parameter 'x')", "Actual value was …").</summary>
    public static string PlainMessage(ArgumentException e)
    {
        var message = e.Message;
        if (e is ArgumentOutOfRangeException { ActualValue: not null } range) message = message.Replace($"{Environment.NewLine}Actual value was {range.ActualValue}.", "", StringComparison.Ordinal);
        if (e.ParamName is { } name) message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        return message.Trim();
    }

    /// <summary>The manifest's <paramref name="key"/> read as a <typeparamref name="T"/> (null when absent).</summary>
    public static T? Section<T>(JsonObject manifest, string key, string what, Func<string, string> bad) where T : class
    {
        if (manifest[key] is not { } node) return null;
        try
        {
            return node.Deserialize<T>() ?? throw new ModelFormatException(bad($"its \"{key}\" is null"));
        }
        catch (Exception e) when (e is JsonException or ArgumentException)   // (a record's constructor refusing a missing value)
        {
            throw new ModelFormatException(bad($"its \"{key}\" is not {what} ({e.Message})"), e);
        }
    }

    /// <summary>
    /// Writes a manifest: <paramref name="format"/>, <paramref name="version"/>, the members (paths relative to the
    /// manifest's folder, with their SHA-256s now; <paramref name="member"/> adds to each entry) and what
    /// <paramref name="sections"/> adds; atomically. <paramref name="hashed"/>: hashes this operation computed already
    /// (<see cref="Sha256Of(string, IDictionary{string, string}?)"/>), reused rather than computed again.
    /// </summary>
    public static void Write(string path, string format, int version, IReadOnlyList<string> modelPaths, Action<int, JsonObject>? member, Action<JsonObject>? sections,
        IDictionary<string, string>? hashed = null)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var manifest = new JsonObject
        {
            ["format"] = format,
            ["format_version"] = version,
            ["members"] = new JsonArray(modelPaths.Select((p, i) =>
            {
                var entry = new JsonObject { ["path"] = Path.GetRelativePath(folder, Path.GetFullPath(p)).Replace(Path.DirectorySeparatorChar, '/') };
                member?.Invoke(i, entry);
                entry["sha256"] = Sha256Of(p, hashed);
                return (JsonNode)entry;
            }).ToArray()),
        };
        sections?.Invoke(manifest);
        Directory.CreateDirectory(folder);
        MedVision.Torch.Serialization.AtomicFile.WriteAllText(path, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Why the member files are not those the manifest was written with ("member 1's model file (…) has changed since
    /// the manifest was written (its SHA-256 differs)"), or null when every recorded hash matches (a member without one
    /// counts as unchanged).
    /// </summary>
    public static string? ChangedMember(IReadOnlyList<string> paths, IReadOnlyList<string?> hashes, IDictionary<string, string>? hashed = null)
    {
        int changed = Enumerable.Range(0, paths.Count).FirstOrDefault(i => i < hashes.Count && hashes[i] is { } hash && hash != Sha256Of(paths[i], hashed), -1);
        return changed < 0 ? null : $"member {changed}'s model file ({paths[changed]}) has changed since the manifest was written (its SHA-256 differs)";
    }

    /// <summary>
    /// Why what was chosen on an ensemble (a calibration, an operating point, post-processing) no longer holds after
    /// an update from the old members, hashes and weights to the new members and weights: a member file changed since
    /// the manifest was written, or the members or weights changed; null when it still holds.
    /// </summary>
    public static string? Invalidation(IReadOnlyList<string> oldPaths, IReadOnlyList<string?> oldHashes, IReadOnlyList<double>? oldWeights, IReadOnlyList<string> newPaths, IReadOnlyList<double>? newWeights,
        IDictionary<string, string>? hashed = null) =>
        ChangedMember(oldPaths, oldHashes, hashed)
        ?? (newPaths.Select(Path.GetFullPath).SequenceEqual(oldPaths, StringComparer.Ordinal) && EnsembleWeights.Same(newWeights, oldWeights, oldPaths.Count)
            ? null : "the ensemble's members or weights have changed");

    /// <summary>A file's SHA-256, lower-case hex.</summary>
    public static string Sha256Of(string path) => Sha256Of(path, null);

    /// <summary>
    /// A file's SHA-256, taken from <paramref name="hashed"/> when this operation hashed the file already (by full
    /// path), else computed and added: an update reads the member files once to check them and once more to record
    /// them otherwise (model files of tens of megabytes).
    /// </summary>
    public static string Sha256Of(string path, IDictionary<string, string>? hashed)
    {
        var full = Path.GetFullPath(path);
        if (hashed is not null && hashed.TryGetValue(full, out var known)) return known;
        using var stream = File.OpenRead(path);
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
        t_filesHashed++;
        if (hashed is not null) hashed[full] = hash;
        return hash;
    }

    [ThreadStatic] private static long t_filesHashed;

    /// <summary>How many files this thread has hashed (for tests of the reuse above).</summary>
    internal static long FilesHashed => t_filesHashed;

    /// <summary>
    /// The model files as a list: at least one, none null or empty, none twice (by full path; <paramref name="twice"/>
    /// ends the message that says so).
    /// </summary>
    public static List<string> CheckPaths(IEnumerable<string> paths, string parameter, string twice)
    {
        ArgumentNullException.ThrowIfNull(paths, parameter);
        var list = paths.ToList();
        if (list.Count == 0) throw new ArgumentException("Give at least one model file.", parameter);
        for (int i = 0; i < list.Count; i++)
        {
            if (string.IsNullOrEmpty(list[i])) throw new ArgumentException($"Model file {i} of {list.Count} is null or empty.", parameter);
            int first = list.FindIndex(p => string.Equals(Path.GetFullPath(p), Path.GetFullPath(list[i]), StringComparison.Ordinal));
            if (first != i) throw new ArgumentException($"'{list[i]}' is listed twice (members {first} and {i}); {twice}", parameter);
        }
        return list;
    }
}
