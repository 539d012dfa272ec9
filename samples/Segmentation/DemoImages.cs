using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Synthetic;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// Writes a small folder of 2-D images with black-and-white masks generated from the library's brain phantoms
/// (<see cref="PhantomGenerator"/>): the axial slice through each lesion (through the middle for subjects without one)
/// as an RGB image — MRI in red, PET in green — and the lesion's region of reduced PET uptake as the mask. Only to
/// exercise the pipeline end to end; not patient data.
/// </summary>
internal static class DemoImages
{
    public static (string Images, string Masks) Write(string root, int subjects, int size, int seed)
    {
        var images = Directory.CreateDirectory(Path.Combine(root, "images")).FullName;
        var masks = Directory.CreateDirectory(Path.Combine(root, "masks")).FullName;
        int plane = size * size;
        foreach (var subject in new PhantomGenerator(size, seed).Generate(0, subjects))
        {
            // The volumes are (z, y, x) with x fastest: slice z is plane·z onwards.
            int z = subject.Lesion is { } lesion ? Math.Clamp((int)Math.Round(lesion.Z), 0, size - 1) : size / 2;
            var lesionMask = subject.LesionMask(1.5);
            var rgb = new byte[plane * 3];
            var mask = new byte[plane];
            for (int i = 0; i < plane; i++)
            {
                rgb[3 * i] = ToByte(subject.Mri[(z * plane) + i]);
                rgb[(3 * i) + 1] = ToByte(subject.Pet[(z * plane) + i]);
                mask[i] = lesionMask[(z * plane) + i] ? (byte)255 : (byte)0;
            }
            var name = $"phantom_{subject.Index:D3}.png";
            ImageCodec.Save(Path.Combine(images, name), new RasterImage(size, size, 3, rgb));
            ImageCodec.Save(Path.Combine(masks, name), new RasterImage(size, size, 1, mask));
        }
        return (images, masks);
    }

    private static byte ToByte(float v) => (byte)Math.Round(Math.Clamp(v, 0f, 1f) * 255);
}
