using System.Security.Cryptography;

namespace MedVision.Nets.Data.Download;

/// <summary>The checksum a downloaded file must have: an MD5 (MedMNIST's files) or a SHA-256 or a prefix of one.</summary>
public sealed class FileChecksum
{
    private FileChecksum(string algorithm, string expected, Func<Stream, CancellationToken, ValueTask<byte[]>> hash)
    {
        Algorithm = algorithm;
        Expected = expected;
        _hash = hash;
    }

    private readonly Func<Stream, CancellationToken, ValueTask<byte[]>> _hash;

    /// <summary>"MD5" or "SHA-256".</summary>
    public string Algorithm { get; }

    /// <summary>The expected hash (or its leading hex digits), lower-case hexadecimal.</summary>
    public string Expected { get; }

    /// <summary>An MD5 of 32 hexadecimal characters.</summary>
    /// <exception cref="ArgumentException">The value is not 32 hexadecimal characters.</exception>
    public static FileChecksum Md5(string md5) => new("MD5", Data.Md5.Normalize(md5, nameof(md5)), MD5.HashDataAsync);

    /// <summary>
    /// A SHA-256 (64 hexadecimal characters) or its first digits — at least 8, as torchvision's weight files carry in
    /// their names (<c>resnet18-f37072fd.pth</c>) and <c>torch.hub</c> checks.
    /// </summary>
    /// <exception cref="ArgumentException">The value is not 8 to 64 hexadecimal characters.</exception>
    public static FileChecksum Sha256(string hexOrPrefix)
    {
        ArgumentNullException.ThrowIfNull(hexOrPrefix);
        var trimmed = hexOrPrefix.Trim();
        if (trimmed.Length is < 8 or > 64 || !trimmed.All(Uri.IsHexDigit))
            throw new ArgumentException($"'{hexOrPrefix}' is not a SHA-256 checksum or prefix (8 to 64 hexadecimal characters).", nameof(hexOrPrefix));
        return new("SHA-256", trimmed.ToLowerInvariant(), SHA256.HashDataAsync);
    }

    /// <summary>The file's hash in lower-case hexadecimal.</summary>
    public Task<string> ComputeAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path); // here, not from the returned task
        return Data.Md5.HashFileAsync(path, _hash, cancellationToken);
    }

    /// <summary>Whether <paramref name="actual"/> (a full hash in hexadecimal) is the expected one (starts with the expected prefix).</summary>
    public bool Matches(string actual) => actual is not null && actual.StartsWith(Expected, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override string ToString() => $"{Algorithm} {Expected}";
}
