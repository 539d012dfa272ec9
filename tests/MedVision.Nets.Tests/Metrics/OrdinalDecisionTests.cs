using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Selective;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>
/// The paired tests, bootstrap intervals and selective prediction of models that decide an ordinal grade by its median
/// (a CORAL head's rule): each side counts the grades it reports, not its most probable ones.
/// </summary>
public class OrdinalDecisionTests
{
    // Model A spreads its probability (as a CORAL head on noisy grades): arg-max and median differ on rows 0, 2 and 5.
    //   median right on 0, 1, 2, 3; arg-max right on 1, 3, 5.
    private static readonly double[,] A =
    {
        { 0.4, 0.05, 0.1, 0.05, 0.4 }, { 0.1, 0.6, 0.1, 0.1, 0.1 }, { 0.3, 0.1, 0.1, 0.15, 0.35 },
        { 0.05, 0.05, 0.1, 0.4, 0.4 }, { 0.6, 0.1, 0.1, 0.1, 0.1 }, { 0.2, 0.2, 0.2, 0.2, 0.2 },
    };

    // Model B, a softmax model deciding by its most probable grade: right on 0, 2, 3, 4.
    private static readonly double[,] B =
    {
        { 0.1, 0.1, 0.6, 0.1, 0.1 }, { 0.6, 0.1, 0.1, 0.1, 0.1 }, { 0.1, 0.1, 0.6, 0.1, 0.1 },
        { 0.1, 0.1, 0.1, 0.6, 0.1 }, { 0.1, 0.6, 0.1, 0.1, 0.1 }, { 0.1, 0.6, 0.1, 0.1, 0.1 },
    };

    private static readonly int[] Labels = [2, 1, 2, 3, 1, 0];

    private const MedMnistTask Ordinal = MedMnistTask.OrdinalRegression;

    [Fact]
    public void McNemar_CountsEachSidesOwnDecision()
    {
        OrdinalDecoding.MedianGrades(A).Should().Equal(2, 1, 2, 3, 0, 2);
        var median = McNemar.Compare(Ordinal, Labels, A, B, OrdinalDecision.Median, OrdinalDecision.MostProbable);
        (median.BothCorrect, median.OnlyACorrect, median.OnlyBCorrect, median.NeitherCorrect).Should().Be((3, 1, 1, 1));
        median.PValue.Should().Be(1, "one discordant sample each way");
        median.AccuracyA.Should().Be(MedMnistEvaluator.GetAcc(Ordinal, Labels, A, OrdinalDecision.Median));
        var argMax = McNemar.Compare(Ordinal, Labels, A, B);
        (argMax.BothCorrect, argMax.OnlyACorrect, argMax.OnlyBCorrect, argMax.NeitherCorrect).Should().Be((1, 2, 3, 0));
        McNemar.Compare(Ordinal, Labels, A, B, OrdinalDecision.MostProbable, OrdinalDecision.MostProbable).Should().BeEquivalentTo(argMax);

        // The label-matrix overload and the other side's decision; the median of a task that is not ordinal is refused.
        var matrix = new int[6, 1];
        for (int i = 0; i < 6; i++) matrix[i, 0] = Labels[i];
        var swapped = McNemar.Compare(Ordinal, matrix, B, A, OrdinalDecision.MostProbable, OrdinalDecision.Median);
        (swapped.OnlyACorrect, swapped.OnlyBCorrect).Should().Be((1, 1));
        swapped.AccuracyB.Should().Be(4 / 6.0);
        FluentActions.Invoking(() => McNemar.Compare(MedMnistTask.MultiClass, Labels, A, B, OrdinalDecision.Median, OrdinalDecision.MostProbable))
            .Should().Throw<ArgumentException>().WithMessage("*median decision*ordinal*MultiClass*");
    }

    // A's rows repeated three times, so that resamples keep every class more often.
    private static (int[] Labels, double[,] Scores, double[,] OneHotMedian) Repeated()
    {
        int n = 3 * Labels.Length;
        var labels = new int[n];
        var scores = new double[n, 5];
        var oneHot = new double[n, 5];
        var median = OrdinalDecoding.MedianGrades(A);
        for (int i = 0; i < n; i++)
        {
            int r = i % Labels.Length;
            labels[i] = Labels[r];
            for (int k = 0; k < 5; k++) scores[i, k] = A[r, k];
            oneHot[i, median[r]] = 1;
        }
        return (labels, scores, oneHot);
    }

