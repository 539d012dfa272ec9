namespace MedVision.Nets.Data;

/// <summary>
/// Thrown when a file's checksum (MD5 or SHA-256) differs from the expected value. The bad file has already been removed.
/// </summary>
public sealed class ChecksumMismatchException : DataFormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The file (or source) whose checksum is wrong.</param>
    /// <param name="expectedMd5">The expected MD5, lower-case hex.</param>
    /// <param name="actualMd5">The MD5 actually computed, lower-case hex.</param>
    public ChecksumMismatchException(string filePath, string expectedMd5, string actualMd5)
        : this(filePath, "MD5", expectedMd5 ?? throw new ArgumentNullException(nameof(expectedMd5)), actualMd5 ?? throw new ArgumentNullException(nameof(actualMd5)))
    {
    }

    /// <summary>Creates the exception for a checksum of any algorithm.</summary>
    /// <param name="filePath">The file (or source) whose checksum is wrong.</param>
    /// <param name="algorithm">"MD5" or "SHA-256".</param>
    /// <param name="expected">The expected hash (or its leading digits), lower-case hex.</param>
    /// <param name="actual">The hash actually computed, lower-case hex.</param>
    public ChecksumMismatchException(string filePath, string algorithm, string expected, string actual)
        : base(filePath, $"{algorithm ?? throw new ArgumentNullException(nameof(algorithm))} mismatch: expected {expected ?? throw new ArgumentNullException(nameof(expected))} but the data has {actual ?? throw new ArgumentNullException(nameof(actual))}; the file was discarded.")
    {
        Algorithm = algorithm;
        ExpectedMd5 = expected;
        ActualMd5 = actual;
    }

    /// <summary>The checksum's algorithm: "MD5" or "SHA-256".</summary>
    public string Algorithm { get; }

    /// <summary>The expected hash, lower-case hex (an MD5 for MedMNIST's files; see <see cref="Algorithm"/>).</summary>
    public string ExpectedMd5 { get; }

    /// <summary>The hash actually computed, lower-case hex (see <see cref="Algorithm"/>).</summary>
    public string ActualMd5 { get; }
}
