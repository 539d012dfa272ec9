using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// A tiny HTTP/1.1 file server on 127.0.0.1 for downloader tests: serves files under <c>/files/</c>, honours
/// <c>Range: bytes=N-</c> when <see cref="SupportsRange"/>, can cut the connection after a number of body bytes,
/// and can serve corrupted bytes.
/// </summary>
public sealed class LocalHttpServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LocalHttpServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseUri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/files/");
        _loop = Task.Run(AcceptLoopAsync);
    }

    public Uri BaseUri { get; }

    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    public bool SupportsRange { get; set; } = true;

    /// <summary>When set, the next response closes the connection after this many body bytes.</summary>
    public int? CutNextResponseAfter { get; set; }

    /// <summary>Answer a range request with the whole body as "206 Partial Content" from byte 0 (a range not asked for).</summary>
    public bool ServeWrongRange { get; set; }

    /// <summary>Flip bytes of every served body.</summary>
    public bool ServeWrongBytes { get; set; }

    /// <summary>The Range header of every request (null when absent), in order.</summary>
    public ConcurrentQueue<string?> RangeHeaders { get; } = new();

    public int RequestCount => RangeHeaders.Count;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                string head = await ReadHeadAsync(stream);
                string[] lines = head.Split("\r\n");
                string path = lines[0].Split(' ')[1];
                string? range = lines.Skip(1).FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?[6..].Trim();
                RangeHeaders.Enqueue(range);

                string name = Uri.UnescapeDataString(path.Split('?')[0]).Replace("/files/", string.Empty);
                if (!path.StartsWith("/files/") || !Files.TryGetValue(name, out byte[]? content))
                {
                    await WriteAsync(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }

                if (ServeWrongBytes)
                {
                    content = content.Select((b, i) => i % 101 == 0 ? (byte)~b : b).ToArray();
                }

                long start = 0;
                string status = "200 OK";
                string extra = string.Empty;
                if (range is not null && SupportsRange && Regex.Match(range, @"^bytes=(\d+)-$") is { Success: true } m)
                {
                    start = long.Parse(m.Groups[1].Value);
                    if (start >= content.Length)
                    {
                        await WriteAsync(stream, $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{content.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    }

                    if (ServeWrongRange) start = 0;
                    status = "206 Partial Content";
                    extra = $"Content-Range: bytes {start}-{content.Length - 1}/{content.Length}\r\n";
                }

                long length = content.Length - start;
                await WriteAsync(stream, $"HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n{(SupportsRange ? "Accept-Ranges: bytes\r\n" : string.Empty)}{extra}Connection: close\r\n\r\n");
                int? cut = CutNextResponseAfter;
                CutNextResponseAfter = null;
                int send = (int)(cut is int c ? Math.Min(c, length) : length);
                await stream.WriteAsync(content.AsMemory((int)start, send));
                await stream.FlushAsync();
                // When cut, the connection now closes although Content-Length promised more: the client sees the
                // response end prematurely, as when a transfer is interrupted midway.
            }
            catch (IOException)
            {
            }
            catch (SocketException)
            {
            }
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (!(buffer.Count >= 4 && buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new IOException("client closed");
            }

            buffer.Add(one[0]);
        }

        return Encoding.ASCII.GetString(buffer.ToArray());
    }

    private static Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }
}
