using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Inference;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.VolumeFolder;

/// <summary>
/// The <c>predict</c> command: classifies scans (NIfTI files, DICOM series folders) with the model file that
/// <c>train</c> wrote, prepared as in training (orientation, size, window, normalisation from the file's card).
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The model file train wrote (model.safetensors).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var scans = new Argument<string[]>("scans") { Description = "NIfTI files (.nii, .nii.gz) or folders holding one DICOM series each.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", "Classify NIfTI files or DICOM series folders with a model file.") { model, device, scans };
        command.SetAction(r => Run(r.GetValue(model)!, Device.Parse(r.GetValue(device)!), r.GetValue(scans)!));
        return command;
    }

    private static int Run(string modelPath, Device device, string[] scans)
    {
        using var predictor = Predictor.Load(modelPath, device);
        var card = predictor.Card;
        if (card.Preprocessing.InputSize.Count != 3)
            throw new ArgumentException($"{Path.GetFileName(modelPath)} takes 2-D images (input {string.Join("×", card.Preprocessing.InputSize)}); this sample predicts volumes.");
        var window = card.Preprocessing.IntensityWindow is [var center, var width] ? string.Create(CultureInfo.InvariantCulture, $", window {center} ± {width / 2}") : "";
        var crop = card.Preprocessing.CropForeground is { } c ? string.Create(CultureInfo.InvariantCulture, $", cropped to values above {c.Threshold}{(c.Margin > 0 ? $" (margin {c.Margin})" : "")}") : "";
        var normalization = card.Preprocessing.IntensityNormalization is { } n ? $", each volume normalised over its {(n.NonZero ? "non-zero voxels" : "voxels")}" : "";
        AnsiConsole.MarkupLine(Markup.Escape($"Model {Path.GetFileName(modelPath)}: classes {string.Join(", ", card.ClassNames)}, input {string.Join("×", card.Preprocessing.InputSize)}{(card.Preprocessing.Modalities is { } m ? $", subject folders of {string.Join(", ", m)}" : "")}{(card.Preprocessing.Orientation is { } o ? $", reoriented to {o}" : "")}{(card.Preprocessing.Spacing is { } mm ? $", {string.Join(" × ", mm.Select(v => v.ToString(CultureInfo.InvariantCulture)))} mm voxels" : "")}{(card.Preprocessing.AlignModalities == true ? ", modalities aligned" : "")}{(card.Preprocessing.Fit == "crop_or_pad" ? ", cropped or padded to the input size" : "")}{crop}{window}{normalization}"));
        var table = new Table().AddColumn("scan").AddColumn("prediction").AddColumn(new TableColumn("probability").RightAligned());
        var predictions = predictor.PredictFiles(scans);
        for (int i = 0; i < scans.Length; i++)
        {
            var p = predictions[i];
            table.AddRow(Markup.Escape(scans[i]), Markup.Escape($"{p.Label}: {p.LabelName}"), p.Probabilities[p.Label].ToString("F3", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
