namespace MedVision.Torch.TensorBoard;

/// <summary>An event file that is not a TensorBoard event file, or is damaged: names the file and the byte offset.</summary>
public sealed class TensorBoardFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TensorBoardFormatException(string path, long offset, string problem)
        : base($"{path ?? throw new ArgumentNullException(nameof(path))}: not a readable TensorBoard event file at byte {offset}: {problem ?? throw new ArgumentNullException(nameof(problem))}")
    {
        Path = path;
        Offset = offset;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Where in the file the problem is.</summary>
    public long Offset { get; }
}
