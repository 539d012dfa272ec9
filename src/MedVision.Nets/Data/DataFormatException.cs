namespace MedVision.Nets.Data;

/// <summary>
/// Thrown when a data file (NPY/NPZ, NIfTI, JPEG, PNG, CSV, …) is malformed, truncated or inconsistent.
/// The message always names the file and the problem.
/// </summary>
public class DataFormatException : IOException
{
    /// <summary>Creates an exception for <paramref name="filePath"/> describing <paramref name="problem"/>.</summary>
    /// <param name="filePath">The file (or resource name) that holds the bad data.</param>
    /// <param name="problem">A description of what is wrong.</param>
    public DataFormatException(string filePath, string problem)
        : base($"{filePath ?? throw new ArgumentNullException(nameof(filePath))}: {problem ?? throw new ArgumentNullException(nameof(problem))}")
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>Creates an exception for <paramref name="filePath"/> describing <paramref name="problem"/>, with the underlying cause.</summary>
    /// <param name="filePath">The file (or resource name) that holds the bad data.</param>
    /// <param name="problem">A description of what is wrong.</param>
    /// <param name="innerException">The exception that revealed the problem.</param>
    public DataFormatException(string filePath, string problem, Exception? innerException)
        : base($"{filePath ?? throw new ArgumentNullException(nameof(filePath))}: {problem ?? throw new ArgumentNullException(nameof(problem))}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file (or resource name) that holds the bad data.</summary>
    public string FilePath { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }
}
