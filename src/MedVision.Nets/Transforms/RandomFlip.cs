namespace MedVision.Nets.Transforms;

/// <summary>Flips along one spatial axis with probability p: width (horizontal), height (vertical) or depth (3-D).</summary>
public sealed class RandomFlip : ITransform
{
    /// <summary>Creates the transform.</summary>
    public RandomFlip(SpatialAxis axis, double probability = 0.5)
    {
        Probability = TransformArguments.Probability(probability);
        if (!Enum.IsDefined(axis)) throw new ArgumentOutOfRangeException(nameof(axis), axis, $"{axis} is not a SpatialAxis.");
        Axis = axis;
    }

    /// <summary>The flipped axis.</summary>
    public SpatialAxis Axis { get; }
    /// <summary>Probability of flipping.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (random.NextDouble() >= Probability) return image;
        if (Axis == SpatialAxis.Depth && !image.IsVolume) throw new ArgumentException("A depth flip needs a (C, D, H, W) volume.");
        int c = image.Channels, dd = image.Depth, h = image.Height, w = image.Width;
        var src = image.Data;
        var dst = new float[src.Length];
        for (int ch = 0; ch < c; ch++)
            for (int z = 0; z < dd; z++)
                for (int y = 0; y < h; y++)
                {
                    int sz = Axis == SpatialAxis.Depth ? dd - 1 - z : z;
                    int sy = Axis == SpatialAxis.Height ? h - 1 - y : y;
                    int rowDst = ((ch * dd + z) * h + y) * w;
                    int rowSrc = ((ch * dd + sz) * h + sy) * w;
                    if (Axis == SpatialAxis.Width)
                        for (int x = 0; x < w; x++) dst[rowDst + x] = src[rowSrc + w - 1 - x];
                    else
                        Array.Copy(src, rowSrc, dst, rowDst, w);
                }
        return new FloatImage(dst, image.Shape);
    }
}
