using MedVision.Nets.Explainability;
using MedVision.Nets.Heads;
using MedVision.Nets.Losses;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

/// <summary>
/// Faithfulness curves and occlusion maps of a CORAL head: its K − 1 cumulative logits s + b_k all move with one
/// severity score s, so a softmax over them never moves — the grade's probability does.
/// </summary>
public class CoralExplanationTests
{
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static readonly float[] Perfect = Enumerable.Range(0, 64).Select(i => SquareDetector.InSquare(i) ? 1f : 0f).ToArray();

    private static readonly double[] Biases = [1.5, 0.5, -0.5, -1.5];

    // The square detector's evidence as a CORAL head's severity score: logits s + b_k for the thresholds grade > k.
    private static Tensor Forward(SquareDetector model, Tensor x)
    {
        using var scope = Tensors.NewDisposeScope();
        var s = model.Call(x).Select(1, 1);
        return scope.MoveToOuter(Tensors.Stack(Biases.Select(b => s + b).ToArray(), 1));
    }

    // P(grade = g) of severity s: P(> g − 1) − P(> g), P(> −1) = 1, P(> 4) = 0.
    private static double Grade(double s, int g) => (g == 0 ? 1 : Sigmoid(s + Biases[g - 1])) - (g == 4 ? 0 : Sigmoid(s + Biases[g]));

    [Fact]
    public void CoralGrade_FollowsTheGradesProbability_WhereASoftmaxOverTheCumulativeLogitsNeverMoves()
    {
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        var coral = Faithfulness.Deletion(x => Forward(model, x), input, Perfect, 4, steps: 64, score: FaithfulnessScore.CoralGrade);
        var softmax = Faithfulness.Deletion(x => Forward(model, x), input, Perfect, 3, steps: 64);
        for (int k = 0; k <= 64; k++)
        {
            double s = (4 * (9 - Math.Min(k, 9)) / 9.0) - 2;
            coral.Probabilities[k].Should().BeApproximately(Grade(s, 4), 1e-6, $"point {k}: σ(s − 1.5)");
            softmax.Probabilities[k].Should().BeApproximately(softmax.Probabilities[0], 1e-6, "a softmax of s + b_k does not depend on s");
        }
        coral.Probabilities[0].Should().BeGreaterThan(coral.Probabilities[^1] + 0.3, "removing the square lowers the severe grade's probability");
        // Grade 0 rises as the evidence goes; grades are 0 … 4, one more than the logits.
        var mild = Faithfulness.Insertion(x => Forward(model, x), input, Perfect, 0, steps: 64, score: FaithfulnessScore.CoralGrade);
        mild.Probabilities[0].Should().BeApproximately(Grade(-2, 0), 1e-6);
        mild.Probabilities[^1].Should().BeApproximately(Grade(2, 0), 1e-6);
        FluentActions.Invoking(() => Faithfulness.Deletion(x => Forward(model, x), input, Perfect, 5, score: FaithfulnessScore.CoralGrade))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("targetClass");
    }

