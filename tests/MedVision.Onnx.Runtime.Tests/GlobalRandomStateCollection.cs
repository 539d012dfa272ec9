namespace MedVision.Onnx.Runtime.Tests;

/// <summary>
/// Tests that build networks right after <c>Tensors.ManualSeed</c> need libtorch's process-wide random generator to
/// themselves: xunit runs test classes in parallel, and another class's draws between the seed and the build would
/// give other weights (a test whose data rests on those weights then fails now and then).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomStateCollection
{
    public const string Name = "Global random state (runs alone)";
}
