using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// 2D ResNet throughput: one forward pass (eval mode, no gradients) and one full training step (forward, cross-entropy,
/// backward, Adam step) per invocation, so images/s = batch / mean time. 28×28 inputs use the small-input stem
/// (3×3 stride-1 conv, no max-pool), 224×224 the ImageNet stem. A workload reads "R{depth}-{size}-b{batch}".
/// The default set runs in minutes on 2 cores; MEDVISION_BENCH_FULL=1 adds the rest (ResNet-50 and 224×224 at large
/// batches take several seconds to a minute per training step on 2 cores).
/// </summary>
public class ResNetThroughputBenchmarks : ClassifierBenchmark
{
    /// <summary>The workloads measured by default, and all of them with MEDVISION_BENCH_FULL=1.</summary>
    public static IEnumerable<string> Workloads()
    {
        string[] fast = { "R18-28-b1", "R18-28-b32", "R18-28-b128", "R50-28-b32", "R18-224-b1", "R18-224-b32", "R50-224-b1" };
        string[] slow = { "R50-28-b1", "R50-28-b128", "R18-224-b128", "R50-224-b32", "R50-224-b128" };
        return BenchmarkSettings.Full ? fast.Concat(slow) : fast;
    }

    /// <summary>Depth, input size and batch, e.g. R18-28-b128.</summary>
    [ParamsSource(nameof(Workloads))]
    public string Workload { get; set; } = "R18-28-b32";

    protected override ClassifierWorkload CreateWorkload(Device device)
    {
        var parts = Workload.Split('-');
        int depth = BenchmarkSettings.ParseInt(parts[0][1..]);
        int size = BenchmarkSettings.ParseInt(parts[1]);
        int batch = BenchmarkSettings.ParseInt(parts[2][1..]);
        var stem = size < 64 ? ResNetStem.SmallInput : ResNetStem.ImageNet;
        var model = depth == 50 ? ResNet.ResNet50(10, 3, 2, stem) : ResNet.ResNet18(10, 3, 2, stem);
        return new(model, new long[] { batch, 3, size, size }, 10, device);
    }
}
