namespace MedVision.Nets.Transforms;

/// <summary>
/// Brings a 2-D image to (height, width) or a volume to (depth, height, width) without resampling (MONAI's
/// <c>ResizeWithPadOrCrop</c>): every spatial axis longer than the size is cropped at its centre (starting at
/// in / 2 − out / 2 in integer division, as MONAI's <c>CenterSpatialCrop</c>; <see cref="Crop"/> rounds torchvision's
/// way instead), every shorter one padded on both sides (half the difference, rounded down, before). MONAI pads with 0;
/// this pads with each channel's minimum by default (0 after a min–max scaling; air, not water, in CT), or a given value. Unlike <see cref="Resize"/> it keeps the physical scale — after
/// <see cref="Data.Nifti.NiftiImage.Resample"/> to a voxel size, one voxel stays that many millimetres — at the price of
/// cutting off what lies outside the field of view.
/// </summary>
public sealed class ResizeWithPadOrCrop : ITransform
{
    /// <summary>Creates the transform for 2-D images.</summary>
    /// <param name="height">Output height, at least 1.</param>
    /// <param name="width">Output width, at least 1.</param>
    /// <param name="padValue">The value of padded pixels; <see langword="null"/>: each channel's minimum (its background, e.g. air in CT, where zero would be water).</param>
    public ResizeWithPadOrCrop(int height, int width, float? padValue = null) : this(0, height, width, padValue)
    {
    }

    /// <summary>Creates the transform for volumes (depth ≥ 1); depth 0: for 2-D images.</summary>
    /// <param name="depth">Output depth (volumes), or 0 for 2-D images.</param>
    /// <param name="height">Output height, at least 1.</param>
    /// <param name="width">Output width, at least 1.</param>
    /// <param name="padValue">The value of padded voxels; <see langword="null"/>: each channel's minimum (its background, e.g. air in CT, where zero would be water).</param>
    public ResizeWithPadOrCrop(int depth, int height, int width, float? padValue = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (padValue is { } v && !float.IsFinite(v)) throw new ArgumentOutOfRangeException(nameof(padValue), v, "The pad value must be finite.");
        Depth = depth;
        Height = height;
        Width = width;
        PadValue = padValue;
    }

    /// <summary>Output depth for volumes; 0 for 2-D images.</summary>
    public int Depth { get; }

    /// <summary>Output height.</summary>
    public int Height { get; }

    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <summary>The value of padded voxels; <see langword="null"/>: each channel's minimum.</summary>
    public float? PadValue { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool volume = Depth > 0;
        if (image.IsVolume != volume)
            throw new ArgumentException(volume
                ? $"A {Depth}×{Height}×{Width} pad-or-crop works on volumes (C, D, H, W), not on a 2-D image of shape [{string.Join(", ", image.Shape)}]."
                : $"A {Height}×{Width} pad-or-crop works on 2-D images (C, H, W); give a volume a (depth, height, width) size.");
        int depth = volume ? Depth : 1;
        long oz = Offset(image.Depth, depth), oy = Offset(image.Height, Height), ox = Offset(image.Width, Width);
        int c = image.Channels;
        var shape = volume ? new[] { c, depth, Height, Width } : new[] { c, Height, Width };
        var dst = FloatImage.Allocate("ResizeWithPadOrCrop", shape);
        long plane = (long)depth * Height * Width, source = image.PlaneSize;
        for (int ch = 0; ch < c; ch++)
        {
            float fill = PadValue ?? Minimum(image.Data.AsSpan().Slice((int)(ch * source), (int)source));
            for (int z = 0; z < depth; z++)
            {
                long sz = z + oz;
                for (int y = 0; y < Height; y++)
                {
                    long sy = y + oy;
                    long at = (ch * plane) + (((long)z * Height + y) * Width);
                    bool row = sz >= 0 && sz < image.Depth && sy >= 0 && sy < image.Height;
                    for (int x = 0; x < Width; x++)
                    {
                        long sx = x + ox;
                        dst[at + x] = row && sx >= 0 && sx < image.Width
                            ? image.Data[(ch * source) + ((sz * image.Height + sy) * image.Width) + sx]
                            : fill;
                    }
                }
            }
        }

        return new FloatImage(dst, shape);
    }

    /// <summary>
    /// The input index of output index 0 along an axis of <paramref name="input"/> voxels brought to
    /// <paramref name="output"/>: the crop start input / 2 − output / 2 (MONAI's <c>CenterSpatialCrop</c>), or minus the
    /// padding before, (output − input) / 2 (its symmetric <c>SpatialPad</c>), in integer division.
    /// </summary>
    internal static long Offset(int input, int output) => input >= output ? (input / 2) - (output / 2) : -((output - input) / 2);

    private static float Minimum(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity;
        foreach (var v in values)
            if (v < min) min = v;
        return float.IsFinite(min) ? min : 0f;
    }
}
