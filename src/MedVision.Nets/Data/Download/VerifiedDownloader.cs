using System.Net;
using System.Net.Http.Headers;

namespace MedVision.Nets.Data.Download;

/// <summary>
/// Downloads a file over HTTP(S) or copies it from a <c>file://</c> source into a destination path, verifying its
/// MD5 or SHA-256 (<see cref="FileChecksum"/>). Data is written to <c>&lt;destination&gt;.partial</c> in the destination folder and renamed to the destination
/// only after verification, so the destination is never half-written. An interrupted transfer leaves the
/// <c>.partial</c> file, and the next call resumes it with an HTTP <c>Range</c> request; when the server ignores
/// ranges, or the resumed file fails verification, the download restarts from the beginning.
/// </summary>
public sealed class VerifiedDownloader
{
    /// <summary>The suffix of the temporary file that receives data before verification.</summary>
    public const string PartialSuffix = ".partial";

    private const int BufferSize = 1 << 16;
    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = Timeout.InfiniteTimeSpan });
    private readonly HttpClient _http;

    /// <summary>Creates a downloader.</summary>
    /// <param name="httpClient">The client to use; <see langword="null"/> for a shared client without a timeout (use the cancellation token).</param>
    public VerifiedDownloader(HttpClient? httpClient = null)
    {
        _http = httpClient ?? SharedClient.Value;
    }

    /// <summary>Downloads <paramref name="source"/> to <paramref name="destinationPath"/>, verifying <paramref name="expectedMd5"/>.</summary>
    /// <param name="source">An <c>http</c>, <c>https</c> or <c>file</c> address.</param>
    /// <param name="destinationPath">The final file; its folder is created when missing.</param>
    /// <param name="expectedMd5">
    /// The expected MD5 (32 hexadecimal characters), or <see langword="null"/> to skip verification — only when the
    /// caller has explicitly chosen to accept an unverified file.
    /// </param>
    /// <param name="progress">Receives bytes received and total size; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the transfer; the <c>.partial</c> file is kept for resuming.</param>
    /// <returns>A task that completes when the verified file is in place.</returns>
    /// <exception cref="ChecksumMismatchException">The downloaded data has a different MD5; nothing is left behind.</exception>
    /// <exception cref="HttpRequestException">The server refused the request.</exception>
    /// <exception cref="IOException">The transfer was interrupted; call again to resume.</exception>
    public Task DownloadAsync(Uri source, string destinationPath, string? expectedMd5, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        // Bad arguments throw here, when the call is made, not from the returned task.
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        if (!source.IsAbsoluteUri || source.Scheme is not ("http" or "https" or "file"))
        {
            throw new ArgumentException($"'{source}' is not an absolute http, https or file address.", nameof(source));
        }

        var checksum = expectedMd5 is null ? null : FileChecksum.Md5(Md5.Normalize(expectedMd5, nameof(expectedMd5)));
        return DownloadCoreAsync(source, Path.GetFullPath(destinationPath), checksum, progress, cancellationToken);
    }

    /// <summary>
    /// Downloads <paramref name="source"/> to <paramref name="destinationPath"/>, verifying <paramref name="checksum"/>
    /// (MD5, SHA-256, or a SHA-256 prefix such as torchvision's file names carry).
    /// </summary>
    /// <exception cref="ChecksumMismatchException">The downloaded data has another hash; nothing is left behind.</exception>
    /// <exception cref="HttpRequestException">The server refused the request.</exception>
    /// <exception cref="IOException">The transfer was interrupted; call again to resume.</exception>
    public Task DownloadAndVerifyAsync(Uri source, string destinationPath, FileChecksum checksum, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        ArgumentNullException.ThrowIfNull(checksum);
        if (!source.IsAbsoluteUri || source.Scheme is not ("http" or "https" or "file"))
        {
            throw new ArgumentException($"'{source}' is not an absolute http, https or file address.", nameof(source));
        }

        return DownloadCoreAsync(source, Path.GetFullPath(destinationPath), checksum, progress, cancellationToken);
    }

    private async Task DownloadCoreAsync(Uri source, string destination, FileChecksum? checksum, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        string partial = destination + PartialSuffix;

        for (int attempt = 0; ; attempt++)
        {
            long existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            bool resumed = source.IsFile
                ? await CopyFileAsync(source, partial, existing, progress, cancellationToken).ConfigureAwait(false)
                : await FetchHttpAsync(source, partial, existing, progress, cancellationToken).ConfigureAwait(false);

            if (checksum is not null)
            {
                string actual = await checksum.ComputeAsync(partial, cancellationToken).ConfigureAwait(false);
                if (!checksum.Matches(actual))
                {
                    File.Delete(partial);
                    if (resumed && attempt == 0)
                    {
                        continue; // The kept partial data was bad: start again from the beginning.
                    }

                    throw new ChecksumMismatchException($"{source} -> {destination}", checksum.Algorithm, checksum.Expected, actual);
                }
            }

            File.Move(partial, destination, overwrite: true);
            return;
        }
    }

    private static async Task<bool> CopyFileAsync(Uri source, string partial, long existing, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        string path = source.LocalPath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{source}: the source file does not exist.", path);
        }

        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        long total = input.Length;
        bool resume = existing > 0 && existing <= total;
        if (resume)
        {
            input.Seek(existing, SeekOrigin.Begin);
        }

        await using var output = new FileStream(partial, resume ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        try
        {
            await CopyAsync(input, output, resume ? existing : 0, total, progress, ct).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new IOException($"{source}: the copy was interrupted ({ex.Message}); call again to resume.", ex);
        }

        return resume;
    }

    private static async Task CopyAsync(Stream input, FileStream output, long start, long? total, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var buffer = new byte[BufferSize];
        long received = start;
        progress?.Report(new DownloadProgress(received, total));
        int n;
        while ((n = await input.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            received += n;
            progress?.Report(new DownloadProgress(received, total));
        }

        await output.FlushAsync(ct).ConfigureAwait(false);
        if (total is long t && received < t)
        {
            throw new IOException($"only {received} of {t} bytes arrived");
        }
    }

    private async Task<bool> FetchHttpAsync(Uri source, string partial, long existing, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, source);
        if (existing > 0)
        {
            request.Headers.Range = new RangeHeaderValue(existing, null);
        }

        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (existing > 0 && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The partial file is already as long as (or longer than) the source: let verification decide.
            return true;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{source}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        }

        bool resume = existing > 0
            && response.StatusCode == HttpStatusCode.PartialContent
            && response.Content.Headers.ContentRange is { From: long from } && from == existing;
        if (response.StatusCode == HttpStatusCode.PartialContent && !resume)
        {
            // A range we did not ask for: discard what we have and start again without a range.
            File.Delete(partial);
            return await FetchHttpAsync(source, partial, 0, progress, ct).ConfigureAwait(false);
        }

        long? total = resume
            ? response.Content.Headers.ContentRange!.Length ?? (response.Content.Headers.ContentLength + existing)
            : response.Content.Headers.ContentLength;
        await using Stream body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using var output = new FileStream(partial, resume ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        try
        {
            await CopyAsync(body, output, resume ? existing : 0, total, progress, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new IOException($"{source}: the transfer was interrupted ({ex.Message}); call again to resume.", ex);
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw new IOException($"{source}: the transfer was interrupted ({ex.Message}); call again to resume.", ex);
        }

        return resume;
    }
}
