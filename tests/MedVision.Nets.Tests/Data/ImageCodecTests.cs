using MedVision.Nets.Data;
using MedVision.Nets.Data.Images;

namespace MedVision.Nets.Tests.Data;

public class ImageCodecTests
{
    private static byte[] RandomPixels(int seed, int count)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] SmoothRgb(int width, int height)
    {
        var p = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = ((y * width) + x) * 3;
                p[i] = (byte)(x * 255 / (width - 1));
                p[i + 1] = (byte)(y * 255 / (height - 1));
                p[i + 2] = 128;
            }
        }

        return p;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Decodes_png_written_by_an_independent_encoder_exactly(int channels)
    {
        byte[] pixels = RandomPixels(channels, 13 * 7 * channels);
        byte[] png = MinimalPng.Encode(13, 7, channels, pixels);

        RasterImage image = ImageCodec.Decode(png, "gen.png");

        (image.Width, image.Height, image.Channels).Should().Be((13, 7, channels));
        image.Pixels.Should().Equal(pixels);
        image[12, 6, channels - 1].Should().Be(pixels[^1]);
    }

    private static byte[] BigEndian16(ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2 * i), values[i]);
        return bytes;
    }

    private static readonly ushort[] Ramp16 = { 0, 4096, 16384, 32768, 49152, 65535, 257, 128, 1000, 60000, 12345, 40000 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sixteen_bit_grey_png_maps_the_stored_values_linearly_to_8_bits(bool withGammaChunk)
    {
        // 16-bit radiographs: value v becomes round(v / 257), as PIL/OpenCV-style readers scale, not libpng's
        // linear-light-to-sRGB re-encoding (4096 → 72) nor its gAMA correction.
        var chunks = withGammaChunk ? new[] { MinimalPng.Gamma(1 / 2.2) } : Array.Empty<(string, byte[])>();
        byte[] png = MinimalPng.EncodeSamples(6, 2, 16, 0, BigEndian16(Ramp16), chunks);
        RasterImage image = ImageCodec.Decode(png, "xray16.png");
        (image.Width, image.Height, image.Channels).Should().Be((6, 2, 1));
        image.Pixels.Should().Equal(Ramp16.Select(v => (byte)Math.Round(v / 257.0)));
        image.Pixels[1].Should().Be(16);
    }

    [Fact]
    public void Sixteen_bit_rgb_png_maps_each_sample_linearly()
    {
        byte[] png = MinimalPng.EncodeSamples(2, 2, 16, 2, BigEndian16(Ramp16));
        RasterImage image = ImageCodec.Decode(png, "rgb16.png");
        (image.Width, image.Height, image.Channels).Should().Be((2, 2, 3));
        image.Pixels.Should().Equal(Ramp16.Select(v => (byte)Math.Round(v / 257.0)));
    }

    [Fact]
    public void Eight_bit_png_keeps_its_stored_values_whatever_its_gamma_and_colour_chunks()
    {
        byte[] pixels = RandomPixels(3, 5 * 4 * 3);
        var srgb = ("sRGB", new byte[] { 0 });
        var chrm = ("cHRM", new byte[32]);
        foreach (var chunks in new[] { new[] { MinimalPng.Gamma(1.0) }, new[] { MinimalPng.Gamma(0.8), chrm }, new[] { srgb, MinimalPng.Gamma(1 / 2.2) } })
        {
            var png = MinimalPng.EncodeSamples(5, 4, 8, 2, pixels, chunks);
            ImageCodec.Decode(png, "gamma.png").Pixels.Should().Equal(pixels, $"chunks {string.Join(", ", chunks.Select(c => c.Item1))}");
        }
    }

    [Fact]
    public void Eight_bit_alpha_is_dropped_keeping_the_stored_colour()
    {
        // RGBA: opaque, half and fully transparent pixels keep their RGB (as PIL's convert("RGB")); grey + alpha alike.
        byte[] rgba = { 200, 100, 50, 255, 200, 100, 50, 128, 10, 20, 30, 0 };
        ImageCodec.Decode(MinimalPng.EncodeSamples(3, 1, 8, 6, rgba), "rgba.png").Pixels.Should().Equal(200, 100, 50, 200, 100, 50, 10, 20, 30);
        byte[] greyAlpha = { 90, 255, 90, 64, 7, 0 };
        var grey = ImageCodec.Decode(MinimalPng.EncodeSamples(3, 1, 8, 4, greyAlpha), "ga.png");
        grey.Channels.Should().Be(1);
        grey.Pixels.Should().Equal(90, 90, 7);
    }

    [Theory]
    [InlineData("rgba16.png", 4)]
    [InlineData("rgba16-adam7.png", 4)]
    [InlineData("ga16.png", 2)]
    [InlineData("ga16-adam7.png", 2)]
    public void Sixteen_bit_alpha_is_dropped_keeping_the_stored_colour(string file, int channels)
    {
        // Fixtures/images/make_png16_alpha_fixtures.py: ImageMagick (libpng, adaptive row filters, plain and Adam7) wrote
        // the samples of the .raw file; alpha runs through 0, 1, 300, 32768 and 65535. libpng's simplified API returns such
        // data premultiplied (transparent pixels black); the stored colour, mapped linearly to 8 bits, is expected.
        string folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images");
        byte[] raw = File.ReadAllBytes(Path.Combine(folder, file.StartsWith("rgba", StringComparison.Ordinal) ? "rgba16.raw" : "ga16.raw"));
        var samples = Enumerable.Range(0, raw.Length / 2).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(2 * i))).ToArray();
        var expected = samples.Where((_, i) => i % channels != channels - 1).Select(v => (byte)Math.Round(v / 257.0)).ToArray();
        samples.Where((_, i) => i % channels == channels - 1).Count(a => a == 0).Should().BeGreaterThan(10, "the fixture has transparent pixels");

        RasterImage image = ImageCodec.DecodeFile(Path.Combine(folder, file));

        (image.Width, image.Height, image.Channels).Should().Be((13, 7, channels - 1));
        image.Pixels.Should().Equal(expected);
    }

    [Fact]
    public void Sixteen_bit_rgb_with_a_transparent_colour_keeps_that_colour()
    {
        // tRNS names one 16-bit RGB value transparent: its pixels keep their stored colour like any other.
        var trns = new byte[6];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(trns, 4096);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(trns.AsSpan(2), 16384);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(trns.AsSpan(4), 32768);
        byte[] png = MinimalPng.EncodeSamples(2, 2, 16, 2, BigEndian16(Ramp16), ("tRNS", trns));
        RasterImage image = ImageCodec.Decode(png, "trns16.png");
        (image.Width, image.Height, image.Channels).Should().Be((2, 2, 3));
        image.Pixels.Should().Equal(Ramp16.Select(v => (byte)Math.Round(v / 257.0)));
        image.Pixels[1].Should().Be(16, "the first pixel is the transparent colour and keeps it");
    }

    [Fact]
    public void A_sixteen_bit_alpha_png_cut_short_is_a_clear_error()
    {
        byte[] png = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", "rgba16.png"));
        var act = () => ImageCodec.Decode(png.AsSpan(0, png.Length / 2).ToArray(), "cut16.png");
        act.Should().Throw<DataFormatException>().WithMessage("*cut16.png*");
    }

    [Fact]
    public void A_colour_chunk_running_past_the_end_is_a_clear_error()
    {
        byte[] png = MinimalPng.EncodeSamples(2, 2, 8, 0, new byte[4], MinimalPng.Gamma(1.0));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(8 + 25), 1_000_000); // the gAMA chunk's length
        var act = () => ImageCodec.Decode(png, "broken.png");
        act.Should().Throw<DataFormatException>().WithMessage("*broken.png*");
    }

    [Fact]
    public void Cmyk_jpeg_is_refused_by_name_not_called_corrupt()
    {
        // Fixtures/images/make_image_fixtures.py (Pillow): a valid CMYK JPEG, which TurboJPEG cannot turn into RGB.
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "images", "cmyk.jpg");
        var act = () => ImageCodec.DecodeFile(path);
        act.Should().Throw<NotSupportedException>().WithMessage($"{path}: CMYK JPEG (CMYK colour space*not supported; convert it to RGB first*");
    }

    [Fact]
    public void Png_encoder_round_trips()
    {
        var source = new RasterImage(9, 5, 3, RandomPixels(3, 9 * 5 * 3));
        ImageCodec.Decode(ImageCodec.EncodePng(source), "rt.png").Pixels.Should().Equal(source.Pixels);
    }

    [Fact]
    public void Jpeg_round_trip_is_close_for_rgb_and_grey()
    {
        var rgb = new RasterImage(32, 24, 3, SmoothRgb(32, 24));
        byte[] jpeg = ImageCodec.EncodeJpeg(rgb, 95);
        jpeg[..3].Should().Equal(0xFF, 0xD8, 0xFF);
        RasterImage back = ImageCodec.Decode(jpeg, "rgb.jpg");
        (back.Width, back.Height, back.Channels).Should().Be((32, 24, 3));
        back.Pixels.Zip(rgb.Pixels, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(12);

        RasterImage grey = rgb.WithChannels(1);
        RasterImage greyBack = ImageCodec.Decode(ImageCodec.EncodeJpeg(grey, 95), "grey.jpg");
        greyBack.Channels.Should().Be(1);
        greyBack.Pixels.Zip(grey.Pixels, (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(8);
    }

    [Fact]
    public void Corrupt_and_truncated_images_name_the_file()
    {
        using var temp = new TempFolder();
        byte[] png = MinimalPng.Encode(16, 16, 3, RandomPixels(4, 16 * 16 * 3));
        byte[] jpeg = ImageCodec.EncodeJpeg(new RasterImage(64, 64, 3, RandomPixels(5, 64 * 64 * 3)), 90);

        void Expect(string name, byte[] bytes, string problem)
        {
            string path = temp.File(name);
            File.WriteAllBytes(path, bytes);
            Action act = () => ImageCodec.DecodeFile(path);
            act.Should().Throw<DataFormatException>().Where(e => e.FilePath == path && e.Message.Contains(problem), name);
        }

        Expect("truncated.png", png[..(png.Length / 2)], "PNG");
        byte[] badCrc = (byte[])png.Clone();
        badCrc[50] ^= 0xFF;
        Expect("crc.png", badCrc, "PNG");
        Expect("truncated.jpg", jpeg[..(jpeg.Length / 2)], "JPEG");
        byte[] badHeader = (byte[])jpeg.Clone();
        Array.Fill(badHeader, (byte)0x00, 3, 200);
        Expect("header.jpg", badHeader, "JPEG");
        Expect("text.png", "hello"u8.ToArray(), "not a JPEG, PNG or DICOM");
        Expect("empty.jpg", [], "empty");
    }

    [Fact]
    public void Bilinear_resize_matches_the_pixel_centre_formula()
    {
        var row = new RasterImage(2, 1, 1, [0, 100]);
        // dst x → src (x + 0.5)·0.5 − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped to [0, 1].
        row.Resize(4, 1).Pixels.Should().Equal(0, 25, 75, 100);

        var constant = new RasterImage(5, 3, 3, Enumerable.Repeat((byte)77, 45).ToArray());
        constant.Resize(11, 8).Pixels.Should().OnlyContain(b => b == 77);

        var square = new RasterImage(2, 2, 1, [0, 40, 80, 120]);
        // Centre of a 1×1 output samples (0.5, 0.5): the mean of the four pixels.
        square.Resize(1, 1).Pixels.Should().Equal(60);
        square.Resize(2, 2).Should().BeSameAs(square);
    }

    [Fact]
    public void Channel_conversion()
    {
        var grey = new RasterImage(2, 1, 1, [10, 200]);
        grey.WithChannels(3).Pixels.Should().Equal(10, 10, 10, 200, 200, 200);
        var rgb = new RasterImage(1, 1, 3, [255, 0, 0]);
        rgb.WithChannels(1).Pixels.Should().Equal((byte)Math.Round(0.299 * 255));
    }
}
