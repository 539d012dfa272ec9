using System.Text;

namespace MedVision.Torch.Serialization;

/// <summary>
/// Writes files so that readers never see a half-written one: the content goes to a temporary file in the same folder,
/// is flushed to disk, and then replaces the destination. On failure the temporary file is deleted and the destination
/// is left as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/>, creating the folder when it is missing.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteFile(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            write(stream);
            stream.Flush(flushToDisk: true);
        });
    }

    /// <summary>
    /// Lets <paramref name="writeTemporaryFile"/> write the whole content to the temporary file whose path it is
    /// given (for writers that take a path, such as libtorch's), then moves that file over <paramref name="path"/>.
    /// The folder is created when it is missing.
    /// </summary>
    public static void WriteFile(string path, Action<string> writeTemporaryFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(writeTemporaryFile);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            writeTemporaryFile(temp);
            if (!File.Exists(temp)) throw new IOException($"Nothing was written for '{fullPath}'.");
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes UTF-8 text (without a byte-order mark).</summary>
    public static void WriteAllText(string path, string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        Write(path, s => s.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(contents)));
    }

    /// <summary>Deletes a file, ignoring failures (used to clean up after another error).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
