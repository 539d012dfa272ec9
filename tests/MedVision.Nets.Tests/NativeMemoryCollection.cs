namespace MedVision.Nets.Tests;

/// <summary>
/// Tests that read the process-wide live-tensor counter run alone: xunit runs other test classes in parallel, and
/// their tensors would move the counter.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeMemoryCollection
{
    public const string Name = "Native memory (runs alone)";
}
