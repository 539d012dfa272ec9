using System.Globalization;
using MedVision.Nets.Inference;
using MedVision.Nets.Training;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>What the samples that cross-validate (medmnist cross-validate, volume-folder --folds) print and write.</summary>
internal static class CrossValidationConsole
{
    /// <summary>The model file each fold's folder holds.</summary>
    public static string ModelPath(string foldDirectory) => Path.Combine(foldDirectory, "model.safetensors");

    /// <summary>Writes OUTPUT/ensemble.json listing the folds' model files; returns its path.</summary>
    public static string SaveManifest(CrossValidationResult result, string output)
    {
        var manifest = Path.Combine(output, "ensemble.json");
        EnsemblePredictor.SaveManifest(manifest, result.Folds.Select(f => Path.GetFullPath(ModelPath(f.Directory!))).ToList());
        return manifest;
    }

    /// <summary>
    /// One row per fold (samples, selected epoch, its own AUC and ACC, and with a test split the test AUC and ACC), then
    /// the mean ± sd, the pooled out-of-fold metrics and, with a test split, the folds' ensemble.
    /// </summary>
    public static Table Table(CrossValidationResult result, string title, int samples)
    {
        static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        bool test = result.HasTest;
        var table = new Table().Title(title)
            .AddColumn("fold").AddColumn(new TableColumn("train").RightAligned()).AddColumn(new TableColumn("validate").RightAligned()).AddColumn(new TableColumn("best epoch").RightAligned())
            .AddColumn(new TableColumn("val AUC").RightAligned()).AddColumn(new TableColumn("val ACC").RightAligned());
        if (test) table.AddColumn(new TableColumn("test AUC").RightAligned()).AddColumn(new TableColumn("test ACC").RightAligned());
        void Row(params string[] cells) => table.AddRow(test ? cells : cells[..6]);
        foreach (var f in result.Folds)
            Row(I(f.Index + 1), I(f.Split.TrainIndices.Count), I(f.Split.ValidationIndices.Count), I(f.Training.BestEpoch + 1), F(f.Validation.Auc), F(f.Validation.Acc), F(f.Test.Auc), F(f.Test.Acc));
        Row("mean ± sd", "", "", "", result.ValidationAuc.ToString(), result.ValidationAcc.ToString(), result.TestAuc.ToString(), result.TestAcc.ToString());
        Row("out of fold (pooled)", "", I(samples), "", F(result.OutOfFold.Auc), F(result.OutOfFold.Acc), "", "");
        if (test) Row($"ensemble of the {result.Folds.Count} folds", "", "", "", "", "", F(result.EnsembleTest.Auc), F(result.EnsembleTest.Acc));
        return table;
    }
}
