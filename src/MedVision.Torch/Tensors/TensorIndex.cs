namespace MedVision.Torch;

/// <summary>One entry of a tensor index: an integer, a range (slice), Ellipsis or NewAxis. Converts implicitly from int, long, Index and Range.</summary>
public readonly struct TensorIndex
{
    private TensorIndex(TensorIndexKind kind, long start, long? end, bool startFromEnd, bool endFromEnd, long step)
    {
        Kind = kind;
        Start = start;
        End = end;
        StartFromEnd = startFromEnd;
        EndFromEnd = endFromEnd;
        Step = step;
    }

    /// <summary>The kind of index.</summary>
    public TensorIndexKind Kind { get; }
    /// <summary>The position (Single) or the slice start.</summary>
    public long Start { get; }
    /// <summary>The slice end (exclusive), or null for the end of the dimension.</summary>
    public long? End { get; }
    /// <summary>True when the slice start counts from the end.</summary>
    public bool StartFromEnd { get; }
    /// <summary>True when the slice end counts from the end.</summary>
    public bool EndFromEnd { get; }
    /// <summary>The slice step (positive).</summary>
    public long Step { get; }

    /// <summary>All remaining dimensions.</summary>
    public static TensorIndex Ellipsis { get; } = new(TensorIndexKind.Ellipsis, 0, null, false, false, 1);
    /// <summary>A new dimension of size 1.</summary>
    public static TensorIndex NewAxis { get; } = new(TensorIndexKind.NewAxis, 0, null, false, false, 1);

    /// <summary>A single position (negative counts from the end).</summary>
    public static TensorIndex Single(long index) => new(TensorIndexKind.Single, index, null, false, false, 1);

    /// <summary>A slice start:end:step; null bounds mean the whole dimension, negative bounds count from the end.</summary>
    public static TensorIndex Slice(long? start = null, long? end = null, long step = 1)
    {
        if (step <= 0) throw new ArgumentOutOfRangeException(nameof(step), step, "slice step must be positive");
        return new(TensorIndexKind.Slice, start ?? 0, end, false, false, step);
    }

    /// <summary>Converts an integer position.</summary>
    public static implicit operator TensorIndex(int index) => Single(index);
    /// <summary>Converts an integer position.</summary>
    public static implicit operator TensorIndex(long index) => Single(index);
    /// <summary>Converts an Index (^1 is the last element).</summary>
    public static implicit operator TensorIndex(Index index) => Single(index.IsFromEnd ? -index.Value : index.Value);
    /// <summary>Converts a Range into a slice.</summary>
    public static implicit operator TensorIndex(Range range)
        => new(TensorIndexKind.Slice, range.Start.Value, range.End.IsFromEnd && range.End.Value == 0 ? null : range.End.Value,
               range.Start.IsFromEnd, range.End.IsFromEnd, 1);

    internal (long Start, long End) Resolve(long size)
    {
        // negative bounds of Slice(...) count from the end, as in Python's t[-2:]
        long start = StartFromEnd ? size - Start : Start < 0 ? size + Start : Start;
        long end = End is null ? size : EndFromEnd ? size - End.Value : End.Value < 0 ? size + End.Value : End.Value;
        start = Math.Clamp(start, 0, size);
        end = Math.Clamp(end, start, size);
        return (start, end);
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        TensorIndexKind.Single => Start.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TensorIndexKind.Slice => $"{(StartFromEnd ? "^" : "")}{Start}:{(End is null ? "" : (EndFromEnd ? "^" : "") + End)}:{Step}",
        TensorIndexKind.Ellipsis => "...",
        _ => "None",
    };
}
