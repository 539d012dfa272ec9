using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Npy;
using MedVision.Nets.Inference;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The <c>merge</c> command (nnU-Net's <c>nnUNetv2_ensemble</c>): the probabilities that several <c>predict
/// --probabilities</c> runs saved for the same scans — other models or configurations, runs on other machines —
/// averaged input by input, and each scan's label map (or image's mask) of the mean written as <c>predict</c> writes it.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var predictions = new Option<string[]>("--predictions")
        {
            Description = "A folder predict --probabilities wrote (<scan>.probabilities.nii.gz, or <image>.probabilities.npy); give it once per prediction to merge, at least twice. A scan or image is merged when every folder has it.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var weights = new Option<double[]>("--weight")
        {
            Description = "Each folder's weight in the mean, once per --predictions in the same order (default: equal).",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--output") { Description = "Folder for the merged label maps (<scan>.seg.nii.gz; for images <image>.mask.png) and, with --probabilities, the mean probabilities.", DefaultValueFactory = _ => "merged" };
        var keepLargest = new Option<bool>("--keep-largest") { Description = "Keep only each class's largest connected component of the merged maps." };
        var probabilities = new Option<bool>("--probabilities") { Description = "Also write each input's mean probabilities (as predict --probabilities names them), to merge again or review." };
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

    private const string ScanSuffix = SegmentationOutputs.ScanProbabilities, ImageSuffix = SegmentationOutputs.ImageProbabilities;

    private static int Run(string[] folders, double[]? weights, string output, bool keepLargest, bool writeProbabilities)
    {
        foreach (var folder in folders)
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"--predictions {folder}: no such folder.");
        var scans = Common(folders, ScanSuffix);
        var images = Common(folders, ImageSuffix);
        if (scans.Count + images.Count == 0)
            throw new ArgumentException($"No scan or image has probabilities ({ScanSuffix}, {ImageSuffix}) in every --predictions folder; run predict --probabilities into each.");
        Directory.CreateDirectory(output);
        if (scans.Count > 0) MergeScans(folders, scans, weights, output, keepLargest, writeProbabilities);
        if (images.Count > 0) MergeImages(folders, images, weights, output, keepLargest, writeProbabilities);
        AnsiConsole.MarkupLine(Markup.Escape($"Merged {scans.Count + images.Count} {(images.Count == 0 ? "scan(s)" : scans.Count == 0 ? "image(s)" : "scan(s) and image(s)")} from {folders.Length} predictions"
            + $"{(weights is null ? "" : $" (weights {string.Join(", ", weights.Select(w => w.ToString(CultureInfo.InvariantCulture)))})")} into {Path.GetFullPath(output)}."));
        return 0;
    }

    // The names (without the suffix) every folder has probabilities of, saying what is left out.
    private static List<string> Common(string[] folders, string suffix)
    {
        var names = folders.Select(f => Directory.GetFiles(f, "*" + suffix).Select(p => Path.GetFileName(p)[..^suffix.Length]).ToHashSet(StringComparer.Ordinal)).ToList();
        var common = names[0].Where(n => names.All(set => set.Contains(n))).Order(StringComparer.Ordinal).ToList();
        for (int f = 0; f < folders.Length; f++)
            if (names[f].Count > common.Count)
                AnsiConsole.MarkupLine(Markup.Escape($"{folders[f]}: {names[f].Count - common.Count} file(s) of *{suffix} not in every folder, left out."));
        return common;
    }

    private static SegmentationPostprocessingChoice? KeepLargest(bool keepLargest, int classes) =>
        keepLargest ? new SegmentationPostprocessingChoice(false, [.. Enumerable.Range(1, classes - 1)]) : null;

    private static void MergeScans(string[] folders, List<string> names, double[]? weights, string output, bool keepLargest, bool writeProbabilities)
    {
        var table = new Table().AddColumn("scan").AddColumn("label map");
        int classes = 0;
        foreach (var name in names)
        {
            var mean = SegmentationProbabilities.Average([.. folders.Select(f => NiftiReader.ReadVolumes(Path.Combine(f, name + ScanSuffix)))], weights);
            if (classes == 0)
            {
                classes = mean.Count;
                for (int k = 1; k < classes; k++) table.AddColumn(new TableColumn($"class {k} mL").RightAligned());
            }
            var map = SegmentationProbabilities.Labels(mean, KeepLargest(keepLargest, mean.Count));
            var path = Path.Combine(output, name + SegmentationOutputs.ScanLabels);
            SegmentationOutputs.WriteLabels(path, map, mean.Count);
            if (writeProbabilities) SegmentationOutputs.WriteProbabilities(Path.Combine(output, name + ScanSuffix), mean);
            table.AddRow([Markup.Escape(name), Markup.Escape(path), .. SegmentationOutputs.VolumeCells(map, classes)]);
        }
        AnsiConsole.Write(table);
    }

    private static void MergeImages(string[] folders, List<string> names, double[]? weights, string output, bool keepLargest, bool writeProbabilities)
    {
        var table = new Table().AddColumn("image").AddColumn("mask");
        int classes = 0;
        foreach (var name in names)
        {
            // Each file (classes, H, W) float32, as predict --probabilities writes it.
            var arrays = folders.Select(f => Path.Combine(f, name + ImageSuffix)).Select(path =>
            {
                var array = NpyFormat.ReadFile(path);
                if (array.Shape.Count != 3) throw new ArgumentException($"{path} holds an array of shape ({string.Join(", ", array.Shape)}); image probabilities are (classes, height, width).");
                return (array.Shape, Values: array.ToSingleArray(), Path: path);
            }).ToList();
            var (shape, _, first) = arrays[0];
            foreach (var a in arrays.Where(a => !a.Shape.SequenceEqual(shape)))
                throw new ArgumentException($"{a.Path} is ({string.Join(", ", a.Shape)}) but {first} is ({string.Join(", ", shape)}); merge predictions of one image at one size, with the same classes.");
            int count = shape[0], height = shape[1], width = shape[2], plane = height * width;
            var mean = SegmentationProbabilities.AverageImages([.. arrays.Select(a => Enumerable.Range(0, count).Select(k => a.Values.AsSpan(k * plane, plane).ToArray()).ToList())], height, width, weights);
            if (classes == 0)
            {
                classes = count;
                for (int k = 1; k < classes; k++) table.AddColumn(new TableColumn($"class {k} %").RightAligned());
            }
            var classNames = Enumerable.Range(0, count).Select(k => k == 0 ? "background" : $"class {k}").ToList();
            var map = SegmentationProbabilities.ImageMap(mean, height, width, classNames, KeepLargest(keepLargest, count));
            var path = Path.Combine(output, name + SegmentationOutputs.ImageMask);
            SegmentationOutputs.WriteMask(path, map, count);
            if (writeProbabilities) SegmentationOutputs.WriteProbabilities(Path.Combine(output, name + ImageSuffix), mean, height, width);
            table.AddRow([Markup.Escape(name), Markup.Escape(path), .. SegmentationOutputs.ShareCells(map, classes)]);
        }
        AnsiConsole.Write(table);
    }
}