    [Fact]
    public void Bootstrap_IntervalsOfTheMedianDecisionsAcc_AreThoseOfItsGrades()
    {
        var (labels, scores, oneHot) = Repeated();
        var options = new BootstrapOptions { Resamples = 300, Seed = 3 };
        var median = BootstrapEstimator.Estimate(Ordinal, labels, scores, OrdinalDecision.Median, options);
        // The same resamples scored on one-hot rows at the median grade give the same ACCs; the AUC reads the scores as ever.
        var grades = BootstrapEstimator.Estimate(Ordinal, labels, oneHot, options);
        var argMax = BootstrapEstimator.Estimate(Ordinal, labels, scores, options);
        median.Acc.Should().BeEquivalentTo(grades.Acc);
        median.Auc.Should().BeEquivalentTo(argMax.Auc);
        median.Acc.Should().NotBeEquivalentTo(argMax.Acc, "the median is right on 4 of 6 rows, the arg-max on 3");
        median.SkippedResamples.Should().Be(argMax.SkippedResamples);

        var b = Repeated3(B);
        var comparison = BootstrapEstimator.Compare(Ordinal, labels, scores, b, OrdinalDecision.Median, OrdinalDecision.MostProbable, options);
        comparison.AccDifference.Should().BeApproximately(0, 1e-12, "4 of 6 right on both sides");
        BootstrapEstimator.Compare(Ordinal, labels, scores, b, options).AccDifference.Should().BeApproximately(-1 / 6.0, 1e-12);
        comparison.AccDifferenceInterval.Should().BeEquivalentTo(BootstrapEstimator.Compare(Ordinal, labels, oneHot, b, options).AccDifferenceInterval);
        FluentActions.Invoking(() => BootstrapEstimator.Estimate(MedMnistTask.MultiClass, labels, scores, OrdinalDecision.Median, options))
            .Should().Throw<ArgumentException>().WithMessage("*median decision*");
    }

    private static double[,] Repeated3(double[,] rows)
    {
        int m = rows.GetLength(0), k = rows.GetLength(1);
        var result = new double[3 * m, k];
        for (int i = 0; i < 3 * m; i++)
            for (int j = 0; j < k; j++) result[i, j] = rows[i % m, j];
        return result;
    }

    [Fact]
    public void SelectivePrediction_RanksAndCountsThePredictedGrade()
    {
        // The median grades 2, 1, 2, 3, 0, 2 have probabilities 0.1, 0.6, 0.1, 0.4, 0.6, 0.2; rows 4 and 5 are wrong.
        SelectivePrediction.Confidence(A, ConfidenceScore.PredictedProbability, OrdinalDecision.Median).Should().Equal(0.1, 0.6, 0.1, 0.4, 0.6, 0.2);
        SelectivePrediction.Errors(Labels, A, OrdinalDecision.Median).Should().Equal(0, 0, 0, 0, 1, 1);
        SelectivePrediction.Errors(Labels, A).Should().Equal(1, 0, 1, 0, 1, 0);
        // Margin: the grade's probability minus its strongest rival's (negative where another grade is more probable).
        var margin = SelectivePrediction.Confidence(A, ConfidenceScore.Margin, OrdinalDecision.Median);
        margin.Zip(new[] { -0.3, 0.5, -0.25, 0.0, 0.5, 0.0 }).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-12);
        // Decision-free scores, and the arg-max decision's predicted probability = the maximum.
        SelectivePrediction.Confidence(A, ConfidenceScore.MaxProbability, OrdinalDecision.Median).Should().Equal(SelectivePrediction.Confidence(A));
        SelectivePrediction.Confidence(A, ConfidenceScore.NegativeEntropy, OrdinalDecision.Median).Should().Equal(SelectivePrediction.Confidence(A, ConfidenceScore.NegativeEntropy));
        SelectivePrediction.Confidence(A, ConfidenceScore.PredictedProbability, OrdinalDecision.MostProbable).Should().Equal(SelectivePrediction.Confidence(A));
        SelectivePrediction.Confidence(A, ConfidenceScore.Margin, OrdinalDecision.MostProbable).Should().Equal(SelectivePrediction.Confidence(A, ConfidenceScore.Margin));

        var matrix = new int[6, 1];
        for (int i = 0; i < 6; i++) matrix[i, 0] = Labels[i];
        var curve = RiskCoverageCurve.Compute(matrix, A, OrdinalDecision.Median);
        var byHand = RiskCoverageCurve.Compute([0.1, 0.6, 0.1, 0.4, 0.6, 0.2], [0, 0, 0, 0, 1, 1]);
        curve.Aurc.Should().Be(byHand.Aurc);
        curve.FullCoverageRisk.Should().Be(2 / 6.0);
        FluentActions.Invoking(() => SelectivePrediction.Confidence(A, ConfidenceScore.Margin, (OrdinalDecision)5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("decision");
    }
}
