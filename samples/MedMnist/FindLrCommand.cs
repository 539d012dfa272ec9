using System.CommandLine;
using System.Globalization;
using System.Text;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>find-lr</c> command: the learning-rate range test on a MedMNIST dataset, with the model and preprocessing
/// that <c>train</c> would use, to pick --lr (the peak for --schedule onecycle).
/// </summary>
internal static class FindLrCommand
{
    public static Command Create()
    {
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped); 3-D ones too.");
        var dataFile = new Option<string?>("--data-file") { Description = "Read the dataset from this .npz file (as train does)." };
        var model = ModelOptions.Architecture();
        var resolution = new Option<int>("--resolution") { Description = "28 (small-input stem) or 224 (ImageNet stem on upsampled images); 2-D images only (volumes at their own size).", DefaultValueFactory = _ => 28 }.OneOf(28, 224);
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var start = new Option<double>("--start") { Description = "Learning rate of the first step.", DefaultValueFactory = _ => 1e-7 }.Positive();
        var end = new Option<double>("--end") { Description = "Learning rate of the last step.", DefaultValueFactory = _ => 10 }.Positive();
        var steps = new Option<int>("--steps") { Description = "Training steps of the sweep (rates grow geometrically); it stops early once the smoothed loss exceeds 5× its lowest.", DefaultValueFactory = _ => 100 }.AtLeast(2);
        var seed = new Option<int>("--seed") { Description = "Seed of weights and shuffling.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for lr-finder.svg (the curve) and lr-finder.csv.", DefaultValueFactory = _ => "runs/find-lr" };
        var optimization = new OptimizationCommandLine();
        var command = new Command("find-lr", "Run the learning-rate range test (Smith; fast.ai's lr_find) and suggest --lr for train.")
        {
            dataset, dataFile, model, resolution, batch, start, end, steps, seed, device, threads, output,
        };
        optimization.AddOptimizerTo(command);
        command.Check(r => r.GetValue(end) <= r.GetValue(start) ? $"--end {r.GetValue(end)} must be above --start {r.GetValue(start)}." : null);
        command.SetAction(r => Run(r.GetValue(dataset), r.GetValue(dataFile), r.GetValue(model)!, r.GetValue(resolution), r.GetResult(resolution) is { Implicit: false }, r.GetValue(batch),
            new LearningRateFinderOptions { StartLearningRate = r.GetValue(start), EndLearningRate = r.GetValue(end), Steps = r.GetValue(steps) },
            r.GetValue(seed), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!, optimization.Read(r)));
        return command;
    }

    private static int Run(string? datasetName, string? dataFile, string modelName, int resolution, bool resolutionGiven, int batch, LearningRateFinderOptions options,
        int seed, Device device, int threads, string output, OptimizationRecipe optimization)
    {
        Tensors.NumThreads = threads;
        var data = TrainCommand.LoadDataset(datasetName, dataFile);
        var info = data.Info!;
        resolution = TrainCommand.Resolution(info, data.Train, resolution, resolutionGiven);
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(device));

        // The preprocessing and model of train.
        var loader = new DataLoader(new MedMnistImageSource(data.Train), new DataLoaderOptions
        {
            BatchSize = batch, Shuffle = true, Seed = seed, Transform = TrainCommand.Preprocessing(data.Train.SampleShape[0], resolution, info.Is3D),
            LabelKind = info.Task == MedVision.Nets.Metrics.MedMnistTask.MultiLabel ? LabelKind.MultiLabel : LabelKind.ClassIndex, Device = device,
        });
        Tensors.ManualSeed((ulong)seed);
        using var network = TrainCommand.CreateModel(modelName, resolution, info);
        network.To(device);
        var task = new ClassificationTask(network, info.Task);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Range test: {modelName} on {info.Name} (train {data.Train.Count}, batch {batch}), {optimization.DescribeOptimizer()}, learning rate {options.StartLearningRate:G3} → {options.EndLearningRate:G3} in {options.Steps} steps")));

        var sweep = LearningRateFinder.Run(task, loader, optimization.OptimizerFactory(options.StartLearningRate), options);

        Directory.CreateDirectory(output);
        var csv = new StringBuilder("step,learning_rate,loss,smoothed_loss\n");
        for (int i = 0; i < sweep.LearningRates.Count; i++)
            csv.Append(CultureInfo.InvariantCulture, $"{i},{sweep.LearningRates[i]:R},{sweep.Losses[i]:R},{sweep.SmoothedLosses[i]:R}\n");
        AtomicFile.WriteAllText(Path.Combine(output, "lr-finder.csv"), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(output, "lr-finder.svg"), sweep.ToChart($"Learning-rate range test: {modelName} on {info.Name}").ToSvg());

        var full = Path.GetFullPath(output);
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{sweep.LearningRates.Count} steps{(sweep.Diverged ? $", stopped when the loss diverged at {sweep.LearningRates[^1]:G3}" : "")}; lowest smoothed loss {sweep.SmoothedLosses.Min():F4} at {sweep.MinimumLossLearningRate:G3}")));
        AnsiConsole.MarkupLine(Markup.Escape($"Curve: {full}/lr-finder.svg · values: {full}/lr-finder.csv"));
        if (sweep.SuggestedLearningRate is double suggested)
        {
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Steepest descent at {suggested:G3} (a tenth of the minimum: {sweep.MinimumLossLearningRate / 10:G3}). Try: medmnist train --optimizer {optimization.Optimizer} --lr {suggested:G2}, also as the peak of --schedule onecycle")));
        }
        else
        {
            AnsiConsole.MarkupLine("The smoothed loss never fell: widen the range (--start, --end) or take more --steps.");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT find-lr {modelName} {info.Name} steps={sweep.LearningRates.Count} diverged={(sweep.Diverged ? "true" : "false")} suggested_lr={(sweep.SuggestedLearningRate is double s ? s.ToString("G6", CultureInfo.InvariantCulture) : "none")} min_loss_lr={sweep.MinimumLossLearningRate:G6}"));
        return 0;
    }
}
