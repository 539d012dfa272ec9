using MedVision.Nets.Transforms;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Conformal;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

/// <summary>A conformal calibration stored in a model file: the predictor's sets, the settings they hold for, and refused cards.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class ConformalCardTests : IDisposable
{
    private static readonly string[] Grades = { "grade 0", "grade 1", "grade 2", "grade 3", "grade 4" };
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-conformal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PreprocessingCard Preprocessing28 => new() { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" };

    private static List<FloatImage> Images(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new FloatImage(Enumerable.Range(0, 3 * 28 * 28).Select(_ => (float)random.NextDouble()).ToArray(), 3, 28, 28)).ToList();
    }

    private static double[,] Matrix(IReadOnlyList<Prediction> predictions)
    {
        var m = new double[predictions.Count, predictions[0].Probabilities.Count];
        for (int i = 0; i < predictions.Count; i++)
            for (int k = 0; k < m.GetLength(1); k++) m[i, k] = predictions[i].Probabilities[k];
        return m;
    }

    [Fact]
    public void APredictorGivesTheStoredCalibrationsSetsOnlyUnderItsSettings()
    {
        Tensors.ManualSeed(6);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        card.Temperature = 0.05; // sharpen the untrained network's near-uniform probabilities so that sets differ between images
        var path = Path.Combine(_dir, "model.safetensors");
        ModelFile.Save(path, model, card);

        // Calibrate on the predictor's own probabilities, as the sample's "conformal --store" does.
        var calibrationImages = Images(60, seed: 1);
        ConformalClassifier conformal;
        using (var plain = Predictor.Load(path))
        {
            plain.Conformal.Should().BeNull();
            plain.ConformalNote.Should().BeNull();
            var predictions = plain.Predict(calibrationImages);
            predictions.Should().OnlyContain(p => p.ConformalSet == null && p.ConformalSetNames == null);
            var labels = predictions.Select((p, i) => (p.Label + (i % 3 == 0 ? 1 : 0)) % 5).ToArray();
            conformal = ConformalClassifier.Create().WithScore(ConformalScore.OrdinalAps).WithCoverage(0.8).Calibrate(labels, Matrix(predictions));
        }
        card.Conformal = ConformalCard.From(conformal, card.Temperature);
        ModelFile.Save(path, model, card);
        card.FormatVersion.Should().Be(1, "an older reader loads the file and predicts as before, without sets");
        var read = ModelFile.ReadCard(path).Conformal!;
        read.Score.Should().Be("OrdinalAps");
        read.Thresholds.Should().HaveCount(5).And.OnlyContain(t => t == conformal.Threshold);
        read.CalibrationCount.Should().Be(60);

        var images = Images(40, seed: 2);
        using (var predictor = Predictor.Load(path))
        {
            predictor.Conformal.Should().NotBeNull();
            predictor.Conformal!.Thresholds.Should().Equal(conformal.Thresholds);
            var predictions = predictor.Predict(images);
            foreach (var p in predictions)
            {
                p.ConformalSet.Should().Equal(conformal.PredictSet(p.Probabilities.ToArray().AsSpan()));
                p.ConformalSetNames.Should().Equal(p.ConformalSet!.Select(c => Grades[c]));
                p.ConformalSet.Should().Contain(p.Label, "an ordinal set grows from the most probable grade");
                (p.ConformalSet![^1] - p.ConformalSet[0] + 1).Should().Be(p.ConformalSet.Count, "an interval of grades");
            }
            predictions.Select(p => p.ConformalSet!.Count).Distinct().Should().HaveCountGreaterThan(1, "sets adapt to each image");
        }
        using (var flipped = Predictor.Load(path, flips: TestTimeFlips.Horizontal))
        {
            flipped.Conformal.Should().BeNull();
            flipped.ConformalNote.Should().Contain("calibrated with flips None").And.Contain("flips Horizontal");
            flipped.Predict(images[0]).ConformalSet.Should().BeNull();
        }
        using (var autocast = Predictor.Load(path, mixedPrecision: true))
            autocast.ConformalNote.Should().Contain("bfloat16");

        // Calibrated with flips: only a predictor with the same flips gives sets.
        card.Conformal = ConformalCard.From(conformal, card.Temperature, TestTimeFlips.Horizontal | TestTimeFlips.Vertical);
        ModelFile.Save(path, model, card);
        using (var both = Predictor.Load(path, flips: TestTimeFlips.Horizontal | TestTimeFlips.Vertical)) both.Conformal.Should().NotBeNull();
        using (var none = Predictor.Load(path)) none.ConformalNote.Should().Contain("Horizontal, Vertical");
    }

    [Fact]
    public void InfiniteThresholdsAndClassConditionalCalibrationsRoundTrip()
    {
        var labels = new[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2 };
        var random = new Random(3);
        var p = new double[labels.Length, 3];
        for (int i = 0; i < labels.Length; i++)
        {
            double a = random.NextDouble(), b = random.NextDouble() * (1 - a);
            p[i, 0] = a; p[i, 1] = b; p[i, 2] = 1 - a - b;
        }
        var conformal = ConformalClassifier.Create().WithScore(ConformalScore.Raps).WithRegularization(0.05, 2).ClassConditional().WithCoverage(0.8).Calibrate(labels, p);
        conformal.Thresholds.Count(double.IsPositiveInfinity).Should().Be(2, "classes 1 and 2 have one calibration image each");
        var card = ConformalCard.From(conformal, 1.5, TestTimeFlips.Vertical);
        card.Thresholds.Count(t => t is null).Should().Be(2);
        var json = System.Text.Json.JsonSerializer.Serialize(card);
        var back = System.Text.Json.JsonSerializer.Deserialize<ConformalCard>(json)!.ToClassifier();
        back.Thresholds.Should().Equal(conformal.Thresholds);
        back.Score.Should().Be(ConformalScore.Raps);
        back.Regularization.Should().Be(0.05);
        back.RegularizationRank.Should().Be(2);
        back.IsClassConditional.Should().BeTrue();
        back.CalibrationClassCounts.Should().Equal(10, 1, 1);
        back.PredictSets(p).Should().BeEquivalentTo(conformal.PredictSets(p), o => o.WithStrictOrdering());
        card.CalibrationFlips.Should().Be(TestTimeFlips.Vertical);
    }

    public static TheoryData<string, string> BadCards() => new()
    {
        { """{"score":"Bogus","coverage":0.9,"thresholds":[0.5,0.5,0.5,0.5,0.5],"calibration_count":5,"calibration_class_counts":[1,1,1,1,1]}""", "unknown score 'Bogus'" },
        { """{"score":"7","coverage":0.9,"thresholds":[0.5,0.5,0.5,0.5,0.5],"calibration_count":5,"calibration_class_counts":[1,1,1,1,1]}""", "unknown score '7'" },
        { """{"score":"Aps","coverage":1.5,"thresholds":[0.5,0.5,0.5,0.5,0.5],"calibration_count":5,"calibration_class_counts":[1,1,1,1,1]}""", "coverage 1.5" },
        { """{"score":"Aps","coverage":0.9,"thresholds":[0.5,0.5,0.5],"calibration_count":3,"calibration_class_counts":[1,1,1]}""", "3 thresholds but the model has 5 classes" },
        { """{"score":"Aps","coverage":0.9,"thresholds":[0.5,0.6,0.5,0.5,0.5],"calibration_count":5,"calibration_class_counts":[1,1,1,1,1]}""", "not class-conditional but its thresholds differ" },
        { """{"score":"Aps","coverage":0.9,"thresholds":[0.5,0.5,0.5,0.5,0.5],"regularization":0.1,"calibration_count":5,"calibration_class_counts":[1,1,1,1,1]}""", "only RAPS" },
        { """{"score":"Aps","coverage":0.9,"thresholds":[0.5,0.5,0.5,0.5,0.5],"calibration_count":6,"calibration_class_counts":[1,1,1,1,1]}""", "per-class counts add up" },
        { """{"score":"Aps","coverage":0.9,"thresholds":[0.5,0.5,0.5,0.5,0.5],"calibration_count":5,"calibration_class_counts":[1,1,1,1,1],"flips":"Sideways"}""", "flips 'Sideways'" },
        { """{"score":"Aps","coverage":0.9,"thresholds":[0.5,0.5,0.5,0.5,0.5],"calibration_count":5,"calibration_class_counts":[1,1,1,1,1],"temperature":2}""", "calibrated at temperature 2 but the card's temperature is 1" },
        { """{"score":"Aps","coverage":0.9,"thresholds":null,"calibration_count":5,"calibration_class_counts":[1,1,1,1,1]}""", "one threshold per class" },
    };

    [Theory]
    [MemberData(nameof(BadCards))]
    public void BadCalibrationsInACardAreRefusedByName(string conformal, string message)
    {
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        var json = System.Text.Json.JsonSerializer.Serialize(ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression));
        json = json.TrimEnd()[..^1] + ",\"conformal\":" + conformal + "}";
        FluentActions.Invoking(() => ModelFile.ParseCard(json, "card.json")).Should().Throw<ModelFormatException>().WithMessage($"*card.json*{message}*");
    }

    [Fact]
    public void AMultiLabelCardCannotCarryConformalSets()
    {
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.MultiLabel);
        card.Conformal = new ConformalCard { Thresholds = Enumerable.Repeat<double?>(0.5, 5).ToList(), CalibrationCount = 5, CalibrationClassCounts = new() { 1, 1, 1, 1, 1 } };
        FluentActions.Invoking(() => ModelFile.Save(Path.Combine(_dir, "m.safetensors"), model, card)).Should().Throw<ModelFormatException>().WithMessage("*single-label tasks*");
        File.Exists(Path.Combine(_dir, "m.safetensors")).Should().BeFalse();
        FluentActions.Invoking(() => ConformalCard.From(null!)).Should().Throw<ArgumentNullException>();
    }
}
