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
