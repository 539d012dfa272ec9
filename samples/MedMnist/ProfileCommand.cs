using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Optim;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>profile</c> command: runs a few training steps of <c>train</c>'s model on a MedMNIST dataset under the
/// autograd profiler and prints where the time goes, operator by operator (PyTorch's
/// <c>prof.key_averages().table()</c>), with each step's data, forward, backward and optimizer phases as ranges;
/// optionally a Chrome trace of every operator.
/// </summary>
internal static class ProfileCommand
{
    private static readonly string[] SortKeys = ["self", "total", "calls", "memory", "self-memory"];

    public static Command Create()
    {
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped); 3-D ones too.");
        var dataFile = ModelOptions.DataFile();
        var model = ModelOptions.Architecture();
        var resolution = ModelOptions.Resolution();
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var steps = new Option<int>("--steps") { Description = "Training steps profiled.", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var warmup = new Option<int>("--warmup") { Description = "Training steps run before profiling (first-call costs: oneDNN primitives, allocator caches).", DefaultValueFactory = _ => 1 }.AtLeast(0);
        var inference = new Option<bool>("--inference") { Description = "Profile the forward pass only, in evaluation mode without gradients, as a predictor runs it." };
        var recordShapes = new Option<bool>("--record-shapes") { Description = "Record each operator's input shapes, and list the rows per shape." };
        var profileMemory = new Option<bool>("--profile-memory") { Description = "Record the CPU memory each operator allocates (and add memory columns)." };
        var sort = new Option<string>("--sort") { Description = "Sort the rows by self (self CPU time), total (CPU time with the operators inside), calls, memory or self-memory (these two with --profile-memory).", DefaultValueFactory = _ => "self" }.OneOf(SortKeys);
        var rows = new Option<int>("--rows") { Description = "Rows of the table.", DefaultValueFactory = _ => 25 }.AtLeast(1);
        var trace = new Option<string?>("--trace") { Description = "FILE: also write a Chrome trace of every operator (open it in chrome://tracing or ui.perfetto.dev).", HelpName = "FILE" };
        var seed = new Option<int>("--seed") { Description = "Seed of weights and shuffling.", DefaultValueFactory = _ => 0 };
        var device = ModelOptions.DeviceChoice();
        var threads = ModelOptions.Threads();
        var command = new Command("profile", "Profile training (or inference) steps operator by operator with libtorch's autograd profiler.")
        {
            dataset, dataFile, model, resolution, batch, steps, warmup, inference, recordShapes, profileMemory, sort, rows, trace, seed, device, threads,
        };
        command.Check(r => r.GetValue(sort) is "memory" or "self-memory" && !r.GetValue(profileMemory) ? $"--sort {r.GetValue(sort)} sorts by the memory that --profile-memory records: give it too." : null);
        command.SetAction(r => Run(r.GetValue(dataset), r.GetValue(dataFile), r.GetValue(model)!, r.GetValue(resolution), r.GetResult(resolution) is { Implicit: false }, r.GetValue(batch),
            r.GetValue(steps), r.GetValue(warmup), r.GetValue(inference), r.GetValue(recordShapes), r.GetValue(profileMemory), r.GetValue(sort)!, r.GetValue(rows), r.GetValue(trace),
            r.GetValue(seed), Device.Parse(r.GetValue(device)!), r.GetValue(threads)));
        return command;
    }

    private static int Run(string? datasetName, string? dataFile, string modelName, int resolution, bool resolutionGiven, int batch, int steps, int warmup, bool inference,
        bool recordShapes, bool profileMemory, string sort, int rows, string? trace, int seed, Device device, int threads)
    {
        Tensors.NumThreads = threads;
        var data = TrainCommand.LoadDataset(datasetName, dataFile);
        var info = data.Info!;
        resolution = TrainCommand.Resolution(info, data.Train, resolution, resolutionGiven);
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(device));
        if (device.IsCuda)
            AnsiConsole.MarkupLine("[yellow]Note:[/] the profiler times CUDA operators on the CPU, as they are launched; each step ends with a synchronisation, whose wait the step range includes.");

        // train's preprocessing and model; Adam at train's default learning rate
        var loader = new DataLoader(new MedMnistImageSource(data.Train), new DataLoaderOptions
        {
            BatchSize = batch, Shuffle = true, Seed = seed, DropLast = true, Transform = TrainCommand.Preprocessing(data.Train.SampleShape[0], resolution, info.Is3D),
            LabelKind = info.Task == MedVision.Nets.Metrics.MedMnistTask.MultiLabel ? LabelKind.MultiLabel : LabelKind.ClassIndex, Device = device,
        });
        int needed = warmup + steps;
        int perEpoch = data.Train.Count / batch;
        if (perEpoch == 0) throw new ArgumentException($"--batch {batch} is larger than the {data.Train.Count} training images of {info.Name}.");
        Tensors.ManualSeed((ulong)seed);
        using var network = TrainCommand.CreateModel(modelName, resolution, info);
        network.To(device);
        var task = new ClassificationTask(network, info.Task);
        using var optimizer = new Adam(network.Parameters().ToList(), learningRate: 1e-3);
        if (inference) network.Eval();
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Profiling {steps} {(inference ? "inference" : "training")} step(s) of {modelName} at {resolution}{(info.Is3D ? "³" : "²")} on {info.Name}, batch {batch}, after {warmup} unprofiled; {Tensors.NumThreads} intra-op thread(s)")));

