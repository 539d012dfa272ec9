namespace MedVision.Nets.Explainability;

/// <summary>What <see cref="ParameterRandomization.Run"/> measured.</summary>
/// <param name="Order">Cascading or independent randomisation.</param>
/// <param name="TargetClasses">The class every map explains: the trained model's prediction unless chosen.</param>
/// <param name="Steps">One per layer or block, in the order they were randomised (from the output towards the input).</param>
public sealed record ParameterRandomizationResult(RandomizationOrder Order, IReadOnlyList<long> TargetClasses, IReadOnlyList<RandomizationStep> Steps)
{
    /// <summary>The class every map explains: the trained model's prediction unless chosen.</summary>
    public IReadOnlyList<long> TargetClasses { get; init; } = TargetClasses ?? throw new ArgumentNullException(nameof(TargetClasses));

    /// <summary>One per layer or block, in the order they were randomised (from the output towards the input).</summary>
    public IReadOnlyList<RandomizationStep> Steps { get; init; } = Steps ?? throw new ArgumentNullException(nameof(Steps));
}
