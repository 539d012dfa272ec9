using System.CommandLine;
using System.Globalization;
using System.Text;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>sanity-check</c> command: the model-parameter randomisation test of "Sanity checks for saliency maps"
/// (<see cref="ParameterRandomization"/>). The model's layers are re-initialised block by block from the output, and
/// each explanation method's maps of the randomised model (<see cref="Explainers"/>; <c>--methods</c> chooses) are
/// compared with its maps of the trained one. A method whose maps stay similar explains the image rather than the
/// model; the input itself is shown as that control. ResNets are randomised by residual block, vision transformers by
/// encoder layer, their class token and position embeddings (the network's own parameters, step "(model)") last.
/// </summary>
internal static class SanityCheckCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The model file to check (a 2-D ResNet or vision-transformer model file, as train writes it).", Required = true };
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped).");
        var dataFile = new Option<string?>("--data-file") { Description = "Read the dataset from this .npz file." };
        var images = new Option<int>("--images") { Description = "Test images explained (the first N of the test split).", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var blockDepth = new Option<int?>("--block-depth")
        {
            Description = "Layers randomised together: those sharing the first D parts of their name (ResNet 1: stem, stages, head; 2: residual blocks, the default; " +
                "vision transformer 3: encoder layers, the default); 0: one layer per step.",
        }.AtLeast(0);
        var order = new Option<RandomizationOrder>("--order") { Description = "Cascading (each step keeps the layers randomised before) or Independent (one block at a time).", DefaultValueFactory = _ => RandomizationOrder.Cascading }.Known();
        var seed = new Option<long>("--seed") { Description = "Seeds the re-initialisation (step k draws with seed + k).", DefaultValueFactory = _ => 0 };
        var methods = Explainers.Option("the input itself (the control)");
        var threads = SampleCommandLine.Threads();
        var csv = new Option<string?>("--csv") { Description = "FILE: also write every image's rank correlation and SSIM per method and step.", HelpName = "FILE" };
        var command = new Command("sanity-check", "Randomise the model's layers from the output and measure how much each explanation method's maps change (Adebayo et al. 2018): maps that stay alike do not explain the model.")
        {
            model, dataset, dataFile, images, blockDepth, order, seed, methods, threads, csv,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(dataset), r.GetValue(dataFile), r.GetValue(images), r.GetValue(blockDepth), r.GetValue(order), r.GetValue(seed),
            Explainers.Parse(r.GetValue(methods))!, Explainers.IsAll(r.GetValue(methods)), r.GetValue(threads), r.GetValue(csv)));
        return command;
    }

    private static int Run(string modelPath, string? datasetName, string? dataFile, int count, int? blockDepth, RandomizationOrder order, long seed, string[] methodIds, bool allMethods, int threads, string? csv)
    {
        Tensors.NumThreads = threads;
        using var explained = ExplainedModel.Load(modelPath, datasetName, dataFile, "checks", allowVisionTransformer: true);
        var (data, predictor, network, card) = (explained.Data, explained.Predictor, explained.Model, explained.Card);
        count = Math.Min(count, data.Test.Count);
        var size = card.Preprocessing.InputSize;
        var occlusionPatch = Math.Max(1, size[0] / 7);
        // By default one step per residual block (layer1.0, …) or per encoder layer (encoder.layers.0, …).
        blockDepth ??= network is VisionTransformer ? 3 : 2;
        int? depth = blockDepth == 0 ? null : blockDepth;
        AnsiConsole.MarkupLine(Markup.Escape($"Model {Path.GetFileName(modelPath)} ({card.Architecture}, input {size[0]}×{size[1]}) on the first {count} test images of {data.Info!.Name}; " +
            $"{order.ToString().ToLowerInvariant()} randomisation, {(depth is { } d ? $"blocks of name depth {d}" : "one layer per step")}, seed {seed}; " +
            (card.HasCoralHead ? "maps of the severity score of the CORAL head (every grade's)" : "maps of the trained model's predicted classes")));

        using var scope = Tensors.NewDisposeScope();
        var explainers = Explainers.Create(network, methodIds, allMethods, Explainers.Baselines(predictor, data.Train), occlusionPatch, explained.Score)
            .Append(new Explainer("input", "input (control)", "input", (x, t) => new ClassActivationMaps(x.Abs().Sum(new long[] { 1 }, keepDim: true), t, new float[t.Count])))
            .ToArray();
        var batch = Enumerable.Range(0, count).Select(explained.TestImage).ToArray();
        var input = predictor.Preprocess(batch);
        // The trained model's predictions (a CORAL head's median grades: occlusion follows the grade's probability, the
        // gradient methods the severity score every grade moves with), kept while the layers are randomised.
        var targets = explained.PredictedClasses(input);
        var results = new ParameterRandomizationResult[explainers.Length];
        AnsiConsole.Progress().Start(progress =>
        {
            var task = progress.AddTask("methods", maxValue: explainers.Length);
            for (int m = 0; m < explainers.Length; m++)
            {
                results[m] = ParameterRandomization.Run(network, input, explainers[m].Explain, targets, order: order, blockDepth: depth, seed: seed);
                task.Increment(1);
            }
        });

        var steps = results[0].Steps;
        Console.WriteLine($"Methods: {string.Join(", ", explainers.Select(e => $"{e.Short} = {e.Name}"))}.");
        WriteTable("Spearman rank correlation with the trained model's maps (mean over images; near 0: the maps follow the weights)", order, explainers, steps, results, s => s.MeanRankCorrelation);
        WriteTable("SSIM with the trained model's maps (mean over images)", order, explainers, steps, results, s => s.MeanStructuralSimilarity);
        for (int m = 0; m < explainers.Length; m++)
        {
            var last = results[m].Steps[^1];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"SANITY method={explainers[m].LineName.Replace("-(control)", "", StringComparison.Ordinal)} images={count} steps={steps.Count} final_spearman={last.MeanRankCorrelation:F4} final_ssim={last.MeanStructuralSimilarity:F4} undefined={last.UndefinedCount}"));
        }
        if (csv is not null)
        {
            var lines = new StringBuilder("method,step,block,image,spearman,ssim\n");
            for (int m = 0; m < explainers.Length; m++)
                for (int s = 0; s < steps.Count; s++)
                    for (int i = 0; i < count; i++)
                        lines.Append(CultureInfo.InvariantCulture, $"{explainers[m].Name},{s + 1},{steps[s].Block},{i},{results[m].Steps[s].RankCorrelations[i]:R},{results[m].Steps[s].StructuralSimilarities[i]:R}\n");
            var folder = Path.GetDirectoryName(Path.GetFullPath(csv));
            if (folder is not null) Directory.CreateDirectory(folder);
            AtomicFile.WriteAllText(csv, lines.ToString());
            AnsiConsole.MarkupLine(Markup.Escape($"Wrote {Path.GetFullPath(csv)}"));
        }
        return 0;
    }

    private static void WriteTable(string title, RandomizationOrder order, IReadOnlyList<Explainer> explainers, IReadOnlyList<RandomizationStep> steps, ParameterRandomizationResult[] results, Func<RandomizationStep, double> value)
    {
        var table = new Table().Title(title).AddColumn(order == RandomizationOrder.Cascading ? "randomised down to" : "randomised block");
        foreach (var e in explainers) table.AddColumn(new TableColumn(e.Short).RightAligned());
        for (int s = 0; s < steps.Count; s++)
            table.AddRow([steps[s].Block, .. results.Select(r => value(r.Steps[s]).ToString("F2", CultureInfo.InvariantCulture))]);
        AnsiConsole.Write(table);
    }
}
