namespace MedVision.Nets.Data.Download;

/// <summary>Progress of a download, reported through <see cref="IProgress{T}"/>.</summary>
/// <param name="BytesReceived">Bytes of the file held so far, including any resumed part.</param>
/// <param name="TotalBytes">The file's total size, when the server reports it.</param>
public readonly record struct DownloadProgress(long BytesReceived, long? TotalBytes);
