using System.Globalization;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Npy;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The files <c>predict</c> and <c>merge</c> write for each input, and their table cells: a scan's label map
/// (<c>&lt;scan&gt;.seg.nii.gz</c>) and probabilities (<c>&lt;scan&gt;.probabilities.nii.gz</c>, a float32 volume per
/// class), an image's mask (<c>&lt;image&gt;.mask.png</c>, black and white for two classes, else class indices) and
/// probabilities (<c>&lt;image&gt;.probabilities.npy</c>, (classes, H, W) float32).
/// </summary>
internal static class SegmentationOutputs
{
    public const string ScanLabels = ".seg.nii.gz", ScanProbabilities = ".probabilities.nii.gz", ImageMask = ".mask.png", ImageProbabilities = ".probabilities.npy";

    /// <summary>Writes a scan's label map (uint8 up to 256 classes, else int16).</summary>
    public static void WriteLabels(string path, NiftiImage map, int classes) =>
        NiftiWriter.Write(path, map, new NiftiWriteOptions { DataType = classes <= 256 ? NiftiDataType.UInt8 : NiftiDataType.Int16 });

    /// <summary>Writes a scan's probabilities: one 4-D file, a volume per class (background first), as a multi-volume NIfTI holds channels.</summary>
    public static void WriteProbabilities(string path, IReadOnlyList<NiftiImage> probabilities) =>
        NiftiWriter.WriteVolumes(path, probabilities, new NiftiWriteOptions { DataType = NiftiDataType.Float32 });

    /// <summary>Writes an image's probabilities: (classes, H, W), float32, C order — what numpy.load gives a Python user.</summary>
    public static void WriteProbabilities(string path, IReadOnlyList<float[]> probabilities, int height, int width) =>
        NpyFormat.WriteFile(path, NpyArray.FromSingle([.. probabilities.SelectMany(p => p)], probabilities.Count, height, width));

    /// <summary>Writes an image's mask: black and white for two classes, else class indices.</summary>
    public static void WriteMask(string path, SegmentationMap map, int classes) => map.Save(path, classes == 2 ? MaskEncoding.Binary : MaskEncoding.ClassIndex);

    /// <summary>Each foreground class's volume in millilitres, for the table.</summary>
    public static IEnumerable<string> VolumeCells(NiftiImage map, int classes)
    {
        double voxelMl = map.Spacing[0] * map.Spacing[1] * map.Spacing[2] / 1000.0;
        return Enumerable.Range(1, classes - 1).Select(k => (map.Voxels.Count(v => v == k) * voxelMl).ToString("F2", CultureInfo.InvariantCulture));
    }

    /// <summary>Each foreground class's share of the image in percent, for the table.</summary>
    public static IEnumerable<string> ShareCells(SegmentationMap map, int classes) =>
        Enumerable.Range(1, classes - 1).Select(k => (100 * map.Fraction(k)).ToString("F2", CultureInfo.InvariantCulture));
}
