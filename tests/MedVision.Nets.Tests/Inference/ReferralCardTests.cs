using System.Text.Json;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

/// <summary>
/// A screening decision stored in a model file (<see cref="ReferralCard"/>): the operating point chosen on held-out
/// images travels with the weights, the predictor gives every prediction its risk and decision under the settings the
/// threshold was chosen with, and cards that cannot hold are refused by name.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class ReferralCardTests : IDisposable
{
    private static readonly string[] Grades = { "grade 0", "grade 1", "grade 2", "grade 3", "grade 4" };
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-referral-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<FloatImage> Images(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new FloatImage(Enumerable.Range(0, 3 * 28 * 28).Select(_ => (float)random.NextDouble()).ToArray(), 3, 28, 28)).ToList();
    }

    private (ResNet Model, ModelCard Card, string Path) SaveModel()
    {
        Tensors.ManualSeed(8);
        var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = [28, 28], Channels = 3 }, Grades, MedMnistTask.OrdinalRegression);
        card.Temperature = 0.05;   // sharpen the untrained network's near-uniform probabilities so that risks spread
        var path = Path.Combine(_dir, "model.safetensors");
        ModelFile.Save(path, model, card);
        return (model, card, path);
    }

    [Fact]
    public void TheStoredOperatingPoint_DecidesEachPrediction_AsOnTheImagesItWasChosenOn()
    {
        var (model, card, path) = SaveModel();
        using var _ = model;
        var heldOut = Images(80, seed: 2);
        double[] risks;
        int[] referable;
        using (var plain = Predictor.Load(path))
        {
            plain.Referral.Should().BeNull();
            plain.ReferralNote.Should().BeNull();
            var predictions = plain.Predict(heldOut);
            predictions.Should().OnlyContain(p => p.ReferralRisk == null && p.Referred == null);
            var probabilities = new double[predictions.Count, 5];
            for (int i = 0; i < predictions.Count; i++)
                for (int k = 0; k < 5; k++) probabilities[i, k] = predictions[i].Probabilities[k];
            // Grades that follow the risk loosely, so the threshold is a real trade-off.
            var grades = predictions.Select((p, i) => i % 4 == 0 ? 4 - p.Label : p.Label).ToArray();
            (referable, risks) = Referral.FromGrades(grades, probabilities, referableFrom: 2);
        }
        referable.Distinct().Should().HaveCount(2, "both referable and non-referable images are held out");
        var point = OperatingPoint.AtSensitivity(referable, risks, minimum: 0.8);
        card.Referral = ReferralCard.From(point, referableFrom: 2, card.Temperature);
        card.Referral.HeldOutCount.Should().Be(80);
        ModelFile.Save(path, model, card);
        card.FormatVersion.Should().Be(1, "an older reader loads the file and predicts as before, without decisions");

        using var predictor = Predictor.Load(path);
        predictor.Referral!.Threshold.Should().Be(point.Threshold);
        predictor.Referral.Rule.Should().Be(point.Rule);
        var again = predictor.Predict(heldOut);
        for (int i = 0; i < again.Count; i++)
        {
            again[i].ReferralRisk!.Value.Should().BeApproximately(again[i].Probabilities.Skip(2).Sum(p => (double)p), 1e-9);
            again[i].Referred.Should().Be(again[i].ReferralRisk >= point.Threshold);
        }
        // The decisions on the held-out images give the sensitivity and specificity the card recorded.
        int referredPositives = again.Where((p, i) => referable[i] == 1 && p.Referred == true).Count();
        int sparedNegatives = again.Where((p, i) => referable[i] == 0 && p.Referred == false).Count();
        ((double)referredPositives / referable.Count(l => l == 1)).Should().BeApproximately(predictor.Referral.Sensitivity!.Value, 1e-12);
        ((double)sparedNegatives / referable.Count(l => l == 0)).Should().BeApproximately(predictor.Referral.Specificity!.Value, 1e-12);
        predictor.Referral.Sensitivity.Should().BeGreaterThanOrEqualTo(0.8);
        // With the Clopper–Pearson intervals of the held-out measures, which say how far 80 images pin them down.
        predictor.Referral.SensitivityInterval.Should().Equal(point.Fitted!.SensitivityInterval.Lower, point.Fitted.SensitivityInterval.Upper);
        predictor.Referral.SpecificityInterval.Should().Equal(point.Fitted.SpecificityInterval.Lower, point.Fitted.SpecificityInterval.Upper);
        predictor.Referral.DescribeHeldOut().Should().Be(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"on 80 held-out images: sensitivity {point.Fitted.Sensitivity:F3} [{point.Fitted.SensitivityInterval.Lower:F3}, {point.Fitted.SensitivityInterval.Upper:F3}], specificity {point.Fitted.Specificity:F3} [{point.Fitted.SpecificityInterval.Lower:F3}, {point.Fitted.SpecificityInterval.Upper:F3}]"));
        again.Select(p => p.Referred).Distinct().Should().HaveCount(2, "some images are referred and some are not");

        // The CSV of batch predictions carries the risk and the decision.
        var csv = Path.Combine(_dir, "predictions.csv");
        Prediction.WriteCsv(csv, again.Select((_, i) => $"img{i}").ToList(), again, Grades);
        var lines = File.ReadAllLines(csv);
        lines[0].Should().EndWith(",expected_grade,referral_risk,referred");
        lines[1].Split(',')[^1].Should().Be(again[0].Referred == true ? "1" : "0");

        // Other flips or precision give other probabilities: no decision, and the reason.
        using var flipped = Predictor.Load(path, flips: TestTimeFlips.Horizontal);
        flipped.Referral.Should().BeNull();
        flipped.ReferralNote.Should().Contain("referral threshold was chosen with flips None").And.Contain("flips Horizontal").And.Contain("no referral decision");
        flipped.Predict(heldOut[0]).Referred.Should().BeNull();
        using var autocast = Predictor.Load(path, mixedPrecision: true);
        autocast.ReferralNote.Should().Contain("bfloat16");
    }

    [Fact]
    public void CardsThatCannotHold_AreRefusedByName()
    {
        var (model, card, path) = SaveModel();
        using var _ = model;
        // An operating point whose requirement only referring none meets cannot be deployed.
        var none = OperatingPoint.AtSpecificity([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2], minimum: 1);
        double.IsPositiveInfinity(none.Threshold).Should().BeTrue();
        var act = () => ReferralCard.From(none, 1);
        act.Should().Throw<ArgumentException>().WithMessage("*threshold +∞ is not a probability (specificity*refers no image*");
        var hand = ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2, card.Temperature);
        hand.HeldOutCount.Should().Be(0);
        hand.Sensitivity.Should().BeNull();
        hand.SensitivityInterval.Should().BeNull();
        hand.DescribeHeldOut().Should().Be("set by hand");

        foreach (var (change, message) in new (Action<ReferralCard>, string)[]
        {
            (r => r.ReferableFrom = 0, "*referral starts at class 0; it must be a class from 1 to 4*"),
            (r => r.ReferableFrom = 5, "*referral starts at class 5*"),
            (r => r.Threshold = 1.5, "*referral threshold 1.5 is not a probability*"),
            (r => r.Temperature = 1, "*referral threshold was chosen at temperature 1 but the card's temperature is 0.05*"),
            (r => r.Flips = "Sideways", "*referral threshold's flips 'Sideways' are not test-time flips*"),
            (r => r.Sensitivity = 2, "*sensitivity or specificity outside [0, 1]*"),
            (r => r.SensitivityInterval = [0.9, 0.2], "*sensitivity interval must be (lower, upper) with 0 ≤ lower ≤ upper ≤ 1*"),
            (r => r.SpecificityInterval = [0.1], "*specificity interval must be*"),
        })
        {
            var bad = JsonSerializer.Deserialize<ModelCard>(JsonSerializer.Serialize(card))!;
            bad.Referral = ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2, card.Temperature);
            change(bad.Referral);
            var save = () => ModelFile.Save(path, model, bad);
            save.Should().Throw<ModelFormatException>().WithMessage(message);
        }
        var multiLabel = JsonSerializer.Deserialize<ModelCard>(JsonSerializer.Serialize(card))!;
        multiLabel.Task = nameof(MedMnistTask.MultiLabel);
        multiLabel.Temperature = 1;
        multiLabel.Referral = ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2);
        var read = () => ModelFile.ParseCard(JsonSerializer.Serialize(multiLabel), "card.json");
        read.Should().Throw<ModelFormatException>().WithMessage("card.json: a referral decision applies to single-label tasks*");
    }
}
