using System.CommandLine;
using System.Globalization;
using System.Text;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>faithfulness</c> command: which explanation method finds what a model relies on. For test images it maps the
/// predicted class with Grad-CAM, Grad-CAM++, integrated gradients, GradientSHAP, SmoothGrad, saliency, guided
/// backpropagation, guided Grad-CAM, occlusion sensitivity (<see cref="Explainers"/>; <c>--methods</c> chooses) and a
/// random map (chance), and scores each map by RISE's deletion and insertion curves (<see cref="Faithfulness"/>).
/// </summary>
internal static class FaithfulnessCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The model file to explain (a 2-D ResNet or vision-transformer model file, as train writes it).", Required = true };
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped).");
        var dataFile = new Option<string?>("--data-file") { Description = "Read the dataset from this .npz file." };
        var images = new Option<int>("--images") { Description = "Test images scored (the first N of the test split).", DefaultValueFactory = _ => 100 }.AtLeast(1);
        var steps = new Option<int>("--steps") { Description = "Parts the pixels are deleted or inserted in (each curve has steps + 1 points).", DefaultValueFactory = _ => 28 }.AtLeast(1);
        var insertionStart = new Option<string>("--insertion-start")
        {
            Description = "What insertion starts from: zeros (the normalised mean, as deletion ends) or blur (RISE's Gaussian-blurred image, σ 5, 11 taps).",
            DefaultValueFactory = _ => "zeros",
        }.OneOf("zeros", "blur");
        var methods = Explainers.Option("the random map");
        var threads = SampleCommandLine.Threads();
        var csv = new Option<string?>("--csv") { Description = "FILE: also write every image's deletion and insertion areas per method.", HelpName = "FILE" };
        var command = new Command("faithfulness", "Score explanation methods by RISE's deletion and insertion curves on test images: which maps find what the model relies on.")
        {
            model, dataset, dataFile, images, steps, insertionStart, methods, threads, csv,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(dataset), r.GetValue(dataFile), r.GetValue(images), r.GetValue(steps), r.GetValue(insertionStart) == "blur",
            Explainers.Parse(r.GetValue(methods))!, Explainers.IsAll(r.GetValue(methods)), r.GetValue(threads), r.GetValue(csv)));
        return command;
    }

    private static int Run(string modelPath, string? datasetName, string? dataFile, int count, int steps, bool blurredStart, string[] methodIds, bool allMethods, int threads, string? csv)
    {
        Tensors.NumThreads = threads;
        using var explained = ExplainedModel.Load(modelPath, datasetName, dataFile, "scores", allowVisionTransformer: true);
        var (data, predictor, network, card) = (explained.Data, explained.Predictor, explained.Model, explained.Card);
        count = Math.Min(count, data.Test.Count);
        var size = card.Preprocessing.InputSize;
        var occlusionPatch = Math.Max(1, size[0] / 7);
        // Multi-label models score each label on its own: follow its sigmoid, not a softmax over labels that are not
        // exclusive. A CORAL head's K − 1 cumulative logits all move with one severity score (a softmax over them never
        // moves): follow the probability of its predicted (median) grade, and explain its severity score, as the predictor does.
        var score = explained.Score;
        string followed = score switch
        {
            FaithfulnessScore.Sigmoid => "label's sigmoid probability",
            FaithfulnessScore.CoralGrade => "median grade's probability under the CORAL head (maps of its severity score)",
            _ => "class's softmax probability",
        };
        AnsiConsole.MarkupLine(Markup.Escape($"Model {Path.GetFileName(modelPath)} ({card.Architecture}, input {size[0]}×{size[1]}) on the first {count} test images of {data.Info!.Name}; " +
            $"{steps} steps of deletion towards zeros (the normalised mean) and insertion from {(blurredStart ? "the blurred image (σ 5, 11 taps)" : "zeros")}, following the {followed}; " +
            $"occlusion {occlusionPatch}×{occlusionPatch} patches; the random map seeded per image"));

        using var outer = Tensors.NewDisposeScope();
        var explainers = Explainers.Create(network, methodIds, allMethods, Explainers.Baselines(predictor, data.Train), occlusionPatch, score);
        var names = explainers.Select(e => e.Name).Append("random").ToArray();
        var deletion = new double[names.Length][];
        var insertion = new double[names.Length][];
        for (int m = 0; m < names.Length; m++) (deletion[m], insertion[m]) = (new double[count], new double[count]);
        AnsiConsole.Progress().Start(progress =>
        {
            var task = progress.AddTask("images", maxValue: count);
            for (int i = 0; i < count; i++)
            {
                using var scope = Tensors.NewDisposeScope();
                var image = explained.TestImage(i);
                var input = predictor.Preprocess([image]);
                var targets = explained.PredictedClasses(input);
                long target = targets[0];
                var start = blurredStart ? Faithfulness.Blur(input) : null;
                var random = new Random(i);
                float[][] maps =
                [
                    .. explainers.Select(e => e.Explain(input, targets).ToArray(0)),
                    Enumerable.Range(0, size[0] * size[1]).Select(_ => (float)random.NextDouble()).ToArray(),
                ];
                for (int m = 0; m < names.Length; m++)
                {
                    deletion[m][i] = Faithfulness.Deletion(network, input, maps[m], target, steps: steps, score: score).Area;
                    insertion[m][i] = Faithfulness.Insertion(network, input, maps[m], target, start, steps: steps, score: score).Area;
                }
                task.Increment(1);
            }
        });

        var table = new Table().AddColumn("method").AddColumn(new TableColumn("deletion AUC (lower is better)").RightAligned())
            .AddColumn(new TableColumn("insertion AUC (higher is better)").RightAligned()).AddColumn(new TableColumn("images beating random, deletion / insertion").RightAligned());
        int chance = names.Length - 1;
        for (int m = 0; m < names.Length; m++)
        {
            int winsDeletion = Enumerable.Range(0, count).Count(i => deletion[m][i] < deletion[chance][i]);
            int winsInsertion = Enumerable.Range(0, count).Count(i => insertion[m][i] > insertion[chance][i]);
            table.AddRow(names[m], MeanSd(deletion[m]), MeanSd(insertion[m]), m == chance ? "—" : $"{winsDeletion}/{count} · {winsInsertion}/{count}");
        }
        AnsiConsole.Write(table);
        for (int m = 0; m < names.Length; m++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FAITHFULNESS method={names[m].Replace(' ', '-')} images={count} deletion={deletion[m].Average():F4} insertion={insertion[m].Average():F4}"));
        if (csv is not null)
        {
            var lines = new StringBuilder("image," + string.Join(",", names.SelectMany(m => new[] { $"{m} deletion", $"{m} insertion" })) + "\n");
            for (int i = 0; i < count; i++)
                lines.Append(CultureInfo.InvariantCulture, $"{i},{string.Join(",", Enumerable.Range(0, names.Length).Select(m => string.Create(CultureInfo.InvariantCulture, $"{deletion[m][i]:R},{insertion[m][i]:R}")))}\n");
            var folder = Path.GetDirectoryName(Path.GetFullPath(csv));
            if (folder is not null) Directory.CreateDirectory(folder);
            AtomicFile.WriteAllText(csv, lines.ToString());
            AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(csv)}"));
        }
        return 0;
    }

    private static string MeanSd(double[] values)
    {
        double mean = values.Average();
        double sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
        return string.Create(CultureInfo.InvariantCulture, $"{mean:F3} ± {sd:F3}");
    }
}
