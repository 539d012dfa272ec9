namespace MedVision.Nets.Tests;

/// <summary>
/// Tests that need libtorch's process-wide random generator to themselves (exact replay after Tensors.ManualSeed)
/// run alone: xunit runs other test classes in parallel, and their draws would interleave.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomStateCollection
{
    public const string Name = "Global random state (runs alone)";
}
