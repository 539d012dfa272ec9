using MedVision.Torch.Serialization;
using System.IO.Compression;

namespace MedVision.Nets.Data.Npy;

/// <summary>
/// A NumPy <c>.npz</c> archive: a zip file of <c>.npy</c> arrays (stored or deflated), read with
/// <see cref="System.IO.Compression"/>. Arrays are addressed by name without the <c>.npy</c> suffix.
/// </summary>
public sealed class NpzArchive : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries;

    private NpzArchive(ZipArchive zip, string sourceName)
    {
        _zip = zip;
        SourceName = sourceName;
        _entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            string name = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
            _entries[name] = entry;
        }
    }

    /// <summary>The file or resource name used in error messages.</summary>
    public string SourceName { get; }

    /// <summary>The names of the arrays in the archive.</summary>
    public IReadOnlyCollection<string> Names => _entries.Keys;

    /// <summary>Opens an <c>.npz</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The open archive; dispose it when done.</returns>
    /// <exception cref="DataFormatException">The file is not a readable zip archive.</exception>
    public static NpzArchive Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream stream = File.OpenRead(path);
        return Open(stream, path, leaveOpen: false);
    }

    /// <summary>Opens an <c>.npz</c> archive from a seekable stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="sourceName">The file or resource name used in error messages.</param>
    /// <param name="leaveOpen">Whether to leave <paramref name="stream"/> open when the archive is disposed.</param>
    /// <returns>The open archive; dispose it when done.</returns>
    /// <exception cref="DataFormatException">The data is not a readable zip archive.</exception>
    public static NpzArchive Open(Stream stream, string sourceName, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        try
        {
            return new NpzArchive(new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen), sourceName);
        }
        catch (InvalidDataException ex)
        {
            if (!leaveOpen)
            {
                stream.Dispose();
            }

            throw new DataFormatException(sourceName, $"not a readable NPZ (zip) archive — the file is truncated or corrupt ({ex.Message}).", ex);
        }
    }

    /// <summary>Writes arrays to an <c>.npz</c> file atomically (temporary file in the same folder, then rename).</summary>
    /// <param name="path">The destination file.</param>
    /// <param name="arrays">The arrays by name (without <c>.npy</c>).</param>
    /// <param name="compress">Deflate the entries (like <c>numpy.savez_compressed</c>) instead of storing them.</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, NpyArray>> arrays, bool compress = true)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        AtomicFile.Write(path, stream => Write(stream, arrays, compress));
    }

    /// <summary>Writes arrays as an <c>.npz</c> archive to a stream.</summary>
    /// <param name="stream">The destination stream.</param>
    /// <param name="arrays">The arrays by name (without <c>.npy</c>).</param>
    /// <param name="compress">Deflate the entries instead of storing them.</param>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, NpyArray>> arrays, bool compress = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arrays);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach ((string name, NpyArray array) in arrays)
        {
            ZipArchiveEntry entry = zip.CreateEntry(name + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using Stream s = entry.Open();
            NpyFormat.Write(s, array);
        }
    }

    /// <summary>Whether the archive holds an array called <paramref name="name"/>.</summary>
    /// <param name="name">The array name, without <c>.npy</c>.</param>
    /// <returns><see langword="true"/> if present.</returns>
    public bool Contains(string name) => _entries.ContainsKey(name ?? throw new ArgumentNullException(nameof(name)));

    /// <summary>Reads the array called <paramref name="name"/>.</summary>
    /// <param name="name">The array name, without <c>.npy</c>.</param>
    /// <returns>The array.</returns>
    /// <exception cref="DataFormatException">The array is missing, truncated or corrupt.</exception>
    public NpyArray Read(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_entries.TryGetValue(name, out ZipArchiveEntry? entry))
        {
            throw new DataFormatException(SourceName, $"the archive has no array '{name}' (it holds: {string.Join(", ", _entries.Keys.Order(StringComparer.Ordinal))}).");
        }

        string entryName = $"{SourceName}[{entry.FullName}]";
        try
        {
            using Stream s = entry.Open();
            return NpyFormat.Read(s, entryName);
        }
        catch (InvalidDataException ex)
        {
            throw new DataFormatException(entryName, $"compressed data is corrupt ({ex.Message}).", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _zip.Dispose();
}
