using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Inference;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The <c>merge</c> command (nnU-Net's <c>nnUNetv2_ensemble</c>): the probabilities that several <c>predict
/// --probabilities</c> runs saved for the same scans — other models or configurations, runs on other machines —
/// averaged scan by scan, and each scan's label map of the mean written as <c>predict</c> writes it.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var predictions = new Option<string[]>("--predictions")
        {
            Description = "A folder predict --probabilities wrote (<scan>.probabilities.nii.gz); give it once per prediction to merge, at least twice. A scan is merged when every folder has it.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var weights = new Option<double[]>("--weight")
        {
            Description = "Each folder's weight in the mean, once per --predictions in the same order (default: equal).",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--output") { Description = "Folder for the merged label maps (<scan>.seg.nii.gz) and, with --probabilities, the mean probabilities.", DefaultValueFactory = _ => "merged" };
        var keepLargest = new Option<bool>("--keep-largest") { Description = "Keep only each class's largest connected component of the merged maps." };
        var probabilities = new Option<bool>("--probabilities") { Description = "Also write each scan's mean probabilities (<scan>.probabilities.nii.gz), to merge again or review." };
        var command = new Command("merge", "Average the class probabilities several predict --probabilities runs saved for the same scans, and write each scan's label map of the mean (nnU-Net's ensembling of saved predictions).")
        {
            predictions, weights, output, keepLargest, probabilities,
        };
        command.Check(r => r.GetValue(predictions)!.Length < 2 ? "give --predictions at least twice: the folders whose probabilities are averaged"
            : r.GetValue(weights) is { Length: > 0 } w && w.Length != r.GetValue(predictions)!.Length ? $"--weight is given {w.Length} time(s) for {r.GetValue(predictions)!.Length} --predictions folders; give one weight per folder, or none"
            : null);
        command.SetAction(r => Run(r.GetValue(predictions)!, r.GetValue(weights) is { Length: > 0 } w ? w : null, r.GetValue(output)!, r.GetValue(keepLargest), r.GetValue(probabilities)));
        return command;
    }

    private const string Suffix = ".probabilities.nii.gz";

    private static int Run(string[] folders, double[]? weights, string output, bool keepLargest, bool writeProbabilities)
    {
        foreach (var folder in folders)
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"--predictions {folder}: no such folder.");
        var names = folders.Select(f => Directory.GetFiles(f, "*" + Suffix).Select(p => Path.GetFileName(p)[..^Suffix.Length]).ToHashSet(StringComparer.Ordinal)).ToList();
        var common = names[0].Where(n => names.All(set => set.Contains(n))).Order(StringComparer.Ordinal).ToList();
        if (common.Count == 0)
            throw new ArgumentException($"No scan has probabilities ({Suffix}) in every --predictions folder; run predict --probabilities into each.");
        for (int f = 0; f < folders.Length; f++)
            if (names[f].Count > common.Count)
                AnsiConsole.MarkupLine(Markup.Escape($"{folders[f]}: {names[f].Count - common.Count} scan(s) not in every folder, left out."));
        Directory.CreateDirectory(output);
        var table = new Table().AddColumn("scan").AddColumn("label map");
        int classes = 0;
        foreach (var name in common)
        {
            var mean = SegmentationProbabilities.Average([.. folders.Select(f => NiftiReader.ReadVolumes(Path.Combine(f, name + Suffix)))], weights);
            if (classes == 0)
            {
                classes = mean.Count;
                for (int k = 1; k < classes; k++) table.AddColumn(new TableColumn($"class {k} mL").RightAligned());
            }
            var postprocessing = keepLargest ? new SegmentationPostprocessingChoice(false, [.. Enumerable.Range(1, mean.Count - 1)]) : null;
            var map = SegmentationProbabilities.Labels(mean, postprocessing);
            var path = Path.Combine(output, name + ".seg.nii.gz");
            NiftiWriter.Write(path, map, new NiftiWriteOptions { DataType = map.SourceDataType });
            if (writeProbabilities) NiftiWriter.WriteVolumes(Path.Combine(output, name + Suffix), mean, new NiftiWriteOptions { DataType = NiftiDataType.Float32 });
            double voxelMl = map.Spacing[0] * map.Spacing[1] * map.Spacing[2] / 1000.0;
            var row = new List<string> { Markup.Escape(name), Markup.Escape(path) };
            for (int k = 1; k < classes; k++) row.Add((map.Voxels.Count(v => v == k) * voxelMl).ToString("F2", CultureInfo.InvariantCulture));
            table.AddRow(row.ToArray());
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"Merged {common.Count} scan(s) from {folders.Length} predictions{(weights is null ? "" : $" (weights {string.Join(", ", weights.Select(w => w.ToString(CultureInfo.InvariantCulture)))})")} into {Path.GetFullPath(output)}."));
        return 0;
    }
}
