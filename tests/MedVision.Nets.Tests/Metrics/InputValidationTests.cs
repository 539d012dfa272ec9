using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class InputValidationTests
{
    private static readonly double[,] Scores3 = { { 0.2, 0.5, 0.3 }, { 0.7, 0.2, 0.1 }, { 0.1, 0.1, 0.8 } };

    [Fact]
    public void MismatchedLengthsAreRejected()
    {
        var act = () => MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, new[] { 0, 1 }, Scores3);
        act.Should().Throw<ArgumentException>().WithMessage("*Length mismatch*2*3 rows*");
        var curve = () => RocCurve.Compute(new[] { 0, 1, 1 }, new[] { 0.1, 0.2 });
        curve.Should().Throw<ArgumentException>().WithMessage("*Length mismatch*");
        var cm = () => ConfusionMatrix.FromPredictions(new[] { 0, 1 }, new[] { 0 }, 2);
        cm.Should().Throw<ArgumentException>().WithMessage("*Length mismatch*");
    }

    // Found by the metrics fuzzer: a class count or bin count of int.MaxValue allocated (or tried to) a K×K or M-sized
    // array and failed with OutOfMemoryException ("Array dimensions exceeded supported range"), naming nothing.
    [Fact]
    public void HugeClassAndBinCounts_AreRefusedNamingTheParameter_NotAttemptedAsAllocations()
    {
        var cm = () => ConfusionMatrix.FromPredictions(new[] { 0, 1 }, new[] { 1, 1 }, int.MaxValue);
        cm.Should().Throw<ArgumentOutOfRangeException>().WithMessage("Class count must lie in [1, 10,000].*").Which.ParamName.Should().Be("classCount");
        var metrics = () => ClassificationMetrics.Compute(new[] { 0, 1 }, new[] { 1, 1 }, ConfusionMatrix.MaxClassCount + 1);
        metrics.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("classCount");
        ConfusionMatrix.FromPredictions(new[] { 0, 1 }, new[] { 1, 1 }, 1_000).ClassCount.Should().Be(1_000);
        var calibration = () => Calibration.Evaluate(MedMnistTask.Binary, new[] { 0, 1 }, new double[,] { { 0.2 }, { 0.7 } }, bins: int.MaxValue);
        calibration.Should().Throw<ArgumentOutOfRangeException>().WithMessage("The number of bins must lie in [1, 100,000].*").Which.ParamName.Should().Be("bins");
        Calibration.Evaluate(MedMnistTask.Binary, new[] { 0, 1 }, new double[,] { { 0.2 }, { 0.7 } }, bins: Calibration.MaxBins).Bins.Should().NotBeEmpty();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void LabelsOutsideTheClassRangeAreRejected(int bad)
    {
        var act = () => MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, new[] { 0, bad, 2 }, Scores3);
        act.Should().Throw<ArgumentException>().WithMessage($"*Label {bad} at index 1 is outside [0, 3)*");
    }

    [Fact]
    public void BinaryLabelsMustBeZeroOrOne()
    {
        var act = () => MedMnistEvaluator.GetAuc(MedMnistTask.Binary, new[] { 0, 2, 1 }, Scores3);
        act.Should().Throw<ArgumentException>().WithMessage("*Label 2*outside [0, 2)*");
        var roc = () => RocAuc.Compute(new[] { 0, 1, 5 }, new[] { 0.1, 0.2, 0.3 });
        roc.Should().Throw<ArgumentException>().WithMessage("*Label 5*");
    }

    [Fact]
    public void EmptyInputsAreRejected()
    {
        var act = () => MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, Array.Empty<int>(), new double[0, 3]);
        act.Should().Throw<ArgumentException>().WithMessage("*empty*");
        var noColumns = () => MedMnistEvaluator.GetAcc(MedMnistTask.MultiClass, new[] { 0 }, new double[1, 0]);
        noColumns.Should().Throw<ArgumentException>().WithMessage("*no columns*");
        var curve = () => PrecisionRecallCurve.Compute(Array.Empty<int>(), Array.Empty<double>());
        curve.Should().Throw<ArgumentException>().WithMessage("*empty*");
        var quantile = () => BootstrapEstimator.Quantile(Array.Empty<double>(), 0.5);
        quantile.Should().Throw<ArgumentException>().WithMessage("*empty*");
    }

    [Fact]
    public void NaNAndInfiniteScoresAreRejected()
    {
        var scores = (double[,])Scores3.Clone();
        scores[2, 1] = double.NaN;
        var act = () => MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, new[] { 0, 1, 2 }, scores);
        act.Should().Throw<ArgumentException>().WithMessage("*row 2, column 1 is NaN*");

        var floatScores = new float[,] { { 0.1f, float.NaN }, { 0.5f, 0.5f } };
        var f = () => ModelEvaluator.Evaluate(MedMnistTask.Binary, new[] { 0, 1 }, floatScores);
        f.Should().Throw<ArgumentException>().WithMessage("*NaN*");

        var inf = () => RocCurve.Compute(new[] { 0, 1 }, new[] { 0.2, double.PositiveInfinity });
        inf.Should().Throw<ArgumentException>().WithMessage("*index 1 is infinite*");
    }

    [Fact]
    public void MultiLabelShapeAndValuesAreChecked()
    {
        var scores = new double[,] { { 0.1, 0.9 }, { 0.8, 0.3 } };
        var wrongColumns = () => MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, new int[,] { { 0, 1, 1 }, { 1, 0, 0 } }, scores);
        wrongColumns.Should().Throw<ArgumentException>().WithMessage("*3 label columns*2 columns*");
        var notBinary = () => MedMnistEvaluator.GetAcc(MedMnistTask.MultiLabel, new int[,] { { 0, 2 }, { 1, 0 } }, scores);
        notBinary.Should().Throw<ArgumentException>().WithMessage("*row 0, column 1*must be 0 or 1*");
        var ragged = () => MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, new[] { new[] { 0, 1 }, new[] { 1 } }, scores);
        ragged.Should().Throw<ArgumentException>().WithMessage("*Ragged*row 1*");
        var vector = () => MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, new[] { 0, 1 }, scores);
        vector.Should().Throw<ArgumentException>().WithMessage("*label matrix*");
        var wide = () => MedMnistEvaluator.GetAuc(MedMnistTask.MultiClass, new int[,] { { 0, 1 }, { 1, 0 } }, scores);
        wide.Should().Throw<ArgumentException>().WithMessage("*one label per sample*");
    }

    [Fact]
    public void BadSettingsAreRejected()
    {
        int[] labels = { 0, 1, 2 };
        var resamples = () => BootstrapEstimator.Estimate(MedMnistTask.MultiClass, labels, Scores3, new BootstrapOptions { Resamples = -1 });
        resamples.Should().Throw<ArgumentException>().WithMessage("*resample count*");
        var level = () => ModelEvaluator.Evaluate(MedMnistTask.MultiClass, labels, Scores3, new BootstrapOptions { ConfidenceLevel = 1.5 });
        level.Should().Throw<ArgumentException>().WithMessage("*Confidence level*");
        var cls = () => RocAuc.OneVsRest(labels, Scores3, 3);
        cls.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Positive class*");
    }
}
