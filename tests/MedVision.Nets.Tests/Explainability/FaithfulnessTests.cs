using MedVision.Nets.Explainability;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

public class FaithfulnessTests
{
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static readonly float[] Perfect = Enumerable.Range(0, 64).Select(i => SquareDetector.InSquare(i) ? 1f : 0f).ToArray();
    private static readonly float[] Reversed = Perfect.Select(v => 1 - v).ToArray();

    [Fact]
    public void Deletion_FollowsTheProbabilityAsTheMapsPositionsAreRemoved_OnePerStep()
    {
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        var perfect = Faithfulness.Deletion(model, input, Perfect, 1, steps: 64, batchSize: 10);
        perfect.Fractions.Should().HaveCount(65);
        for (int k = 0; k <= 64; k++)
        {
            perfect.Fractions[k].Should().Be(k / 64.0);
            // k square pixels gone (the square's 9 first), the square's mean (9 − min(k, 9)) / 9
            perfect.Probabilities[k].Should().BeApproximately(Sigmoid((4 * (9 - Math.Min(k, 9)) / 9.0) - 2), 1e-6, $"point {k}");
        }
        var reversed = Faithfulness.Deletion(model, input, Reversed, 1, steps: 64);
        for (int k = 0; k <= 64; k++)
            reversed.Probabilities[k].Should().BeApproximately(Sigmoid((4 * (9 - Math.Max(0, k - 55)) / 9.0) - 2), 1e-6, $"point {k}");
        perfect.Area.Should().BeLessThan(reversed.Area, "the faithful map removes the evidence first");

        // Fewer steps than positions: ⌊k · 64 / steps⌋ positions at point k; the batch size does not matter.
        var coarse = Faithfulness.Deletion(model, input, Perfect, 1, steps: 7, batchSize: 3);
        coarse.Fractions.Should().Equal(Enumerable.Range(0, 8).Select(k => (k * 64 / 7) / 64.0));
        coarse.Probabilities.Should().Equal(Faithfulness.Deletion(model, input, Perfect, 1, steps: 7, batchSize: 100).Probabilities);
        coarse.Probabilities[1].Should().BeApproximately(Sigmoid(-2), 1e-6, "the first 9 positions are the square's");
    }

    [Fact]
    public void Insertion_RestoresTheMapsPositionsFromTheReplacement()
    {
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        var grey = Tensors.Full(new long[] { 1, 1, 8, 8 }, 0.25);
        var perfect = Faithfulness.Insertion(model, input, Perfect, 1, grey, steps: 64);
        for (int k = 0; k <= 64; k++)
            perfect.Probabilities[k].Should().BeApproximately(Sigmoid((4 * ((Math.Min(k, 9) * 1.0) + ((9 - Math.Min(k, 9)) * 0.25)) / 9.0) - 2), 1e-6, $"point {k}");
        var reversed = Faithfulness.Insertion(model, input, Reversed, 1, grey, steps: 64);
        perfect.Area.Should().BeGreaterThan(reversed.Area);
        // deletion towards the same grey ends where insertion starts
        Faithfulness.Deletion(model, input, Perfect, 1, grey, steps: 64).Probabilities[^1].Should().BeApproximately(perfect.Probabilities[0], 1e-9);
        perfect.Probabilities[^1].Should().BeApproximately(Sigmoid(2), 1e-6);
        new FaithfulnessCurve(new[] { 0.0, 0.5, 1.0 }, new[] { 1.0, 0.5, 0.0 }).Area.Should().Be(0.5);
    }

    [Fact]
    public void BadInput_IsRefusedByName()
    {
        using var model = new SquareDetector();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        model.Train();
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect, 1)).Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        FluentActions.Invoking(() => Faithfulness.Deletion(model, Tensors.Ones(2, 1, 8, 8), Perfect, 1)).Should().Throw<ArgumentException>().WithParameterName("input").WithMessage("*one sample*[2, 1, 8, 8]*");
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect.Take(63).ToArray(), 1)).Should().Throw<ArgumentException>().WithParameterName("map").WithMessage("*63 values*64 positions*");
        var nan = Perfect.ToArray();
        nan[5] = float.NaN;
        FluentActions.Invoking(() => Faithfulness.Insertion(model, input, nan, 1)).Should().Throw<ArgumentException>().WithParameterName("map").WithMessage("Map value 5 is NaN*");
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("targetClass");
        FluentActions.Invoking(() => Faithfulness.Insertion(model, input, Perfect, 1, Tensors.Ones(1, 1, 8, 7))).Should().Throw<ArgumentException>().WithParameterName("replacement");
        FluentActions.Invoking(() => Faithfulness.Deletion(model, input, Perfect, 1, steps: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("steps");
        FluentActions.Invoking(() => Faithfulness.Deletion(x => x.Sum(), input, Perfect, 1)).Should().Throw<InvalidOperationException>().WithMessage("*logits*");
    }
}
