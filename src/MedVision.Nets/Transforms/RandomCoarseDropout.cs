namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, blanks out rectangular holes (cutout; MONAI's <c>RandCoarseDropout</c>):
/// from <see cref="Holes"/> to <see cref="MaxHoles"/> holes, each spanning, along every spatial axis, from
/// <see cref="Size"/> to <see cref="MaxSize"/> voxels (clipped to the image) at a random place, in every channel. The
/// holes take <see cref="FillValue"/>, or, when it is <see langword="null"/> (MONAI's default), values drawn uniformly
/// between the image's minimum and maximum. 2-D images and volumes; in place; every call draws the same number of values
/// whether or not it applies (the holes come from a generator seeded by one of them).
/// </summary>
public sealed class RandomCoarseDropout : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="holes">Fewest holes (at least 1).</param>
    /// <param name="size">Smallest extent of a hole along each spatial axis, in voxels (at least 1).</param>
    /// <param name="maxHoles">Most holes (at least <paramref name="holes"/>); <see langword="null"/>: <paramref name="holes"/>.</param>
    /// <param name="maxSize">Largest extent (at least <paramref name="size"/>); <see langword="null"/>: <paramref name="size"/>.</param>
    /// <param name="fillValue">The value of the holes (finite); <see langword="null"/>: uniform noise between the image's minimum and maximum.</param>
    /// <param name="probability">Chance that an image gets holes (0 to 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomCoarseDropout(int holes, int size, int? maxHoles = null, int? maxSize = null, float? fillValue = null, double probability = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(holes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (maxHoles is int mh && mh < holes) throw new ArgumentOutOfRangeException(nameof(maxHoles), mh, $"The most holes must be at least the fewest ({holes}).");
        if (maxSize is int ms && ms < size) throw new ArgumentOutOfRangeException(nameof(maxSize), ms, $"The largest hole must be at least the smallest ({size}).");
        if (fillValue is float f && !float.IsFinite(f)) throw new ArgumentOutOfRangeException(nameof(fillValue), f, "The fill value must be finite.");
        Holes = holes;
        Size = size;
        MaxHoles = maxHoles ?? holes;
        MaxSize = maxSize ?? size;
        FillValue = fillValue;
        Probability = TransformArguments.Probability(probability);
    }

    /// <summary>Fewest holes.</summary>
    public int Holes { get; }

    /// <summary>Most holes.</summary>
    public int MaxHoles { get; }

    /// <summary>Smallest extent of a hole along each spatial axis, in voxels.</summary>
    public int Size { get; }

    /// <summary>Largest extent of a hole along each spatial axis, in voxels.</summary>
    public int MaxSize { get; }

    /// <summary>The value of the holes; <see langword="null"/>: uniform noise between the image's minimum and maximum.</summary>
    public float? FillValue { get; }

    /// <summary>Chance that an image gets holes.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        int holeSeed = random.Next();
        if (!apply) return image;
        var rng = new Random(holeSeed);
        int[] spatial = image.IsVolume ? [image.Depth, image.Height, image.Width] : [1, image.Height, image.Width];
        var (min, max) = FillValue is null ? Data.IntensityWindow.Range(image.Data) : (0f, 0f);
        var data = image.Data;
        int plane = image.PlaneSize, count = rng.Next(Holes, MaxHoles + 1);
        for (int h = 0; h < count; h++)
        {
            // Extent and start along D, H, W (a 2-D image's single "depth" is always covered).
            var start = new int[3];
            var end = new int[3];
            for (int a = 0; a < 3; a++)
            {
                if (a == 0 && !image.IsVolume) { end[0] = 1; continue; }
                int extent = Math.Min(rng.Next(Size, MaxSize + 1), spatial[a]);
                start[a] = rng.Next(spatial[a] - extent + 1);
                end[a] = start[a] + extent;
            }
            for (int c = 0; c < image.Channels; c++)
                for (int z = start[0]; z < end[0]; z++)
                    for (int y = start[1]; y < end[1]; y++)
                    {
                        int row = (c * plane) + (((z * spatial[1]) + y) * spatial[2]);
                        for (int x = start[2]; x < end[2]; x++)
                            data[row + x] = FillValue ?? (float)(min + (rng.NextDouble() * (max - min)));
                    }
        }
        return image;
    }
}
