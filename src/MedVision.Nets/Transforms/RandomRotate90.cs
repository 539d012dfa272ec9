namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, rotates one plane of an image or volume by k quarter turns, k drawn from 1
/// to <see cref="MaxTurns"/> (MONAI's <c>RandRotate90</c>, probability 0.1 and up to 3 turns by default), in NumPy's sense
/// of <c>rot90(image, k, axes=(from, towards))</c>: from <see cref="FromAxis"/> towards <see cref="TowardsAxis"/>. The
/// default plane is (H, W): a 2-D image, or every slice of a volume, turns in its own plane. MONAI's default plane is
/// the first two spatial axes of its layout, which for a volume read as (C, D, H, W) here is (D, H): pass
/// <see cref="SpatialAxis.Depth"/> and <see cref="SpatialAxis.Height"/> for that. A turn by an odd k swaps the two axes,
/// so images whose plane is not square change shape. Exact: no interpolation. Every call draws the same values whether
/// or not it applies.
/// </summary>
public sealed class RandomRotate90 : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance that an image is rotated (0 to 1).</param>
    /// <param name="maxTurns">Most quarter turns (1 to 3).</param>
    /// <param name="fromAxis">The axis the rotation turns away from (NumPy's <c>axes[0]</c>); height by default.</param>
    /// <param name="towardsAxis">The axis it turns towards (NumPy's <c>axes[1]</c>); width by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range, or an axis is not a <see cref="SpatialAxis"/>.</exception>
    /// <exception cref="ArgumentException">The two axes are the same.</exception>
    public RandomRotate90(double probability = 0.1, int maxTurns = 3, SpatialAxis fromAxis = SpatialAxis.Height, SpatialAxis towardsAxis = SpatialAxis.Width)
    {
        Probability = TransformArguments.Probability(probability);
        if (maxTurns is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(maxTurns), maxTurns, "The most quarter turns must be 1, 2 or 3.");
        if (!Enum.IsDefined(fromAxis)) throw new ArgumentOutOfRangeException(nameof(fromAxis), fromAxis, $"{fromAxis} is not a SpatialAxis.");
        if (!Enum.IsDefined(towardsAxis)) throw new ArgumentOutOfRangeException(nameof(towardsAxis), towardsAxis, $"{towardsAxis} is not a SpatialAxis.");
        if (fromAxis == towardsAxis) throw new ArgumentException($"A rotation plane needs two different axes; both are {fromAxis}.", nameof(towardsAxis));
        MaxTurns = maxTurns;
        FromAxis = fromAxis;
        TowardsAxis = towardsAxis;
    }

    /// <summary>Chance that an image is rotated.</summary>
    public double Probability { get; }

    /// <summary>Most quarter turns.</summary>
    public int MaxTurns { get; }

    /// <summary>The axis a quarter turn moves away from.</summary>
    public SpatialAxis FromAxis { get; }

    /// <summary>The axis a quarter turn moves towards.</summary>
    public SpatialAxis TowardsAxis { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The plane includes the depth axis and the image is 2-D.</exception>
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (!image.IsVolume && (FromAxis == SpatialAxis.Depth || TowardsAxis == SpatialAxis.Depth))
            throw new ArgumentException($"A rotation in the ({FromAxis}, {TowardsAxis}) plane needs a (C, D, H, W) volume; the image is 2-D with shape ({string.Join(", ", image.Shape)}).", nameof(image));
        bool apply = random.NextDouble() < Probability;
        int turns = random.Next(MaxTurns) + 1;
        return apply ? Rotate(image, turns, FromAxis, TowardsAxis) : image;
    }

    /// <summary>NumPy's <c>rot90(image, turns, axes=(H, W))</c> for turns 0 to 3.</summary>
    internal static FloatImage Rotate(FloatImage image, int turns) => Rotate(image, turns, SpatialAxis.Height, SpatialAxis.Width);

    /// <summary>NumPy's <c>rot90(image, turns, axes=(from, towards))</c> for any number of turns.</summary>
    internal static FloatImage Rotate(FloatImage image, int turns, SpatialAxis fromAxis, SpatialAxis towardsAxis)
    {
        turns = ((turns % 4) + 4) % 4;
        if (turns == 0) return image;
        // The image as (C, D, H, W), D = 1 for 2-D; a = the from axis, b = the towards axis (indices into that shape).
        int[] size = [image.Channels, image.Depth, image.Height, image.Width];
        int[] stride = [size[1] * size[2] * size[3], size[2] * size[3], size[3], 1];
        int a = Index(fromAxis), b = Index(towardsAxis);
        int[] outSize = (int[])size.Clone();
        if (turns != 2) (outSize[a], outSize[b]) = (size[b], size[a]);
        // Every source index is a linear function of the output index: offset = origin + Σ out[i] × step[i].
        //   one turn:    src[a] = out[b],           src[b] = n_b − 1 − out[a]
        //   two turns:   src[a] = n_a − 1 − out[a], src[b] = n_b − 1 − out[b]
        //   three turns: src[a] = n_a − 1 − out[b], src[b] = out[a]
        int[] step = (int[])stride.Clone();
        int origin = 0;
        switch (turns)
        {
            case 1:
                step[b] = stride[a];
                step[a] = -stride[b];
                origin = (size[b] - 1) * stride[b];
                break;
            case 2:
                step[a] = -stride[a];
                step[b] = -stride[b];
                origin = ((size[a] - 1) * stride[a]) + ((size[b] - 1) * stride[b]);
                break;
            default:
                step[b] = -stride[a];
                step[a] = stride[b];
                origin = (size[a] - 1) * stride[a];
                break;
        }
        var src = image.Data;
        var dst = new float[src.Length];
        int at = 0;
        for (int c = 0; c < outSize[0]; c++)
            for (int z = 0; z < outSize[1]; z++)
                for (int y = 0; y < outSize[2]; y++)
                {
                    int from = origin + (c * step[0]) + (z * step[1]) + (y * step[2]);
                    int dx = step[3];
                    for (int x = 0; x < outSize[3]; x++, from += dx) dst[at++] = src[from];
                }
        int[] shape = (int[])image.Shape.Clone();
        if (image.IsVolume) shape[1] = outSize[1];
        shape[^2] = outSize[2];
        shape[^1] = outSize[3];
        return new FloatImage(dst, shape);
    }

    private static int Index(SpatialAxis axis) => axis switch
    {
        SpatialAxis.Depth => 1,
        SpatialAxis.Height => 2,
        _ => 3,
    };
}
