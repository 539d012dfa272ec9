using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Plotting;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;

namespace MedVision.Samples.MedMnist;

/// <summary>The sample's SVG plots, made with the library's chart writer.</summary>
internal static class Plots
{
    public static void WriteTrainingCurves(IReadOnlyList<EpochRecord> history, string path)
        => SaveSvgAndPng(TrainingPlots.TrainingCurves(history, "Training loss and validation metrics"), path);

    private static void SaveSvgAndPng(SvgChart chart, string svgPath)
    {
        chart.Save(svgPath);
        chart.TrySavePng(Path.ChangeExtension(svgPath, ".png")); // when rsvg-convert is installed
    }

    public static void WriteRocCurves(MedMnistInfo info, int[,] labels, double[,] scores, string path)
    {
        if (info.Task == MedMnistTask.MultiLabel)
        {
            SaveSvgAndPng(TrainingPlots.PerLabelRocCurves(labels, scores, info.ClassNames, $"Test ROC per label — {info.Name}"), path);
            return;
        }

        SaveSvgAndPng(TrainingPlots.RocCurves(FirstColumn(labels), scores, info.ClassNames, $"Test ROC — {info.Name}"), path);
    }

    /// <summary>The test confusion matrix of a single-label dataset; false (nothing written) for a multi-label one.</summary>
    public static bool WriteConfusionMatrix(MedMnistInfo info, int[,] labels, double[,] scores, string path, OrdinalDecision decision = OrdinalDecision.MostProbable)
    {
        if (info.Task == MedMnistTask.MultiLabel) return false;
        SaveSvgAndPng(TrainingPlots.ConfusionMatrix(info.Task, FirstColumn(labels), scores, info.ClassNames, $"Test confusion matrix — {info.Name}", decision: decision), path);
        return true;
    }

    /// <summary>The test calibration of a single-label dataset and its reliability diagram; null (nothing written) for a multi-label one.</summary>
    public static CalibrationResult? WriteReliabilityDiagram(MedMnistInfo info, int[,] labels, double[,] scores, string path)
    {
        if (info.Task == MedMnistTask.MultiLabel) return null;
        var calibration = Calibration.Evaluate(info.Task, labels, scores);
        SaveSvgAndPng(TrainingPlots.ReliabilityDiagram(calibration, $"Test reliability — {info.Name}"), path);
        return calibration;
    }

    // Single-label datasets keep their labels as an N × 1 matrix.
    private static int[] FirstColumn(int[,] labels) => Enumerable.Range(0, labels.GetLength(0)).Select(i => labels[i, 0]).ToArray();

    /// <summary>
    /// The class-activation maps of the first <paramref name="count"/> test images of a 2-D dataset — Grad-CAM of a
    /// ResNet (<c>test-gradcam.png</c>), attention rollout of a vision transformer (<c>test-rollout.png</c>) — written
    /// into <paramref name="folder"/>: a PNG of two rows of <paramref name="tile"/>-pixel tiles, the images on top and
    /// the maps of their predicted classes blended over them below. Returns the file's name and the method's, or null
    /// (nothing written) for 3-D datasets and for models the predictor cannot explain (TorchScript).
    /// </summary>
    public static (string File, string Method)? WriteMapGrid(Predictor predictor, MedMnistSplitData test, string folder, int count = 8, int tile = 112)
    {
        if (test.SampleShape.Count == 3 && test.SampleShape[2] is not (1 or 3)) return null; // (D, H, W) volumes
        if (!predictor.CanExplain) return null;
        var cam = MapMethod.OwnCam(predictor);
        var file = $"test-{(cam == CamMethod.AttentionRollout ? "rollout" : "gradcam")}.png";
        int height = test.SampleShape[0], width = test.SampleShape[1], channels = test.SampleShape.Count == 3 ? 3 : 1;
        count = Math.Min(count, test.Count);
        var grid = new byte[2 * tile * count * tile * 3];
        for (int i = 0; i < count; i++)
        {
            var image = new RasterImage(width, height, channels, test.GetImage(i).ToArray());
            var explanation = predictor.Explain(FloatImage.FromBytesHwc(image.Pixels, height, width, channels), cam);
            var shown = image.Resize(tile, tile).WithChannels(3);
            Paste(shown, grid, count * tile, i * tile, 0);
            Paste(explanation.Overlay(shown), grid, count * tile, i * tile, tile);
        }
        ImageCodec.Save(Path.Combine(folder, file), new RasterImage(count * tile, 2 * tile, 3, grid));
        return (file, cam == CamMethod.AttentionRollout ? "attention rollout" : "Grad-CAM");
    }

    private static void Paste(RasterImage tile, byte[] grid, int gridWidth, int left, int top)
    {
        for (int y = 0; y < tile.Height; y++)
            Array.Copy(tile.Pixels, y * tile.Width * 3, grid, (((top + y) * gridWidth) + left) * 3, tile.Width * 3);
    }
}
