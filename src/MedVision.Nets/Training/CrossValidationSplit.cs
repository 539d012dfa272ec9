using MedVision.Nets.Data.Loading;

namespace MedVision.Nets.Training;

/// <summary>One fold of a cross-validation as its trainer is configured: which samples it trains and validates on.</summary>
public sealed class CrossValidationSplit
{
    internal CrossValidationSplit(int index, int foldCount, int[] trainIndices, int[] validationIndices, ILabeledImageSource train, ILabeledImageSource validation, string? directory)
    {
        Index = index;
        FoldCount = foldCount;
        TrainIndices = trainIndices;
        ValidationIndices = validationIndices;
        Train = train;
        Validation = validation;
        Directory = directory;
    }

    /// <summary>The fold's index, from 0 (its folder is <c>fold-{Index + 1}</c>).</summary>
    public int Index { get; }

    /// <summary>The number of folds.</summary>
    public int FoldCount { get; }

    /// <summary>The source indices the fold trains on, sorted.</summary>
    public IReadOnlyList<int> TrainIndices { get; }

    /// <summary>The source indices the fold validates on (and predicts out of fold), sorted.</summary>
    public IReadOnlyList<int> ValidationIndices { get; }

    /// <summary>The training samples (a <see cref="SubsetSource"/> of the cross-validated source).</summary>
    public ILabeledImageSource Train { get; }

    /// <summary>The validation samples.</summary>
    public ILabeledImageSource Validation { get; }

    /// <summary>The folder of the fold's run, or null when the cross-validation saves nothing.</summary>
    public string? Directory { get; }

    /// <inheritdoc />
    public override string ToString() => $"fold {Index + 1} of {FoldCount}: {TrainIndices.Count} training, {ValidationIndices.Count} validation samples";
}
