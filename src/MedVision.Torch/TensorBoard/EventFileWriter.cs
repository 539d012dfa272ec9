using System.Buffers.Binary;
using MedVision.Protobuf;

namespace MedVision.Torch.TensorBoard;

/// <summary>
/// One TensorBoard event file: TFRecord framing (length, masked CRC-32C of the length, the serialised
/// <c>tensorflow.Event</c>, masked CRC-32C of it) around each event, a first event naming the format
/// ("brain.Event:2"), appended to as the run goes. A reader that meets a record cut short at the end (a writer that
/// stopped mid-way) sees every complete event before it.
/// </summary>
internal sealed class EventFileWriter : IDisposable
{
    private static int _uid;
    private readonly FileStream _stream;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _flushInterval;
    private long _lastFlush;

    public string Path { get; }

    public EventFileWriter(string directory, SummaryWriterOptions options)
    {
        _clock = options.TimeProvider;
        _flushInterval = options.FlushInterval;
        Directory.CreateDirectory(directory);
        var seconds = _clock.GetUtcNow().ToUnixTimeSeconds();
        var name = $"events.out.tfevents.{seconds:D10}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref _uid)}{options.FileNameSuffix}";
        Path = System.IO.Path.Combine(directory, name);
        _stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
        _lastFlush = _clock.GetTimestamp();
        Write(Now(), null, e => e.String(3, "brain.Event:2"));
        Flush();
    }

    /// <summary>Seconds since the Unix epoch by this writer's clock.</summary>
    public double Now() => (_clock.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    /// <summary>Appends one event: its wall time, step (left out when null or 0, as proto3 leaves defaults out) and content.</summary>
    public void Write(double wallTime, long? step, Action<ProtoWriter> content)
    {
        var e = new ProtoWriter();
        if (BitConverter.DoubleToInt64Bits(wallTime) != 0) e.Double(1, wallTime);
        if (step is long s && s != 0) e.Int64(2, s);
        content(e);
        var data = e.ToArray();

        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(data));
        _stream.Write(header);
        _stream.Write(data);
        _stream.Write(footer);
        if (_clock.GetElapsedTime(_lastFlush) >= _flushInterval) Flush();
    }

    public void Flush()
    {
        _stream.Flush();
        _lastFlush = _clock.GetTimestamp();
    }

    public void Dispose() => _stream.Dispose();
}
