using System.Security.Cryptography;

namespace MedVision.Nets.Data;

/// <summary>MD5 helpers used to verify downloaded and embedded data files.</summary>
public static class Md5
{
    /// <summary>Computes the MD5 of a file as lower-case hexadecimal.</summary>
    /// <param name="path">The file to hash.</param>
    /// <returns>32 lower-case hexadecimal characters.</returns>
    public static string OfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return OfStream(stream);
    }

    /// <summary>Computes the MD5 of the rest of a stream as lower-case hexadecimal.</summary>
    /// <param name="stream">The stream to hash from its current position.</param>
    /// <returns>32 lower-case hexadecimal characters.</returns>
    public static string OfStream(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Convert.ToHexString(MD5.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>Computes the MD5 of a file asynchronously as lower-case hexadecimal.</summary>
    /// <param name="path">The file to hash.</param>
    /// <param name="cancellationToken">Cancels the computation.</param>
    /// <returns>32 lower-case hexadecimal characters.</returns>
    public static Task<string> OfFileAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path); // here, not from the returned task
        return HashFileAsync(path, MD5.HashDataAsync, cancellationToken);
    }

    /// <summary>Hashes a file asynchronously with <paramref name="hash"/> (MD5, SHA-256) and returns lower-case hexadecimal.</summary>
    internal static async Task<string> HashFileAsync(string path, Func<Stream, CancellationToken, ValueTask<byte[]>> hash, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous);
        byte[] digest = await hash(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexString(digest).ToLowerInvariant();
    }

    /// <summary>Checks that <paramref name="md5"/> is 32 hexadecimal characters and returns it in lower case.</summary>
    /// <param name="md5">The checksum to normalise.</param>
    /// <param name="parameterName">The parameter name used in the exception.</param>
    /// <returns>The checksum in lower case.</returns>
    /// <exception cref="ArgumentException">The value is not a 32-character hexadecimal string.</exception>
    public static string Normalize(string md5, string parameterName = "md5")
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        ArgumentNullException.ThrowIfNull(md5, parameterName);
        string trimmed = md5.Trim();
        if (trimmed.Length != 32 || !trimmed.All(Uri.IsHexDigit))
        {
            throw new ArgumentException($"'{md5}' is not an MD5 checksum (32 hexadecimal characters).", parameterName);
        }

        return trimmed.ToLowerInvariant();
    }
}
