using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Samples;

namespace MedVision.Samples.Tests;

/// <summary>
/// The samples' --calibrate (<see cref="TemperatureFits"/>): the fit from the probabilities a predictor gives at
/// temperature 1 — a softmax's on their logarithms, a CORAL head's on the cumulative logits they come from — and the
/// probabilities after it, as a predictor with the fitted card gives them.
/// </summary>
public sealed class TemperatureFitsTests
{
    // Labels and softmax logits of `n` samples over `k` classes whose logits are `scale` times too confident.
    private static (int[,] Labels, double[,] Logits) Overconfident(int n, int k, double scale, int seed)
    {
        var random = new Random(seed);
        var labels = new int[n, 1];
        var logits = new double[n, k];
        for (int i = 0; i < n; i++)
        {
            var z = Enumerable.Range(0, k).Select(_ => 2 * random.NextDouble()).ToArray();
            double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max)), u = random.NextDouble(), cumulative = 0;
            int y = k - 1;
            for (int c = 0; c < k; c++)
                if ((cumulative += Math.Exp(z[c] - max) / sum) >= u) { y = c; break; }
            labels[i, 0] = y;
            for (int c = 0; c < k; c++) logits[i, c] = scale * z[c];
        }
        return (labels, logits);
    }

    [Fact]
    public void ASoftmaxFit_FromProbabilities_RecoversTheOverconfidence_AndApplyGivesSoftmaxOfTheLogitsOverT()
    {
        var (labels, logits) = Overconfident(6000, 4, scale: 3, seed: 1);
        var probabilities = TemperatureScaling.WithTemperature(1).Apply(logits);
        var scaling = TemperatureFits.Fit(labels, probabilities, onCumulativeLogits: false);
        scaling.OnCumulativeLogits.Should().BeFalse();
        scaling.Temperature.Should().BeApproximately(3, 0.3, "the logits were three times too confident");
        var applied = TemperatureFits.Apply(scaling, probabilities);
        var expected = TemperatureScaling.WithTemperature(scaling.Temperature).Apply(logits);
        for (int i = 0; i < 50; i++)
            for (int c = 0; c < 4; c++) applied[i, c].Should().BeApproximately(expected[i, c], 1e-9);
        Calibration.Evaluate(MedMnistTask.MultiClass, labels, applied).NegativeLogLikelihood
            .Should().BeLessThan(Calibration.Evaluate(MedMnistTask.MultiClass, labels, probabilities).NegativeLogLikelihood);
        TemperatureFits.Describe(scaling).Should().MatchRegex(@"^T = \d\.\d{3}$");
        var undone = TemperatureFits.Undo(scaling, applied);
        for (int i = 0; i < 50; i++)
            for (int c = 0; c < 4; c++) undone[i, c].Should().BeApproximately(probabilities[i, c], 1e-9, "Undo gives back the probabilities at temperature 1");
    }

    [Fact]
    public void ACoralFit_IsOnTheCumulativeLogits_AndKeepsTheMedianGrades()
    {
        // Cumulative logits of one score against ordered thresholds, twice too confident.
        var random = new Random(2);
        int n = 4000;
        var labels = new int[n, 1];
        var z = new double[n, 3];
        double[] thresholds = [-1, 0, 1];
        for (int i = 0; i < n; i++)
        {
            double score = 3 * random.NextDouble() - 1.5;
            int grade = 0;
            for (int t = 0; t < 3; t++)
            {
                if (random.NextDouble() < 1 / (1 + Math.Exp(-(score - thresholds[t])))) grade = t + 1; else break;
            }
            labels[i, 0] = grade;
            for (int t = 0; t < 3; t++) z[i, t] = 2 * (score - thresholds[t]);
        }
        var probabilities = TemperatureScaling.WithTemperature(1, onCumulativeLogits: true).ApplyToCumulativeLogits(z);
        var scaling = TemperatureFits.Fit(labels, probabilities, onCumulativeLogits: true);
        scaling.OnCumulativeLogits.Should().BeTrue();
        scaling.Temperature.Should().BeGreaterThan(1.2, "the cumulative logits were twice too confident");
        TemperatureFits.Describe(scaling).Should().EndWith(" on the cumulative logits");
        var applied = TemperatureFits.Apply(scaling, probabilities);
        var expected = scaling.ApplyToCumulativeLogits(z);
        for (int i = 0; i < 50; i++)
            for (int c = 0; c < 4; c++) applied[i, c].Should().BeApproximately(expected[i, c], 1e-9);
        OrdinalDecoding.MedianGrades(applied).Should().Equal(OrdinalDecoding.MedianGrades(probabilities), "a temperature on the cumulative logits keeps every threshold's sign");
        var undone = TemperatureFits.Undo(scaling, applied);
        for (int i = 0; i < 50; i++)
            for (int c = 0; c < 4; c++) undone[i, c].Should().BeApproximately(probabilities[i, c], 1e-9, "Undo gives back the probabilities at temperature 1");
    }

    [Fact]
    public void TheNotesAndBannerWords_SayWhatTheTemperatureIs()
    {
        TemperatureFits.Note(TemperatureScaling.WithTemperature(3)).Should().BeNull();
        TemperatureFits.Note(TemperatureScaling.WithTemperature(150)).Should().Contain("the fitted temperature 150 flattens the probabilities almost to one value");
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(3).WithSmallInputStem().WithClasses(3).WithCoralHead().Build();
        var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = [28, 28], Channels = 3 }, ["0", "1", "2"], MedMnistTask.OrdinalRegression);
        TemperatureFits.OfCard(card).Should().BeEmpty();
        card.SetTemperature(TemperatureScaling.WithTemperature(1.5, onCumulativeLogits: true));
        TemperatureFits.OfCard(card).Should().Be(", temperature 1.5 on the cumulative logits");
        card.OrdinalDecision = OrdinalDecision.MostProbable;
        card.SetTemperature(TemperatureScaling.WithTemperature(0.75));
        TemperatureFits.OfCard(card).Should().Be(", temperature 0.75 on the grade probabilities");
    }

    [Fact]
    public void CarveCalibration_HoldsOutEachClassShare_OrWholePatients_AndRefusesASplitThatCannotTrainOrFit()
    {
        string[] names = ["normal", "referable"];
        var labels = Enumerable.Range(0, 20).Select(i => i < 14 ? 0 : 1).ToArray();     // 14 normal, 6 referable
        var (train, calibration) = TemperatureFits.CarveCalibration(labels, 0.25, seed: 2, names, "photographs");
        (train, calibration).Should().BeEquivalentTo(MedVision.Nets.Data.Loading.DataSplits.StratifiedHoldout(labels, 0.25, 2), "the library's stratified hold-out");
        calibration.Count(i => labels[i] == 0).Should().Be(4, "round(0.25 × 14)");
        calibration.Count(i => labels[i] == 1).Should().Be(2, "round(0.25 × 6)");
        train.Concat(calibration).Should().BeEquivalentTo(Enumerable.Range(0, 20));

        // Patients (two images each) are held out whole.
        var patients = Enumerable.Range(0, 20).Select(i => $"p{i / 2}").ToArray();
        var (groupedTrain, groupedCalibration) = TemperatureFits.CarveCalibration(labels, 0.25, seed: 2, names, "volumes", patients);
        groupedCalibration.Should().NotBeEmpty();
        groupedCalibration.Select(i => patients[i]).Intersect(groupedTrain.Select(i => patients[i])).Should().BeEmpty("no patient is on both sides");
        groupedTrain.Concat(groupedCalibration).Should().BeEquivalentTo(Enumerable.Range(0, 20));

        FluentActions.Invoking(() => TemperatureFits.CarveCalibration([0, 0, 1], 0.5, 0, names, "photographs"))
            .Should().Throw<ArgumentException>().WithMessage("--calibration-fraction 0.5 would leave class referable no training photographs (its 1 would all be held out for calibration)*");
        FluentActions.Invoking(() => TemperatureFits.CarveCalibration([0, 0, 1, 1], 0.1, 0, names, "photographs"))
            .Should().Throw<ArgumentException>().WithMessage("--calibration-fraction 0.1 of 4 training photographs holds out none to fit the temperature on*");
        FluentActions.Invoking(() => TemperatureFits.CarveCalibration([0, 1, 0, 1], 0.3, 0, names, "volumes", ["p", "p", "p", "p"]))
            .Should().Throw<ArgumentException>().WithMessage("--calibration-fraction holds whole patients out of training; the 4 training volumes are of one patient.");
        FluentActions.Invoking(() => TemperatureFits.CarveCalibration([0, 0, 1, 1], 0.5, 0, names, "volumes", ["a", "a", "b", "b"]))
            .Should().Throw<ArgumentException>().WithMessage("--calibration-fraction 0.5 would leave class * no training volumes (its 2 would all be held out for calibration, with their patients)*");
    }
}
