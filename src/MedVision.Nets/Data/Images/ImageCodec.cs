using MedVision.Torch.Serialization;
namespace MedVision.Nets.Data.Images;

/// <summary>
/// Decodes JPEG and PNG images (PNG: 8- and 16-bit, mapped to 8 bits) and encodes 8-bit ones through native libraries: libjpeg-turbo's TurboJPEG API
/// (<c>libturbojpeg.so.0</c>, Debian package <c>libturbojpeg0</c>) and libpng's simplified API
/// (<c>libpng16.so.16</c>, package <c>libpng16-16</c>). The libraries are loaded on first use.
/// </summary>
public static class ImageCodec
{
    /// <summary>
    /// Decodes a JPEG or PNG image, or the first frame of a DICOM file (detected from its signature), to grey or RGB
    /// bytes. DICOM grey values are mapped through the file's window (else the frame's range), MONOCHROME1 inverted
    /// (see <see cref="Dicom.DicomFile.ToRasterImage"/>).
    /// </summary>
    /// <param name="data">The encoded file content.</param>
    /// <param name="sourceName">The file name used in error messages.</param>
    /// <returns>
    /// The image; colour images have 3 channels, grey images 1. PNGs give their stored values, as PIL, OpenCV and
    /// torchvision read them: 16-bit samples mapped linearly to 8 bits (round(v / 257)), gamma and colour-space chunks
    /// ignored, an 8-bit alpha channel dropped (16-bit colour with alpha is composited onto black).
    /// </returns>
    /// <exception cref="DataFormatException">The data is neither JPEG, PNG nor DICOM, or is truncated or corrupt.</exception>
    /// <exception cref="DllNotFoundException">The native decoder is not installed.</exception>
    /// <exception cref="NotSupportedException">A DICOM file in a transfer syntax that is not supported, or a CMYK JPEG.</exception>
    public static RasterImage Decode(ReadOnlySpan<byte> data, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        if (Dicom.DicomFile.HasPreamble(data))
        {
            return Dicom.DicomFile.Read(data.ToArray(), sourceName).ToRasterImage();
        }

        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        {
            return TurboJpeg.Decode(data, sourceName);
        }

        if (data.Length >= 8 && data[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return LibPng.Decode(data, sourceName);
        }

        throw new DataFormatException(sourceName, data.Length == 0 ? "the file is empty." : "not a JPEG, PNG or DICOM image (unrecognised file signature).");
    }

    /// <summary>Reads and decodes a JPEG or PNG file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The image.</returns>
    /// <exception cref="DataFormatException">The file is neither JPEG nor PNG, or is truncated or corrupt.</exception>
    public static RasterImage DecodeFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Encodes an image as baseline JPEG (4:4:4 for RGB) with libjpeg-turbo.</summary>
    /// <param name="image">The image.</param>
    /// <param name="quality">JPEG quality 1..100.</param>
    /// <returns>The JPEG bytes.</returns>
    public static byte[] EncodeJpeg(RasterImage image, int quality = 90)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        return TurboJpeg.Encode(image, quality);
    }

    /// <summary>Encodes an image as 8-bit PNG with libpng.</summary>
    /// <param name="image">The image.</param>
    /// <returns>The PNG bytes.</returns>
    public static byte[] EncodePng(RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return LibPng.Encode(image);
    }

    /// <summary>Encodes <paramref name="image"/> as JPEG or PNG (by the file extension) and writes it atomically.</summary>
    /// <param name="path">A <c>.jpg</c>, <c>.jpeg</c> or <c>.png</c> file.</param>
    /// <param name="image">The image.</param>
    /// <param name="jpegQuality">JPEG quality 1..100 (ignored for PNG).</param>
    public static void Save(string path, RasterImage image, int jpegQuality = 90)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(image);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        byte[] bytes = ext switch
        {
            ".jpg" or ".jpeg" => EncodeJpeg(image, jpegQuality),
            ".png" => EncodePng(image),
            _ => throw new ArgumentException($"{path}: unsupported image extension '{ext}' (use .jpg, .jpeg or .png).", nameof(path)),
        };
        AtomicFile.Write(path, s => s.Write(bytes));
    }
}
