namespace MedVision.Nets.Data;

/// <summary>
/// Thrown when a file's MD5 checksum differs from the expected value. The bad file has already been removed.
/// </summary>
public sealed class ChecksumMismatchException : DataFormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="filePath">The file (or source) whose checksum is wrong.</param>
    /// <param name="expectedMd5">The expected MD5, lower-case hex.</param>
    /// <param name="actualMd5">The MD5 actually computed, lower-case hex.</param>
    public ChecksumMismatchException(string filePath, string expectedMd5, string actualMd5)
        : base(filePath, $"MD5 mismatch: expected {expectedMd5 ?? throw new ArgumentNullException(nameof(expectedMd5))} but the data has {actualMd5 ?? throw new ArgumentNullException(nameof(actualMd5))}; the file was discarded.")
    {
        ExpectedMd5 = expectedMd5;
        ActualMd5 = actualMd5;
    }

    /// <summary>The expected MD5, lower-case hex.</summary>
    public string ExpectedMd5 { get; }

    /// <summary>The MD5 actually computed, lower-case hex.</summary>
    public string ActualMd5 { get; }
}
