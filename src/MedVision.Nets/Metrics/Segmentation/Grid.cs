namespace MedVision.Nets.Metrics.Segmentation;

/// <summary>The checked shape of a label map stored in C order (last axis fastest), with its strides.</summary>
internal sealed class Grid
{
    private Grid(int[] shape, long[] strides, long count)
    {
        Shape = shape;
        Strides = strides;
        Count = count;
    }

    public int[] Shape { get; }

    public long[] Strides { get; }

    public long Count { get; }

    public int Rank => Shape.Length;

    /// <summary>Checks a shape (1 to 4 positive sizes) against the number of values it describes.</summary>
    public static Grid Of(IReadOnlyList<int> shape, long values, string shapeParameter, string valuesParameter)
    {
        ArgumentNullException.ThrowIfNull(shape, shapeParameter);
        if (shape.Count is < 1 or > 4) throw new ArgumentException($"A label map has 1 to 4 spatial dimensions, got {shape.Count}.", shapeParameter);
        if (shape.Any(s => s < 1)) throw new ArgumentException($"Sizes must be positive, got [{string.Join(", ", shape)}].", shapeParameter);
        long count = 1;
        foreach (var s in shape) count = checked(count * s);
        if (count != values)
            throw new ArgumentException($"The shape [{string.Join(", ", shape)}] holds {count} voxels, but {values} values were given.", valuesParameter);
        var strides = new long[shape.Count];
        long stride = 1;
        for (int d = shape.Count - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
        return new Grid(shape.ToArray(), strides, count);
    }

    /// <summary>Checks voxel spacings (one positive finite value per axis; null for 1).</summary>
    public double[] SpacingOf(IReadOnlyList<double>? spacing, string parameterName)
    {
        if (spacing is null) return Enumerable.Repeat(1.0, Rank).ToArray();
        if (spacing.Count != Rank) throw new ArgumentException($"Give one spacing per axis ({Rank}), got {spacing.Count}.", parameterName);
        if (spacing.Any(s => !(s > 0) || double.IsInfinity(s))) throw new ArgumentException($"Spacings must be positive finite numbers, got [{string.Join(", ", spacing)}].", parameterName);
        return spacing.ToArray();
    }

    /// <summary>The coordinates of a linear index.</summary>
    public void Coordinates(long index, Span<int> coordinates)
    {
        for (int d = 0; d < Rank; d++)
        {
            coordinates[d] = (int)(index / Strides[d]);
            index %= Strides[d];
        }
    }
}
