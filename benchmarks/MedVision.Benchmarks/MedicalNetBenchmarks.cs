using BenchmarkDotNet.Attributes;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// MedicalNet's 3-D ResNets (<see cref="MedicalNet"/>: 7³ stride-2 stem and max pool, layer3 and layer4 dilated at
/// layer2's resolution, output stride 8) on one-channel 64³ volumes with a 2-class head: forward (eval, no gradients)
/// and one training step (cross-entropy, backward, Adam), as when fine-tuning MedicalNet's weights.
/// </summary>
public class MedicalNetBenchmarks : ClassifierBenchmark
{
    /// <summary>10 (basic blocks [1, 1, 1, 1]) or 50 (bottlenecks [3, 4, 6, 3]).</summary>
    [Params(10, 50)]
    public int Depth { get; set; } = 10;

    [Params(1, 2)]
    public int Batch { get; set; } = 1;

    protected override ClassifierWorkload CreateWorkload(Device device)
        => new(MedicalNet.CreateBuilder(Depth).WithClasses(2).Build(), new long[] { Batch, 1, 64, 64, 64 }, 2, device);
}
