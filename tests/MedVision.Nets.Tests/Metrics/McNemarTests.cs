using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class McNemarTests
{
    [Fact]
    public void WorkedExample_ByHand()
    {
        // 10 samples: both right on 5, only A on 4, only B on 0, neither on 1. Under H0 the 4 discordant samples
        // favour A with probability 1/2 each: P(X ≤ 0) = 1/16, two-sided p = 1/8.
        int[] labels = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0 };
        int[] a = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 1 };
        int[] b = { 0, 1, 2, 0, 1, 0, 1, 2, 0, 1 };
        var test = McNemar.Compare(labels, a, b);
        test.BothCorrect.Should().Be(5);
        test.OnlyACorrect.Should().Be(4);
        test.OnlyBCorrect.Should().Be(0);
        test.NeitherCorrect.Should().Be(1);
        test.PValue.Should().BeApproximately(0.125, 1e-14);
        test.AccuracyA.Should().Be(0.9);
        test.AccuracyB.Should().Be(0.5);
        test.Difference.Should().BeApproximately(0.4, 1e-15);
        test.Warnings.Should().BeEmpty();

        // Swapping the models swaps b and c and keeps p; a balanced split (2 and 2) gives p = 1, capped.
        McNemar.Compare(labels, b, a).PValue.Should().BeApproximately(0.125, 1e-14);
        McNemar.Compare(new[] { 0, 0, 0, 0 }, new[] { 0, 0, 1, 1 }, new[] { 1, 1, 0, 0 }).PValue.Should().Be(1);
    }

    [Fact]
    public void ScoresAndPredictions_GiveTheSameTest()
    {
        var rng = new Random(7);
        int[] labels = Enumerable.Range(0, 100).Select(_ => rng.Next(4)).ToArray();
        var sa = new double[100, 4];
        var sb = new double[100, 4];
        for (int i = 0; i < 100; i++)
            for (int k = 0; k < 4; k++)
            {
                sa[i, k] = rng.NextDouble() + (labels[i] == k ? 0.5 : 0);
                sb[i, k] = rng.NextDouble() + (labels[i] == k ? 0.3 : 0);
            }

        int[] ArgMax(double[,] s) => Enumerable.Range(0, 100).Select(i => Enumerable.Range(0, 4).MaxBy(k => s[i, k])).ToArray();
        var fromScores = McNemar.Compare(MedMnistTask.MultiClass, labels, sa, sb);
        var fromPredictions = McNemar.Compare(labels, ArgMax(sa), ArgMax(sb));
        fromScores.Should().BeEquivalentTo(fromPredictions);
        fromScores.AccuracyA.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.MultiClass, labels, sa));
        var column = new int[100, 1];
        for (int i = 0; i < 100; i++) column[i, 0] = labels[i];
        McNemar.Compare(MedMnistTask.MultiClass, column, sa, sb).Should().BeEquivalentTo(fromScores, "an N×1 label matrix is the same labels");
        FluentActions.Invoking(() => McNemar.Compare(MedMnistTask.MultiLabel, column, sa, sb)).Should().Throw<ArgumentException>().WithParameterName("task");
    }

    [Fact]
    public void BinaryScores_UseTheThreshold()
    {
        int[] labels = { 1, 1, 0, 0 };
        var a = new double[,] { { 0.7 }, { 0.6 }, { 0.4 }, { 0.3 } };
        var b = new double[,] { { 0.7 }, { 0.4 }, { 0.4 }, { 0.3 } };
        McNemar.Compare(MedMnistTask.Binary, labels, a, b).OnlyACorrect.Should().Be(1);
        McNemar.Compare(MedMnistTask.Binary, labels, a, b, threshold: 0.35).OnlyACorrect.Should().Be(0, "at 0.35 both call the second sample positive");
    }

    [Fact]
    public void NoDiscordantSamples_GivesOne_WithTheReason()
    {
        var test = McNemar.Compare(new[] { 0, 1, 1 }, new[] { 0, 1, 0 }, new[] { 0, 1, 0 });
        test.PValue.Should().Be(1);
        test.Warnings.Should().ContainSingle().Which.Should().Contain("same samples");
    }

    [Fact]
    public void BadInput_IsRefused()
    {
        FluentActions.Invoking(() => McNemar.Compare(Array.Empty<int>(), Array.Empty<int>(), Array.Empty<int>())).Should().Throw<ArgumentException>().WithMessage("*empty*");
        FluentActions.Invoking(() => McNemar.Compare(new[] { 0, 1 }, new[] { 0 }, new[] { 0, 1 })).Should().Throw<ArgumentException>().WithParameterName("predictedA");
        FluentActions.Invoking(() => McNemar.Compare(new[] { 0, 1 }, new[] { 0, 1 }, new[] { 0, -3 })).Should().Throw<ArgumentException>().WithMessage("predictedB[1] is -3*").WithParameterName("predictedB");
        FluentActions.Invoking(() => McNemar.Compare(new[] { -1, 1 }, new[] { 0, 1 }, new[] { 0, 1 })).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => McNemar.Compare(MedMnistTask.MultiLabel, new[] { 0, 1 }, new double[2, 2], new double[2, 2]))
            .Should().Throw<ArgumentException>().WithMessage("*label entries*");
        FluentActions.Invoking(() => McNemar.Compare(MedMnistTask.MultiClass, new[] { 0, 1 }, new double[2, 2], new double[2, 3]))
            .Should().Throw<ArgumentException>().WithParameterName("scoresB");
    }
}
