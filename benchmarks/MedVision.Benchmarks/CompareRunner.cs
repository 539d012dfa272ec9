using System.Diagnostics;
using System.Globalization;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Benchmarks;

/// <summary>
/// The C# half of benchmarks/compare/run.sh: the workloads of benchmarks/compare/compare.py timed with a Stopwatch,
/// printed as "RESULT name median_seconds items" lines (items per timed call: images, or ops for the add).
/// </summary>
public static class CompareRunner
{
    /// <summary>Workload names, in the order they run by default; shared with compare.py.</summary>
    public static readonly string[] Workloads = { "r18_28_train_b128", "r18_28_infer_b128", "r18_28_infer_b1", "add_4x4" };

    private static readonly System.Text.RegularExpressions.Regex WorkloadPattern = new(@"^r(18|50)_(28|224)_(train|infer)_b([1-9][0-9]*)$");

    private static bool Amp;

    public static int Run(string[] args)
    {
        // --no-onednn: leave convolutions to libtorch's own choice (Tensors.RouteConvolutionsThroughOneDnn = false).
        if (args.Contains("--no-onednn")) Tensors.RouteConvolutionsThroughOneDnn = false;
        // --no-prepack: reorder convolution weights on every inference call (Tensors.PrepackConvolutionWeights = false).
        if (args.Contains("--no-prepack")) Tensors.PrepackConvolutionWeights = false;
        // --amp: forward passes and the loss under Tensors.Autocast() (bfloat16 on the CPU), as compare.py --amp.
        Amp = args.Contains("--amp");
        args = args.Where(a => a is not ("--no-onednn" or "--no-prepack" or "--amp")).ToArray();
        var selected = args.Length == 0 ? Workloads : args;
        var unknown = selected.FirstOrDefault(n => n != "add_4x4" && !WorkloadPattern.IsMatch(n));
        if (unknown is not null)
        {
            Console.Error.WriteLine($"error: unknown workload '{unknown}'; known: add_4x4 and r{{18|50}}_{{28|224}}_{{train|infer}}_b{{batch}}, e.g. {string.Join(", ", Workloads)}.");
            return 2;
        }
        Console.WriteLine($"MedVision.Torch over libtorch {Tensors.Version}, oneDNN routing {Tensors.RouteConvolutionsThroughOneDnn}, pre-packed weights {Tensors.PrepackConvolutionWeights}, autocast bfloat16 {Amp}");
        foreach (var name in selected)
        {
            Tensors.ManualSeed(0);
            var (seconds, items) = name == "add_4x4" ? AddOverhead() : ResNetWorkload(name);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {name} {seconds:E6} {items}"));
        }
        return 0;
    }

    /// <summary>
    /// r{18|50}_{28|224}_{train|infer}_b{batch}: ResNet-18/50, 10 classes, small-input stem at 28×28 or ImageNet stem
    /// at 224×224 (as compare.py builds them from torchvision); median of 3 training steps after 1 (of 15 after 3 at
    /// batch 1), of 10 inference batches after 2, or of 300 single images after 20.
    /// </summary>
    private static (double, long) ResNetWorkload(string name)
    {
        var m = WorkloadPattern.Match(name);
        int depth = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        int size = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        int batch = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
        var stem = size == 28 ? ResNetStem.SmallInput : ResNetStem.ImageNet;
        ResNet Build() => ResNet.Builder().WithDepth(depth).ForInput(3).WithStem(stem).WithClasses(10).Build();
        return m.Groups[3].Value == "train"
            ? ResNetTraining(Build, size, batch, warmup: batch == 1 ? 3 : 1, repeat: batch == 1 ? 15 : 3)
            : ResNetInference(Build, size, batch, warmup: batch == 1 ? 20 : 2, repeat: batch == 1 ? 300 : 10);
    }

    private static (double, long) ResNetTraining(Func<ResNet> build, int size, int batch, int warmup, int repeat)
    {
        Tensors.NumThreads = BenchmarkSettings.Threads;
        using var model = build();
        model.Train();
        using var optimizer = new Adam(model.Parameters(), 1e-3);
        using var images = Tensors.Randn(batch, 3, size, size);
        using var labels = Tensors.RandInt(0, 10, new long[] { batch });
        double seconds = Median(warmup, repeat, () =>
        {
            using var scope = Tensors.NewDisposeScope();
            optimizer.ZeroGrad();
            Tensor loss;
            using (Tensors.Autocast(enabled: Amp)) loss = Functional.CrossEntropy(model.Call(images), labels);
            loss.Backward();
            optimizer.Step();
            _ = loss.Item();
        });
        return (seconds, batch);
    }

    private static (double, long) ResNetInference(Func<ResNet> build, int size, int batch, int warmup, int repeat)
    {
        Tensors.NumThreads = BenchmarkSettings.Threads;
        using var model = build();
        model.Eval();
        using var images = Tensors.Randn(batch, 3, size, size);
        double seconds = Median(warmup, repeat, () =>
        {
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            using var autocast = Tensors.Autocast(enabled: Amp);
            _ = model.Call(images).Size(0);
        });
        return (seconds, batch);
    }

    private static (double, long) AddOverhead()
    {
        // As benchmarks/compare/tensor_overhead.py: one thread, 4×4 float32, 20,000 adds per timed call.
        Tensors.NumThreads = 1;
        using var a = Tensors.Randn(4, 4);
        using var b = Tensors.Randn(4, 4);
        const int Number = 20_000;
        double seconds = Median(1, 15, () =>
        {
            for (int i = 0; i < Number; i++)
            {
                using var c = a + b;
            }
        });
        Tensors.NumThreads = BenchmarkSettings.Threads;
        return (seconds, Number);
    }

    private static double Median(int warmup, int repeat, Action action)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return repeat % 2 == 1 ? times[repeat / 2] : (times[repeat / 2 - 1] + times[repeat / 2]) / 2;
    }
}