    [Fact]
    public void Occlusion_OfACoralHead_MapsTheDropOfTheMedianGradesProbability()
    {
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Ones(1, 1, 8, 8);
        var coral = new OcclusionSensitivity(x => Forward(model, x), [1, 1]) { Score = FaithfulnessScore.CoralGrade };
        using var maps = coral.Compute(input);
        // Severity 2: cumulative probabilities σ(3.5), σ(2.5), σ(1.5), σ(0.5) put the median at grade 4.
        maps.TargetClasses.Should().Equal(4L);
        maps.Scores[0].Should().BeApproximately((float)Grade(2, 4), 1e-6f);
        double drop = Grade(2, 4) - Grade((4 * 8 / 9.0) - 2, 4);
        var values = maps.ToArray(0);
        for (int i = 0; i < 64; i++)
            values[i].Should().BeApproximately(SquareDetector.InSquare(i) ? (float)drop : 0f, 1e-6f, $"position {i}");

        // The softmax default sees nothing: every map value is 0.
        var softmax = new OcclusionSensitivity(x => Forward(model, x), [1, 1]);
        using var blank = softmax.Compute(input, [3]);
        blank.ToArray(0).Should().OnlyContain(v => Math.Abs(v) < 1e-6f);

        // A chosen grade is followed instead; grades past K − 1 are refused.
        using var grade0 = coral.Compute(input, [0]);
        grade0.ToArray(0)[27].Should().BeApproximately((float)(Grade(2, 0) - Grade((4 * 8 / 9.0) - 2, 0)), 1e-6f);
        FluentActions.Invoking(() => coral.Compute(input, [5])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("targetClasses");
        FluentActions.Invoking(() => new OcclusionSensitivity(x => Forward(model, x), [1, 1]) { Score = (FaithfulnessScore)9 })
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Occlusion_WithSigmoid_MapsEachLabelsOwnProbability()
    {
        // Two independent labels (multi-label): logit 0 a constant 3, logit 1 the square's evidence.
        using var model = new SquareDetector();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var offset = Tensors.FromArray(new float[] { 3, 0 });
        var occlusion = new OcclusionSensitivity(x => model.Call(x) + offset, [1, 1]) { Score = FaithfulnessScore.Sigmoid };
        using var maps = occlusion.Compute(Tensors.Ones(1, 1, 8, 8), [1]);
        maps.Scores[0].Should().BeApproximately((float)Sigmoid(2), 1e-6f, "label 1's own sigmoid, not its share of a softmax with label 0");
        maps.ToArray(0)[27].Should().BeApproximately((float)(Sigmoid(2) - Sigmoid((4 * 8 / 9.0) - 2)), 1e-6f);
        SquareDetector.InSquare(27).Should().BeTrue();
    }

    [Fact]
    public void AModelThatEndsInACoralHead_IsReadByItsGrades_OrRefusedByName()
    {
        Tensors.ManualSeed(5);
        using var resnet = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(3).WithSmallInputStem().WithClasses(5).WithCoralHead().Build();
        using var linear = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
        using var sequential = new Sequential(new Flatten(), new CoralHead(3 * 8 * 8, 5));
        resnet.Eval();
        linear.Eval();
        sequential.Eval();
        new OcclusionSensitivity(resnet, [7, 7]).Score.Should().Be(FaithfulnessScore.CoralGrade);
        new OcclusionSensitivity(sequential, [2, 2]).Score.Should().Be(FaithfulnessScore.CoralGrade);
        new OcclusionSensitivity(linear, [7, 7]).Score.Should().Be(FaithfulnessScore.Softmax);

        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Rand(1, 3, 8, 8);
        using (var maps = new OcclusionSensitivity(sequential, [2, 2]).Compute(input))
        {
            var probabilities = OrdinalDecoding.ToClassProbabilities(sequential.Call(input));
            maps.Scores[0].Should().BeApproximately(probabilities.Select(1, maps.TargetClasses[0]).Item<float>(), 1e-6f);
            maps.TargetClasses[0].Should().Be(OrdinalDecoding.ToGrades(sequential.Call(input)).Item<long>(), "the median grade, CORAL's prediction");
        }
        FluentActions.Invoking(() => new OcclusionSensitivity(sequential, [2, 2]) { Score = FaithfulnessScore.Softmax }.Compute(input))
            .Should().Throw<InvalidOperationException>().WithMessage("*ends in a CORAL head*Softmax*would map nothing*");

        var map = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();
        FluentActions.Invoking(() => Faithfulness.Deletion(sequential, input, map, 1))
            .Should().Throw<ArgumentException>().WithParameterName("score").WithMessage("*ends in a CORAL head*FaithfulnessScore.CoralGrade*");
        FluentActions.Invoking(() => Faithfulness.Insertion(resnet, Tensors.Rand(1, 3, 28, 28), new float[28 * 28], 1, score: FaithfulnessScore.Sigmoid))
            .Should().Throw<ArgumentException>().WithParameterName("score");
        Faithfulness.Deletion(sequential, input, map, 4, steps: 4, score: FaithfulnessScore.CoralGrade).Probabilities[0]
            .Should().BeApproximately(OrdinalDecoding.ToClassProbabilities(sequential.Call(input)).Select(1, 4).Item<float>(), 1e-6);
    }
}
