namespace MedVision.Nets.Transforms;

/// <summary>
/// With probability <see cref="Probability"/>, rotates the (H, W) plane — of a 2-D image, or of every slice of a volume —
/// by k quarter turns, k drawn from 1 to <see cref="MaxTurns"/> (MONAI's <c>RandRotate90</c>, probability 0.1 and up to 3
/// turns by default, in NumPy's sense of <c>rot90(image, k, axes=(H, W))</c>: from the height axis towards the width
/// axis. MONAI's default plane is the first two spatial axes of its own layout, which for a volume read as (C, D, H, W)
/// here would be (D, H); this transform always turns slices in their own plane). A turn by an odd k swaps H and W, so
/// images that are not square change shape. Exact: no interpolation. Every call draws the same values whether or not it
/// applies.
/// </summary>
public sealed class RandomRotate90 : ITransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance that an image is rotated (0 to 1).</param>
    /// <param name="maxTurns">Most quarter turns (1 to 3).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RandomRotate90(double probability = 0.1, int maxTurns = 3)
    {
        Probability = TransformArguments.Probability(probability);
        if (maxTurns is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(maxTurns), maxTurns, "The most quarter turns must be 1, 2 or 3.");
        MaxTurns = maxTurns;
    }

    /// <summary>Chance that an image is rotated.</summary>
    public double Probability { get; }

    /// <summary>Most quarter turns.</summary>
    public int MaxTurns { get; }

    /// <inheritdoc />
    public FloatImage Apply(FloatImage image, Random random)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        bool apply = random.NextDouble() < Probability;
        int turns = random.Next(MaxTurns) + 1;
        return apply ? Rotate(image, turns) : image;
    }

    /// <summary>NumPy's <c>rot90(image, turns, axes=(H, W))</c> for turns 0 to 3.</summary>
    internal static FloatImage Rotate(FloatImage image, int turns)
    {
        turns = ((turns % 4) + 4) % 4;
        if (turns == 0) return image;
        int h = image.Height, w = image.Width, slices = image.Channels * image.Depth;
        int outH = turns == 2 ? h : w, outW = turns == 2 ? w : h;
        var src = image.Data;
        var dst = new float[src.Length];
        for (int s = 0; s < slices; s++)
        {
            int at = s * h * w;
            for (int i = 0; i < outH; i++)
                for (int j = 0; j < outW; j++)
                {
                    // out[i, j] = in[j, W−1−i] (one turn), in[H−1−i, W−1−j] (two), in[H−1−j, i] (three)
                    int y = turns switch { 1 => j, 2 => h - 1 - i, _ => h - 1 - j };
                    int x = turns switch { 1 => w - 1 - i, 2 => w - 1 - j, _ => i };
                    dst[at + (i * outW) + j] = src[at + (y * w) + x];
                }
        }
        int[] shape = (int[])image.Shape.Clone();
        shape[^2] = outH;
        shape[^1] = outW;
        return new FloatImage(dst, shape);
    }
}
