using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Heads;

/// <summary>
/// Ordinal-regression head in the CORAL form (Cao, Mirjalili and Raschka, "Rank consistent ordinal regression for
/// neural networks", Pattern Recognition Letters 2020): one shared weight vector and K−1 ordered biases give K−1
/// cumulative logits, logit_k = w·x + b_k for P(grade &gt; k). Input (N, features), output (N, K−1).
/// Use <see cref="Losses.CoralLoss"/> to train it and <see cref="Losses.OrdinalDecoding"/> to read grades and class probabilities.
/// </summary>
public sealed class CoralHead : Module<Tensor, Tensor>, IResettable
{
    /// <summary>Creates the head for <paramref name="numClasses"/> ordered grades.</summary>
    public CoralHead(long inFeatures, int numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 2);
        InFeatures = inFeatures;
        NumClasses = numClasses;
        DisposeIfThrows(() =>
        {
            RegisterParameter("weight", Tensors.Empty(new[] { 1, inFeatures }));
            RegisterParameter("bias", Tensors.Empty(new long[] { numClasses - 1 }));
            ResetParameters();
        });
    }

    /// <inheritdoc />
    /// <remarks>The weight uniform in ±1/√in_features; the biases ordered and decreasing, as CORAL initialises them.</remarks>
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        var bound = 1.0 / Math.Sqrt(InFeatures);
        Init.Uniform(GetParameter("weight")!, -bound, bound);
        // P(grade > k) falls with k: biases from 1 down to −1.
        var biases = Enumerable.Range(0, NumClasses - 1).Select(k => (float)((NumClasses - 1 - 2.0 * k) / (NumClasses - 1))).ToArray();
        using var values = Tensors.FromArray(biases);
        GetParameter("bias")!.CopyInPlace(values);
    }

    /// <summary>Input features.</summary>
    public long InFeatures { get; }
    /// <summary>Number of ordered grades K.</summary>
    public int NumClasses { get; }

    /// <summary>
    /// Whether <paramref name="model"/>'s output is a CORAL head's cumulative logits, as far as its structure shows: a
    /// ResNet or an MTCSNN built with one, a <see cref="Sequential"/> ending in one, or the head itself.
    /// </summary>
    internal static bool Ends(Module model) => model switch
    {
        CoralHead => true,
        Models.ResNet resnet => resnet.Head is CoralHead,
        Models.Mtcsnn mtcsnn => mtcsnn.Head is CoralHead,
        Sequential sequential => sequential.Children().LastOrDefault() is { } last && Ends(last),
        _ => false,
    };

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var score = Functional.Linear(input, GetParameter("weight")!);
        var logits = score + GetParameter("bias")!;
        return scope.MoveToOuter(logits);
    }
}
