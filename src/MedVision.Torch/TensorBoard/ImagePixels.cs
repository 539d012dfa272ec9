namespace MedVision.Torch.TensorBoard;

/// <summary>
/// Tensors to interleaved 8-bit pixels (rows, then columns, then channels) as PyTorch's summaries make them: uint8
/// taken as it is, anything else multiplied by 255 in float32, clipped to [0, 255] and truncated.
/// </summary>
internal static class ImagePixels
{
    public static (byte[] Pixels, int Height, int Width, int Channels) Interleaved(Tensor image, string layout, string name)
    {
        var (values, shape) = Values(image, layout, name);
        var (h, w, c) = Sizes(layout, shape, name);
        var pixels = new byte[h * w * c];
        Place(values, 0, layout, shape, pixels, w * c, 0, 0);
        return (pixels, h, w, c);
    }

    public static (byte[] Pixels, int Height, int Width, int Channels) Grid(Tensor images, string layout, int columns, string name)
    {
        var (values, shape) = Values(images, layout, name);
        var itemLayout = layout[1..];
        var itemShape = shape[1..];
        int n = (int)shape[0];
        if (n == 0) throw new ArgumentException("The batch has no image.", name);
        var (h, w, c) = Sizes(itemLayout, itemShape, name);
        int cols = Math.Min(n, columns), rows = (n + cols - 1) / cols;
        long total = (long)h * rows * w * cols * c;
        if (total > int.MaxValue) throw new ArgumentException($"The grid of {n} images of {h}×{w} is too large for one image.", name);
        var pixels = new byte[total];
        int itemSize = h * w * c, rowStride = w * cols * c;
        for (int i = 0; i < n; i++)
            Place(values, i * itemSize, itemLayout, itemShape, pixels, rowStride, (i / cols) * h, (i % cols) * w);
        return (pixels, h * rows, w * cols, c);
    }

    private static (byte[] Values, long[] Shape) Values(Tensor image, string layout, string name)
    {
        var shape = image.Shape;
        if (shape.Length != layout.Length)
            throw new ArgumentException($"The layout \"{layout}\" names {layout.Length} axes, but the tensor has {shape.Length}: shape [{string.Join(", ", shape)}].", name);
        if (image.NumElements > int.MaxValue) throw new ArgumentException("The image is too large to summarise.", name);
        using var _ = Tensors.NoGrad();
        if (image.ScalarType == ScalarType.Byte)
        {
            using var cpu = image.Detach().To(ScalarType.Byte, Device.Cpu);
            return (cpu.ToArray<byte>(), shape);
        }
        using var asFloat = image.Detach().To(ScalarType.Float32, Device.Cpu);
        var floats = asFloat.ToArray<float>();
        var bytes = new byte[floats.Length];
        for (int i = 0; i < floats.Length; i++)
        {
            var v = floats[i];
            if (float.IsNaN(v)) throw new ArgumentException($"The image has a NaN at element {i}.", name);
            bytes[i] = (byte)Math.Clamp(v * 255f, 0f, 255f);
        }
        return (bytes, shape);
    }

    private static (int H, int W, int C) Sizes(string layout, long[] shape, string name)
    {
        long h = shape[layout.IndexOf('H')], w = shape[layout.IndexOf('W')];
        int ci = layout.IndexOf('C');
        long c = ci < 0 ? 1 : shape[ci];
        if (h < 1 || w < 1) throw new ArgumentException($"The image is {h}×{w}: it needs at least one row and one column.", name);
        if (c is not (1 or 3 or 4))
            throw new ArgumentException($"The image has {c} channels along \"C\" of \"{layout}\": an image has 1 (grey), 3 (RGB) or 4 (RGBA).", name);
        return ((int)h, (int)w, (int)c);
    }

    // Copies one image laid out as `layout` (row-major over its axes) into the interleaved canvas at (top, left).
    private static void Place(byte[] values, int offset, string layout, long[] shape, byte[] canvas, int canvasRowStride, int top, int left)
    {
        var strides = new long[layout.Length];
        long s = 1;
        for (int i = layout.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        int hi = layout.IndexOf('H'), wi = layout.IndexOf('W'), ci = layout.IndexOf('C');
        long sh = strides[hi], sw = strides[wi], sc = ci < 0 ? 0 : strides[ci];
        int h = (int)shape[hi], w = (int)shape[wi], c = ci < 0 ? 1 : (int)shape[ci];
        for (int y = 0; y < h; y++)
        {
            int row = (top + y) * canvasRowStride + left * c;
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                    canvas[row + x * c + k] = values[offset + y * sh + x * sw + k * sc];
        }
    }
}
