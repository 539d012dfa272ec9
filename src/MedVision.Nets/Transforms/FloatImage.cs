namespace MedVision.Nets.Transforms;

/// <summary>
/// A channels-first float image or volume in host memory: shape (C, H, W) or (C, D, H, W), row-major. The unit
/// transforms work on; batches of them become tensors in the data loader.
/// </summary>
public sealed class FloatImage
{
    /// <summary>Wraps data of the given shape (no copy).</summary>
    public FloatImage(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length is not (3 or 4)) throw new ArgumentException($"A FloatImage is (C, H, W) or (C, D, H, W); got {shape.Length} dimensions.", nameof(shape));
        long n = 1;
        foreach (var s in shape)
        {
            if (s <= 0) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] has a non-positive size.", nameof(shape));
            n *= s;
        }
        if (n != data.Length) throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {n} values but the data has {data.Length}.", nameof(data));
        Data = data;
        Shape = shape;
    }

    /// <summary>
    /// A zeroed buffer for an image of <paramref name="shape"/>; a shape whose size overflows an array is refused with
    /// an ArgumentException naming it (rather than an int overflow into a wrong size or an OutOfMemoryException).
    /// </summary>
    internal static float[] Allocate(string what, params int[] shape)
    {
        long n = 1;
        // Saturates just above the limit, so that the product of int sizes cannot overflow a long.
        foreach (var s in shape) n = s <= 0 ? 0 : Math.Min(n * s, (long)Array.MaxLength + 1);
        if (n > Array.MaxLength)
            throw new ArgumentException($"{what}: an image of shape [{string.Join(", ", shape)}] would hold more values than an array can ({Array.MaxLength:N0}).");
        return new float[n];
    }

    /// <summary>The values, channels first.</summary>
    public float[] Data { get; }
    /// <summary>(C, H, W) or (C, D, H, W).</summary>
    public int[] Shape { get; }
    /// <summary>True for a volume (C, D, H, W).</summary>
    public bool IsVolume => Shape.Length == 4;
    /// <summary>Channels.</summary>
    public int Channels => Shape[0];
    /// <summary>Depth (1 for 2-D images).</summary>
    public int Depth => IsVolume ? Shape[1] : 1;
    /// <summary>Height.</summary>
    public int Height => Shape[^2];
    /// <summary>Width.</summary>
    public int Width => Shape[^1];
    /// <summary>Voxels (or pixels) per channel.</summary>
    public int PlaneSize => Depth * Height * Width;

    /// <summary>Converts interleaved 8-bit pixels (H, W, C) to a channels-first image scaled to [0, 1] (PyTorch's ToTensor).</summary>
    public static FloatImage FromBytesHwc(ReadOnlySpan<byte> pixels, int height, int width, int channels)
    {
        if (height <= 0 || width <= 0 || channels <= 0) throw new ArgumentException("Image sizes must be positive.");
        if (pixels.Length != height * width * channels)
            throw new ArgumentException($"{pixels.Length} bytes do not make a {height}×{width}×{channels} image.", nameof(pixels));
        var data = new float[pixels.Length];
        int plane = height * width;
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < channels; c++)
                data[c * plane + i] = pixels[i * channels + c] / 255f;
        return new FloatImage(data, channels, height, width);
    }

    /// <summary>Converts 8-bit voxels (D, H, W) of one channel to a (1, D, H, W) volume scaled to [0, 1].</summary>
    public static FloatImage FromBytesVolume(ReadOnlySpan<byte> voxels, int depth, int height, int width)
    {
        if (voxels.Length != depth * height * width)
            throw new ArgumentException($"{voxels.Length} bytes do not make a {depth}×{height}×{width} volume.", nameof(voxels));
        var data = new float[voxels.Length];
        for (int i = 0; i < data.Length; i++) data[i] = voxels[i] / 255f;
        return new FloatImage(data, 1, depth, height, width);
    }

    /// <summary>A 3-channel copy of a 1-channel image or volume (the grey plane repeated); any other input is an error.</summary>
    public FloatImage GreyToRgb()
    {
        if (Channels != 1) throw new InvalidOperationException($"Only a 1-channel image can be repeated to RGB; this one has {Channels} channels.");
        var rgb = Allocate("GreyToRgb", 3, Data.Length);
        for (int c = 0; c < 3; c++) Array.Copy(Data, 0, rgb, c * Data.Length, Data.Length);
        var shape = (int[])Shape.Clone();
        shape[0] = 3;
        return new FloatImage(rgb, shape);
    }

    /// <summary>A deep copy.</summary>
    public FloatImage Clone() => new((float[])Data.Clone(), (int[])Shape.Clone());
}
