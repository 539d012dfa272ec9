using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Npy;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The <c>predict</c> command: segments NIfTI scans with the network <c>train</c> wrote, prepared as in training, and
/// writes each label map on its scan's grid (to overlay in ITK-SNAP or 3D Slicer), with each class's volume; with a
/// network <c>images</c> wrote, segments JPEG or PNG images and writes each mask as a PNG (black and white for two
/// classes, else class indices) with an overlay, and each class's share of the image; with <c>--probabilities</c>, also
/// the class probabilities of the same pass.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var modelFile = new Option<string[]>("--model")
        {
            Description = "The model file train or images wrote (OUTPUT/model.safetensors), or an ONNX file export wrote (run by ONNX Runtime on the CPU). Give --model more than once to predict with an ensemble: the models' probabilities averaged (runs of different seeds, or folds; they must share classes, preparation and window); or give an ensemble manifest (ensemble.json), which may record the ensemble's post-processing.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--output") { Description = "Folder for the label maps (<scan>.seg.nii.gz; for images <image>.mask.png and <image>.overlay.png).", DefaultValueFactory = _ => "segmentations" };
        var keepLargest = PostprocessingOptions.KeepLargest();
        var noPostprocessing = PostprocessingOptions.None();
        var probabilities = new Option<bool>("--probabilities")
        {
            Description = "Also write each input's class probabilities from the same pass (nnU-Net's --save_probabilities): <scan>.probabilities.nii.gz, a float32 volume per class on the scan's grid; for images <image>.probabilities.npy, float32 (classes, H, W) on the image's size.",
        };
        var mirror = new Option<bool>("--mirror") { Description = "Average the probabilities over the input flipped along every combination of its axes (8 passes for scans, 4 for images; nnU-Net's test-time mirroring)." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var scans = new Argument<string[]>("inputs") { Description = "NIfTI files (.nii, .nii.gz; a 4-D file's volumes are the channels, in the training order), or for a 2-D model JPEG or PNG images.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Segment NIfTI scans (or, with a 2-D model, images) with a trained U-Net and write label maps on each scan's grid (or PNG masks).") { modelFile, output, keepLargest, noPostprocessing, probabilities, mirror, device, threads, scans };
        command.Check(r => SegmentationModels.Conflict(r.GetValue(modelFile)!) ?? PostprocessingOptions.Conflict(r.GetValue(keepLargest), r.GetValue(noPostprocessing)));
        command.SetAction(r => Run(r.GetValue(modelFile)!, r.GetValue(output)!, (r.GetValue(keepLargest), r.GetValue(noPostprocessing)), r.GetValue(probabilities), r.GetValue(mirror), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(scans)!));
        return command;
    }

    private static int Run(string[] modelPaths, string outputFolder, (bool All, bool None) keepLargest, bool withProbabilities, bool mirror, Device device, int threads, string[] scans)
    {
        Tensors.NumThreads = threads;
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(device));
        var modelPath = modelPaths[0];
        if (SegmentationModels.ReadCard(modelPaths).SpatialDims == 2) return RunImages(modelPaths, outputFolder, keepLargest, withProbabilities, mirror, device, scans);
        using var predictor = SegmentationModels.LoadScans(modelPaths, device);
        if (mirror) predictor.Flips = TestTimeFlips.Horizontal | TestTimeFlips.Vertical | TestTimeFlips.Depth;
        var card = predictor.Card!;
        AnsiConsole.MarkupLine(Markup.Escape($"{Describe(modelPaths, predictor.EnsembleSize)}: U-Net {string.Join("/", card.Features)}, classes {string.Join(", ", card.ClassNames)}, "
            + $"{card.InChannels} channel(s){(card.Modalities is { } m ? $" ({string.Join(", ", m)})" : "")}, window {string.Join("×", card.WindowSize)}"
            + $"{(card.Orientation is { } o ? $", reoriented to {o}" : "")}{(card.Spacing is { } mm ? $", {string.Join(" × ", mm.Select(v => v.ToString(CultureInfo.InvariantCulture)))} mm voxels" : "")}"));
        (predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground) = PostprocessingOptions.Apply(predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground, card.ClassNames, keepLargest.All, keepLargest.None, SegmentationModels.Source(modelPaths));
        Directory.CreateDirectory(outputFolder);
        var table = new Table().AddColumn("scan").AddColumn("label map");
        foreach (var name in card.ClassNames.Skip(1)) table.AddColumn(new TableColumn($"{name} mL").RightAligned());
        foreach (var scan in scans)
        {
            var channels = NiftiReader.ReadVolumes(scan);
            if (channels.Count != card.InChannels)
                throw new ArgumentException($"{scan} holds {channels.Count} volume(s); the network was trained on {card.InChannels} channels.");
            var (map, probabilityMaps) = withProbabilities ? predictor.PredictWithProbabilities(channels) : (predictor.Predict(channels), null);
            var name = Path.GetFileName(scan);
            foreach (var extension in new[] { ".nii.gz", ".nii" })
                if (name.EndsWith(extension, StringComparison.OrdinalIgnoreCase)) name = name[..^extension.Length];
            var path = Path.Combine(outputFolder, name + SegmentationOutputs.ScanLabels);
            SegmentationOutputs.WriteLabels(path, map, card.ClassNames.Count);
            if (probabilityMaps is not null) SegmentationOutputs.WriteProbabilities(Path.Combine(outputFolder, name + SegmentationOutputs.ScanProbabilities), probabilityMaps);
            table.AddRow([Markup.Escape(scan), Markup.Escape(path), .. SegmentationOutputs.VolumeCells(map, card.ClassNames.Count)]);
        }
        AnsiConsole.Write(table);
        return 0;
    }

    private static int RunImages(string[] modelPaths, string outputFolder, (bool All, bool None) keepLargest, bool withProbabilities, bool mirror, Device device, string[] images)
    {
        var modelPath = modelPaths[0];
        using var predictor = SegmentationModels.LoadImages(modelPaths, device);
        if (mirror) predictor.Flips = TestTimeFlips.Horizontal | TestTimeFlips.Vertical;
        var card = predictor.Card!;
        AnsiConsole.MarkupLine(Markup.Escape($"{Describe(modelPaths, predictor.EnsembleSize)}: 2-D U-Net {string.Join("/", card.Features)}, classes {string.Join(", ", card.ClassNames)}, "
            + $"{card.InChannels} channel(s){(card.ImageSize is [var h, var w] ? $", images resized to {h}×{w}" : "")}"));
        (predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground) = PostprocessingOptions.Apply(predictor.KeepLargestComponentClasses, predictor.KeepLargestForeground, card.ClassNames, keepLargest.All, keepLargest.None, SegmentationModels.Source(modelPaths));
        Directory.CreateDirectory(outputFolder);
        var table = new Table().AddColumn("image").AddColumn("mask");
        foreach (var name in card.ClassNames.Skip(1)) table.AddColumn(new TableColumn($"{name} %").RightAligned());
        foreach (var path in images)
        {
            var image = ImageCodec.DecodeFile(path);
            var (map, probabilityMaps) = withProbabilities ? predictor.PredictWithProbabilities(image) : (predictor.Predict(image), null);
            var stem = Path.Combine(outputFolder, Path.GetFileNameWithoutExtension(path));
            if (probabilityMaps is not null) SegmentationOutputs.WriteProbabilities(stem + SegmentationOutputs.ImageProbabilities, probabilityMaps, image.Height, image.Width);
            SegmentationOutputs.WriteMask(stem + SegmentationOutputs.ImageMask, map, card.ClassNames.Count);
            ImageCodec.Save(stem + ".overlay.png", map.Overlay(image));
            table.AddRow([Markup.Escape(path), Markup.Escape(stem + SegmentationOutputs.ImageMask), .. SegmentationOutputs.ShareCells(map, card.ClassNames.Count)]);
        }
        AnsiConsole.Write(table);
        return 0;
    }

    // "model.safetensors", "a.safetensors and 2 more (an ensemble: probabilities averaged)", "ensemble.json (an ensemble of 3 models: probabilities averaged)".
    private static string Describe(string[] modelPaths, int members) =>
        Path.GetFileName(modelPaths[0]) + (modelPaths.Length > 1 ? $" and {modelPaths.Length - 1} more (an ensemble: probabilities averaged)"
            : SegmentationModels.IsManifest(modelPaths[0]) ? $" (an ensemble of {members} model{(members == 1 ? "" : "s")}: probabilities averaged)" : "");
}
