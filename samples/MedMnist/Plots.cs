using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Metrics;
using MedVision.Nets.Plotting;
using MedVision.Nets.Training;

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
    public static bool WriteConfusionMatrix(MedMnistInfo info, int[,] labels, double[,] scores, string path)
    {
        if (info.Task == MedMnistTask.MultiLabel) return false;
        SaveSvgAndPng(TrainingPlots.ConfusionMatrix(info.Task, FirstColumn(labels), scores, info.ClassNames, $"Test confusion matrix — {info.Name}"), path);
        return true;
    }

    // Single-label datasets keep their labels as an N × 1 matrix.
    private static int[] FirstColumn(int[,] labels) => Enumerable.Range(0, labels.GetLength(0)).Select(i => labels[i, 0]).ToArray();
}