        AutogradProfiler? profiler = null;
        var wall = new List<double>();
        long[]? inputShape = null;
        int step = 0;
        try
        {
            foreach (var epoch in Enumerable.Range(0, (needed + perEpoch - 1) / perEpoch))
            {
                using var batches = loader.Epoch(epoch).GetEnumerator();
                while (step < needed)
                {
                    if (step == warmup) profiler = AutogradProfiler.Start(recordShapes, profileMemory);
                    var clock = Stopwatch.StartNew();
                    using (var range = profiler is null ? null : AutogradProfiler.RecordFunction($"step {step - warmup + 1}"))
                    {
                        Batch current;
                        using (profiler is null ? null : AutogradProfiler.RecordFunction("data"))
                        {
                            if (!batches.MoveNext()) break;
                            current = batches.Current;
                        }
                        using var owned = current;
                        inputShape ??= current.Images.Shape;
                        using var scope = Tensors.NewDisposeScope();
                        if (inference)
                        {
                            using var noGrad = Tensors.NoGrad();
                            using (profiler is null ? null : AutogradProfiler.RecordFunction("forward")) task.PredictScores(current);
                        }
                        else
                        {
                            optimizer.ZeroGrad();
                            Tensor loss;
                            using (profiler is null ? null : AutogradProfiler.RecordFunction("forward")) loss = task.ComputeLoss(current, 0).Total;
                            using (profiler is null ? null : AutogradProfiler.RecordFunction("backward")) loss.Backward();
                            using (profiler is null ? null : AutogradProfiler.RecordFunction("optimizer step")) optimizer.Step();
                        }
                        if (device.IsCuda) Tensors.Cuda.Synchronize(Math.Max(0, device.Index));
                    }
                    if (step >= warmup) wall.Add(clock.Elapsed.TotalMilliseconds);
                    step++;
                }
                if (step >= needed) break;
            }
            var profile = profiler!.Stop();
            var key = sort switch
            {
                "total" => ProfilerSortKey.CpuTime,
                "calls" => ProfilerSortKey.Count,
                "memory" => ProfilerSortKey.CpuMemory,
                "self-memory" => ProfilerSortKey.SelfCpuMemory,
                _ => ProfilerSortKey.SelfCpuTime,
            };
            // the table is plain text in fixed columns: printed as it is, not through Spectre's markup
            Console.Write(profile.Table(key, rows, groupByInputShape: recordShapes));
            var phases = profile.KeyAverages().Where(a => a.Name is "data" or "forward" or "backward" or "optimizer step").ToList();
            double stepTotal = profile.Events.Where(e => e.Depth == 0 && e.Name.StartsWith("step ", StringComparison.Ordinal)).Sum(e => e.DurationMicroseconds);
            var split = string.Join(", ", phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {p.CpuTimeTotalMicroseconds / wall.Count / 1e3:F1} ms ({100 * p.CpuTimeTotalMicroseconds / stepTotal:F0}%)")));
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Per step (mean of {wall.Count}): {wall.Average():F1} ms wall; {split}")));
            // The forward pass's arithmetic (ModelSummary's multiply-adds of the convolutions, linear layers and attention, for one
            // sample times the batch) over its measured time: how close the step runs to the processor's peak.
            var forward = phases.FirstOrDefault(p => p.Name == "forward");
            if (inputShape is not null && forward is not null)
            {
                long[] one = [1, .. inputShape[1..]];
                double macs = MedVision.Torch.Nn.ModelSummary.Create(network, one).TotalMultiplyAccumulates * (double)batch;
                double seconds = forward.CpuTimeTotalMicroseconds / wall.Count / 1e6;
                AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"Forward: {macs / 1e9:F2} G multiply-adds per step (convolutions, linear layers, attention) in {seconds * 1e3:F1} ms: {2 * macs / seconds / 1e9:F1} GFLOP/s")));
            }
            if (trace is not null)
            {
                profile.ExportChromeTrace(trace);
                AnsiConsole.MarkupLine(Markup.Escape($"Chrome trace of {profile.Events.Count} operator calls: {Path.GetFullPath(trace)}"));
            }
            var top = profile.KeyAverages().Where(a => !a.Name.StartsWith("step ", StringComparison.Ordinal) && a.Name is not ("data" or "forward" or "backward" or "optimizer step"))
                .MaxBy(a => a.SelfCpuTimeTotalMicroseconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT profile {modelName} {info.Name} resolution={resolution} batch={batch} mode={(inference ? "inference" : "training")} steps={wall.Count} step_ms={wall.Average():F1} operator_calls={profile.Events.Count} top_self={top?.Name ?? "none"}"));
            return 0;
        }
        finally
        {
            profiler?.Dispose();
        }
    }
}
