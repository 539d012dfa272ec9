using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Explainability;
using MedVision.Nets.Heads;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Metrics.Conformal;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Models;

/// <summary>A ResNet with a CORAL ordinal head, from the builder through training to a model file, its predictor and explanations.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class CoralResNetTests : IDisposable
{
    private static readonly string[] Grades = { "0", "1", "2", "3", "4" };
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-coral-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ResNet Tiny(ClassifierHead head = ClassifierHead.Coral) =>
        ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(3).WithSmallInputStem().WithClasses(5).WithHead(head).Build();

    // Images of uniform [0, 1) values from a seeded generator.
    private static FloatImage[] RandomImages(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var data = new float[3 * 28 * 28];
            for (int i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();
            return new FloatImage(data, 3, 28, 28);
        }).ToArray();
    }

    private static PreprocessingCard Preprocessing28 => new() { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" };

    [Fact]
    public void TheHead_GivesKMinusOneCumulativeLogits_FromOneWeightVectorAndOrderedBiases()
    {
        Tensors.ManualSeed(3);
        using var coral = Tiny();
        using var linear = Tiny(ClassifierHead.Linear);
        coral.ClassifierKind.Should().Be(ClassifierHead.Coral);
        coral.Classifier.Should().BeNull("the classifier is no linear layer");
        coral.Head.Should().BeOfType<CoralHead>();
        linear.Head.Should().BeSameAs(linear.Classifier);
        coral.NumClasses.Should().Be(5);
        var shapes = coral.NamedParameters().ToDictionary(p => p.Item1, p => p.Item2.Shape);
        shapes["fc.weight"].Should().Equal(1, 64);
        shapes["fc.bias"].Should().Equal(4);
        coral.ParameterCount().Should().Be(linear.ParameterCount() - (5 * 64 + 5) + (64 + 4));
        var biases = coral.Head!.NamedParameters().Single(p => p.Item1 == "bias").Item2.ToArray<float>();
        biases.Should().BeInDescendingOrder("P(grade > k) falls with k");

        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        coral.Eval();
        var x = Tensors.Randn(3, 3, 28, 28);
        var logits = coral.Call(x);
        logits.Shape.Should().Equal(3, 4);
        // Every threshold's logit is one score w·features plus its own bias.
        var features = coral.ExtractFeatures(x);
        var expected = Functional.Linear(features, coral.Head.NamedParameters().Single(p => p.Item1 == "weight").Item2) + Tensors.FromArray(biases);
        (logits - expected).Abs().Max().Item().Should().BeLessThan(1e-5);

        FluentActions.Invoking(() => ResNet.Builder().WithDepth(18).WithClasses(1).WithCoralHead().Build())
            .Should().Throw<ArgumentException>().WithMessage("*CORAL head ranks at least 2 grades*");
        FluentActions.Invoking(() => ResNet.Builder().WithHead((ClassifierHead)7)).Should().Throw<ArgumentException>().WithMessage("*Unknown classifier head*");
    }

    [Fact]
    public void TheTask_TrainsWithCoralLoss_AndScoresTheGradesProbabilities()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(5);
        using var model = Tiny();
        var images = Tensors.Randn(4, 3, 28, 28);
        var grades = Tensors.FromArray(new long[] { 0, 2, 4, 1 });
        using var batch = new Batch(images, grades, new int[4, 1], new[] { 0, 1, 2, 3 });
        var task = new CoralTask(model);
        task.TaskType.Should().Be(MedMnistTask.OrdinalRegression);
        model.Eval();
        using (var loss = task.ComputeLoss(batch, 0))
        {
            loss.Total.Item().Should().BeApproximately(CoralLoss.Compute(model.Call(images), grades).Item(), 1e-6);
            loss.Terms["coral"].Should().BeApproximately(loss.Total.Item(), 1e-6);
        }
        using (Tensors.NoGrad())
        {
            var scores = task.PredictScores(batch);
            scores.Shape.Should().Equal(4, 5);
            (scores - OrdinalDecoding.ToClassProbabilities(model.Call(images))).Abs().Max().Item().Should().Be(0);
        }

        // Threshold weights scale each threshold's term; they are checked.
        var weights = Tensors.FromArray(new[] { 1f, 0.5f, 0.5f, 2f });
        using (var weighted = new CoralTask(model, weights).ComputeLoss(batch, 0))
            weighted.Total.Item().Should().BeApproximately(CoralLoss.Compute(model.Call(images), grades, weights).Item(), 1e-6);
        FluentActions.Invoking(() => new CoralTask(model, Tensors.FromArray(new[] { 1f, -1f, 1f, 1f }))).Should().Throw<ArgumentException>().WithMessage("*non-negative*");
        FluentActions.Invoking(() => new CoralTask(model, Tensors.FromArray(new[] { 1f, 1f })).ComputeLoss(batch, 0))
            .Should().Throw<InvalidOperationException>().WithMessage("*2 threshold weights*4 thresholds*");
        using var outOfRange = new Batch(images, Tensors.FromArray(new long[] { 0, 5, 1, 1 }), new int[4, 1], new[] { 0, 1, 2, 3 });
        FluentActions.Invoking(() => task.ComputeLoss(outOfRange, 0)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*grades must lie in [0, 4]*");
    }

    [Fact]
    public void TheTrainer_LowersTheCoralLoss_OnRetinaMnist()
    {
        var retina = MedMnistDataset.LoadEmbeddedRetinaMnist();
        DataLoader Loader(MedMnistSplitData split, int count, bool shuffle) => new(
            new SubsetSource(new MedMnistImageSource(split), Enumerable.Range(0, count).ToArray()),
            new DataLoaderOptions { BatchSize = 32, Shuffle = shuffle, Seed = 5, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build() });
        Tensors.ManualSeed(7);
        using var model = Tiny();
        var result = Trainer.Create(new CoralTask(model))
            .TrainOn(Loader(retina.Train, 128, shuffle: true))
            .ValidateOn(Loader(retina.Validation, 64, shuffle: false))
            .UseAdam(3e-3)
            .ForEpochs(4)
            .WithSeed(9)
            .Build()
            .Run();
        result.History.Should().HaveCount(4);
        result.History[^1].TrainLoss.Should().BeLessThan(result.History[0].TrainLoss, "the CORAL loss falls as the head and backbone fit the grades");
        result.History[0].TrainLossTerms.Keys.Should().Equal("coral");
        result.Validation.Auc.Should().BeInRange(0, 1);
        // The validation ACC is that of CORAL's own prediction, the median grade (the selected model is the trainer's now).
        var (labels, scores) = Trainer.Predict(new CoralTask(model), Loader(retina.Validation, 64, shuffle: false));
        result.Validation.Acc.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores, OrdinalDecision.Median));

        // The cumulative logits behind those probabilities, and a temperature fitted to them that keeps every median grade.
        var (logitLabels, logits) = Trainer.PredictCumulativeLogits(new CoralTask(model), Loader(retina.Validation, 64, shuffle: false));
        logitLabels.Cast<int>().Should().Equal(labels.Cast<int>());
        logits.GetLength(1).Should().Be(4);
        using (var scope = Tensors.NewDisposeScope())
        {
            var flat = new float[64 * 4];
            for (int i = 0; i < 64; i++)
                for (int k = 0; k < 4; k++) flat[(i * 4) + k] = (float)logits[i, k];
            var again = OrdinalDecoding.ToClassProbabilities(Tensors.FromArray(flat).Reshape(64, 4)).ToArray<float>();
            for (int i = 0; i < 64; i++)
                for (int k = 0; k < 5; k++) scores[i, k].Should().BeApproximately(again[(i * 5) + k], 1e-6);
        }
        var scaling = TemperatureScaling.FitCumulative(labels, logits);
        scaling.NegativeLogLikelihoodAfter.Should().BeLessThanOrEqualTo(scaling.NegativeLogLikelihoodBefore);
        OrdinalDecoding.MedianGrades(scaling.ApplyToCumulativeLogits(logits)).Should().Equal(OrdinalDecoding.MedianGrades(scores));
        // The probabilities' own cumulative logits (the thresholds do not cross) give the same fit.
        TemperatureScaling.FitCumulative(labels, OrdinalDecoding.ToCumulativeLogits(scores)).Temperature.Should().BeApproximately(scaling.Temperature, 1e-3 * scaling.Temperature);
        var median = OrdinalDecoding.MedianGrades(scores);
        result.Validation.Acc.Should().Be(Enumerable.Range(0, median.Length).Count(i => median[i] == labels[i, 0]) / (double)median.Length);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.7)]
    public void AModelFile_RebuildsTheHead_AndItsPredictorGivesTheGradesProbabilities(double temperature)
    {
        Tensors.ManualSeed(11);
        using var model = Tiny();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        card.ResNet!.Head.Should().Be("coral");
        card.HasCoralHead.Should().BeTrue();
        card.FormatVersion.Should().Be(9, "an older reader would take the 4 cumulative logits for class logits");
        card.OrdinalDecision.Should().Be(OrdinalDecision.Median, "CORAL predicts the median grade");
        card.OrdinalDecisionName.Should().Be("median");
        card.Temperature = temperature;
        bool median = temperature == 1;
        if (!median) card.OrdinalDecision = OrdinalDecision.MostProbable;   // a temperature would move the median
        var path = Path.Combine(_dir, "coral.safetensors");
        ModelFile.Save(path, model, card);
        System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path).AsSpan(0, 4096)).Should().Contain("\\u0022head\\u0022: \\u0022coral\\u0022").And.NotContain("has_coral_head");

        var (loaded, loadedCard) = ModelFile.Load(path);
        using (loaded)
        {
            loadedCard.HasCoralHead.Should().BeTrue();
            ((ResNet)loaded).ClassifierKind.Should().Be(ClassifierHead.Coral);
        }

        using var predictor = Predictor.Load(path);
        var images = RandomImages(6, seed: 2);
        var predictions = predictor.Predict(images);
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        model.Eval();
        var logits = model.Call(predictor.Preprocess(images));
        var expected = OrdinalDecoding.ToClassProbabilities(logits).To(ScalarType.Float64).ToArray<double>();
        for (int i = 0; i < images.Length; i++)
        {
            // at a temperature T: P_k^(1/T), renormalised
            var p = expected.Skip(i * 5).Take(5).Select(v => Math.Pow(Math.Max(v, 1e-12), 1 / temperature)).ToArray();
            var total = p.Sum();
            predictions[i].Probabilities.Select(v => (double)v).Should().Equal(p.Select(v => v / total), (a, b) => Math.Abs(a - b) <= 1e-5, $"image {i}");
            predictions[i].Grade.Should().Be(predictions[i].Label);
            if (median) predictions[i].Label.Should().Be((int)OrdinalDecoding.ToGrades(logits).ToArray<long>()[i], "the median grade is CORAL's prediction");
            else predictions[i].Label.Should().Be(Array.IndexOf(p, p.Max()), "the most probable grade, which the temperature keeps");
        }
    }

    [Fact]
    public void ATemperatureOnTheCumulativeLogits_IsStoredInFormat10_AndKeepsThePredictorsMedianGrades()
    {
        Tensors.ManualSeed(11);
        using var model = Tiny();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        card.SetTemperature(TemperatureScaling.WithTemperature(2.5, onCumulativeLogits: true));
        card.Temperature.Should().Be(2.5);
        card.CoralTemperature.Should().Be(CoralTemperature.CumulativeLogits);
        card.CoralTemperatureName.Should().Be("cumulative_logits");
        card.OrdinalDecision.Should().Be(OrdinalDecision.Median, "the median grade stays CORAL's prediction");
        ModelFile.RequiredFormatVersion(card).Should().Be(10, "an older reader would apply the temperature to the grades' probabilities");
        var path = Path.Combine(_dir, "coral-t.safetensors");
        ModelFile.Save(path, model, card);
        var header = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path).AsSpan(0, 4096));
        header.Should().Contain("\\u0022coral_temperature\\u0022: \\u0022cumulative_logits\\u0022").And.Contain("\\u0022format_version\\u0022: 10");

        using var predictor = Predictor.Load(path);
        predictor.Card.CoralTemperature.Should().Be(CoralTemperature.CumulativeLogits);
        var images = RandomImages(6, seed: 2);
        var predictions = predictor.Predict(images);
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        model.Eval();
        var logits = model.Call(predictor.Preprocess(images));
        var scaled = OrdinalDecoding.ToClassProbabilities(logits / 2.5).To(ScalarType.Float64).ToArray<double>();
        var plain = OrdinalDecoding.ToClassProbabilities(logits).To(ScalarType.Float64).ToArray<double>();
        var grades = OrdinalDecoding.ToGrades(logits).ToArray<long>();
        for (int i = 0; i < images.Length; i++)
        {
            predictions[i].Probabilities.Select(v => (double)v).Should().Equal(scaled.Skip(i * 5).Take(5), (a, b) => Math.Abs(a - b) <= 1e-5, $"image {i}: the grades' probabilities of z / T");
            predictions[i].Label.Should().Be((int)grades[i], "a temperature on the cumulative logits keeps CORAL's median grade");
        }
        scaled.Zip(plain, (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-3, "the temperature changes the probabilities");

        // Refusals: such a temperature without a CORAL head, an unknown name, and a grade-probability temperature with the median.
        using var linear = Tiny(ClassifierHead.Linear);
        var linearCard = ModelFile.Describe(linear, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        FluentActions.Invoking(() => linearCard.SetTemperature(TemperatureScaling.WithTemperature(2, onCumulativeLogits: true)))
            .Should().Throw<ArgumentException>().WithMessage("*cumulative logits; this card describes no CORAL head*");
        linearCard.CoralTemperature = CoralTemperature.CumulativeLogits;
        var refused = Path.Combine(_dir, "refused.safetensors");
        FluentActions.Invoking(() => ModelFile.Save(refused, linear, linearCard)).Should().Throw<ModelFormatException>().WithMessage("*scales a CORAL head's cumulative logits; this card's network has no CORAL head*");
        card.CoralTemperatureName = "logits";
        FluentActions.Invoking(() => ModelFile.Save(refused, model, card)).Should().Throw<ModelFormatException>().WithMessage("*coral_temperature 'logits' is unknown*");
        card.SetTemperature(TemperatureScaling.WithTemperature(2.5));
        card.CoralTemperatureName.Should().BeNull();
        FluentActions.Invoking(() => ModelFile.Save(refused, model, card)).Should().Throw<ModelFormatException>().WithMessage("*temperature (2.5) on the grade probabilities would move the median grade*coral_temperature*");
        File.Exists(refused).Should().BeFalse();
    }

    [Fact]
    public void CalibrationsStoredInACoralCard_RecordWhereItsTemperatureApplies_AndHoldOnlyThere()
    {
        Tensors.ManualSeed(12);
        using var model = Tiny();
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        card.SetTemperature(TemperatureScaling.WithTemperature(2, onCumulativeLogits: true));
        var scaling = card.GetTemperatureScaling();
        (scaling.Temperature, scaling.OnCumulativeLogits).Should().Be((2.0, true));
        var probabilities = new double[10, 5];
        var labels = new int[10];
        for (int i = 0; i < 10; i++)
        {
            labels[i] = i % 5;
            for (int k = 0; k < 5; k++) probabilities[i, k] = k == labels[i] ? 0.6 : 0.1;
        }
        var conformal = ConformalClassifier.Create().WithScore(ConformalScore.OrdinalAps).WithCoverage(0.8).Calibrate(labels, probabilities);
        card.Referral = ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2, scaling);
        card.Conformal = ConformalCard.From(conformal, scaling);
        card.Referral.CoralTemperatureName.Should().Be("cumulative_logits");
        card.Conformal.CoralTemperatureName.Should().Be("cumulative_logits");
        var path = Path.Combine(_dir, "coral-calibrated.safetensors");
        ModelFile.Save(path, model, card);
        var header = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path).AsSpan(0, 8192));
        header.Split("\\u0022coral_temperature\\u0022: \\u0022cumulative_logits\\u0022").Should().HaveCount(4, "the card, its referral and its conformal calibration name it");
        using (var predictor = Predictor.Load(path))
        {
            predictor.Referral.Should().NotBeNull("the threshold was chosen where the card's temperature applies");
            predictor.Conformal.Should().NotBeNull();
            predictor.Predict(RandomImages(1, seed: 3)[0]).Referred.Should().NotBeNull();
        }
        // A softmax card's calibrations name no place (as older files).
        ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2, 2.0).CoralTemperatureName.Should().BeNull();

        // The same temperature on the grade probabilities gives other probabilities: calibrations made there are refused
        // under this card, and this card's under one deciding by the most probable grade with the temperature moved there.
        var refused = Path.Combine(_dir, "refused.safetensors");
        var onGrades = TemperatureScaling.WithTemperature(2);
        card.Referral = ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2, onGrades);
        FluentActions.Invoking(() => ModelFile.Save(refused, model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*referral threshold was chosen at temperature 2 on the grade probabilities but the card's temperature is 2 on the cumulative logits; the threshold does not hold*choose it again.");
        card.Referral = null;
        card.Conformal = ConformalCard.From(conformal, onGrades);
        FluentActions.Invoking(() => ModelFile.Save(refused, model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*conformal thresholds were calibrated at temperature 2 on the grade probabilities but the card's temperature is 2 on the cumulative logits*calibrate again.");
        card.Conformal = ConformalCard.From(conformal, scaling);
        card.OrdinalDecision = OrdinalDecision.MostProbable;
        card.SetTemperature(onGrades);
        FluentActions.Invoking(() => ModelFile.Save(refused, model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*calibrated at temperature 2 on the cumulative logits but the card's temperature is 2 on the grade probabilities*");
        // At temperature 1 both places give the same probabilities; an unknown place is refused by name.
        card.SetTemperature(TemperatureScaling.WithTemperature(1));
        card.Conformal = ConformalCard.From(conformal, TemperatureScaling.WithTemperature(1, onCumulativeLogits: true));
        ModelFile.Save(refused, model, card);
        card.Conformal.CoralTemperatureName = "logits";
        FluentActions.Invoking(() => ModelFile.Save(refused, model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*the conformal calibration's coral_temperature 'logits' is unknown (grade_probabilities or cumulative_logits).");
        card.Conformal = null;
        card.Referral = ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2);
        card.Referral.CoralTemperatureName = "logits";
        FluentActions.Invoking(() => ModelFile.Save(refused, model, card)).Should().Throw<ModelFormatException>()
            .WithMessage("*the referral's coral_temperature 'logits' is unknown*");
        FluentActions.Invoking(() => ReferralCard.From(OperatingPoint.AtThreshold(0.3), 2, (TemperatureScaling)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => ConformalCard.From(conformal, (TemperatureScaling)null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void MedianGrades_AreCoralsOwnPrediction_WhereTheArgMaxFallsOnTheEndGrades()
    {
        using var scope = Tensors.NewDisposeScope();
        // Cumulative logits of one score against thresholds 0.5 apart, as a CORAL head fits noisy grades: the middle grades
        // get little probability each.
        var scores = new[] { -3.0, -1.2, -0.5, 0.1, 0.6, 1.4, 3.0 };
        var biases = new[] { 0.75, 0.25, -0.25, -0.75 };
        var logits = Tensors.FromArray(scores.SelectMany(s => biases.Select(b => (float)(s + b))).ToArray()).Reshape(scores.Length, 4);
        var coralGrades = OrdinalDecoding.ToGrades(logits).ToArray<long>().Select(g => (int)g).ToArray();
        var probabilities = OrdinalDecoding.ToClassProbabilities(logits).To(ScalarType.Float64).ToArray<double>();
        var table = new double[scores.Length, 5];
        for (int i = 0; i < scores.Length; i++)
            for (int k = 0; k < 5; k++) table[i, k] = probabilities[(i * 5) + k];
        OrdinalDecoding.MedianGrades(table).Should().Equal(coralGrades);
        coralGrades.Should().Equal(0, 0, 1, 2, 3, 4, 4);
        var argMax = Enumerable.Range(0, scores.Length).Select(i => Enumerable.Range(0, 5).MaxBy(k => table[i, k])).ToArray();
        argMax.Should().OnlyContain(g => g == 0 || g == 4, "with thresholds this close the end grades hold the most probability");

        // By hand: P = (0.1, 0.3, 0.2, 0.4) has its median at grade 2 (0.1 + 0.3 < 0.5 ≤ 0.6); unnormalised rows are normalised.
        OrdinalDecoding.MedianGrades(new double[,] { { 0.1, 0.3, 0.2, 0.4 }, { 2, 0, 0, 2 }, { 0, 0, 0, 5 } }).Should().Equal(2, 0, 3);
        FluentActions.Invoking(() => OrdinalDecoding.MedianGrades(new double[,] { { 0.5, -0.1, 0.6 } })).Should().Throw<ArgumentException>().WithMessage("*Row 0*-0.1*grade 1*");
        FluentActions.Invoking(() => OrdinalDecoding.MedianGrades(new double[,] { { 0, 0 } })).Should().Throw<ArgumentException>().WithMessage("*Row 0 holds no probability*");
        FluentActions.Invoking(() => OrdinalDecoding.MedianGrades(new double[,] { { 1 } })).Should().Throw<ArgumentException>().WithMessage("*at least 2 grades*");
    }

    [Fact]
    public void TheMedianDecision_DecidesTheEvaluatorsAndAnyOrdinalModelsPredictions()
    {
        // Grade probabilities whose arg-max and median differ (rows 0 and 2).
        var scores = new double[,] { { 0.4, 0.05, 0.1, 0.05, 0.4 }, { 0.1, 0.6, 0.1, 0.1, 0.1 }, { 0.3, 0.1, 0.1, 0.15, 0.35 } };
        var labels = new[] { 2, 1, 2 };
        MedMnistEvaluator.Predict(MedMnistTask.OrdinalRegression, scores).Should().Equal(0, 1, 4);
        MedMnistEvaluator.Predict(MedMnistTask.OrdinalRegression, scores, OrdinalDecision.Median).Should().Equal(2, 1, 2);   // cumulative 0.4, 0.45, 0.55 | 0.1, 0.7 | 0.3, 0.4, 0.5
        MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores).Should().BeApproximately(1 / 3.0, 1e-12);
        MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores, OrdinalDecision.Median).Should().Be(1);
        var report = ModelEvaluator.Evaluate(MedMnistTask.OrdinalRegression, labels, scores, OrdinalDecision.Median, new BootstrapOptions { Resamples = 0 });
        report["ACC"].Value.Should().Be(1);
        report["Mean absolute error"].Value.Should().Be(0);
        ModelEvaluator.Evaluate(MedMnistTask.OrdinalRegression, labels, scores, new BootstrapOptions { Resamples = 0 })["Mean absolute error"].Value.Should().BeApproximately(4 / 3.0, 1e-12);
        FluentActions.Invoking(() => MedMnistEvaluator.GetAcc(MedMnistTask.MultiClass, labels, scores, OrdinalDecision.Median))
            .Should().Throw<ArgumentException>().WithMessage("*median decision reads grade probabilities of ordinal tasks, not of MultiClass ones*");

        // A softmax ordinal model's card may decide by the median too; its predictor then does.
        Tensors.ManualSeed(17);
        using var model = Tiny(ClassifierHead.Linear);
        var card = ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        card.OrdinalDecision = OrdinalDecision.Median;
        var path = Path.Combine(_dir, "softmax-median.safetensors");
        ModelFile.Save(path, model, card);
        ModelFile.ReadCard(path).FormatVersion.Should().Be(9, "an older reader would decide by the most probable grade");
        using var predictor = Predictor.Load(path);
        var images = RandomImages(8, seed: 6);
        foreach (var prediction in predictor.Predict(images))
        {
            var row = new double[1, 5];
            for (int k = 0; k < 5; k++) row[0, k] = prediction.Probabilities[k];
            prediction.Label.Should().Be(OrdinalDecoding.MedianGrades(row)[0]);
            prediction.Grade.Should().Be(prediction.Label);
            prediction.LabelName.Should().Be(Grades[prediction.Label]);
        }
    }

    [Fact]
    public void CardsThatMisdescribeTheHead_AreRefused()
    {
        using var coral = Tiny();
        using var linear = Tiny(ClassifierHead.Linear);
        FluentActions.Invoking(() => ModelFile.Describe(coral, Preprocessing28, Grades, MedMnistTask.MultiClass))
            .Should().Throw<ArgumentException>().WithMessage("*CORAL head ranks ordered grades*OrdinalRegression, not MultiClass*");
        var path = Path.Combine(_dir, "mismatch.safetensors");
        var linearCard = ModelFile.Describe(linear, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        linearCard.ResNet!.Head.Should().BeNull("a linear head is not written");
        linearCard.FormatVersion.Should().Be(1);
        FluentActions.Invoking(() => ModelFile.Save(path, coral, linearCard)).Should().Throw<ArgumentException>().WithMessage("*ResNet has a CORAL head but the card describes a linear classifier*");
        var coralCard = ModelFile.Describe(coral, Preprocessing28, Grades, MedMnistTask.OrdinalRegression);
        FluentActions.Invoking(() => ModelFile.Save(path, linear, coralCard)).Should().Throw<ArgumentException>().WithMessage("*card describes a CORAL head but the ResNet has a linear classifier*");
        File.Exists(path).Should().BeFalse();

        coralCard.Temperature = 1.5;
        FluentActions.Invoking(() => ModelFile.Save(path, coral, coralCard)).Should().Throw<ModelFormatException>().WithMessage("*temperature (1.5) on the grade probabilities would move the median grade*");
        coralCard.Temperature = 1;
        coralCard.OrdinalDecisionName = "mode";
        FluentActions.Invoking(() => ModelFile.Save(path, coral, coralCard)).Should().Throw<ModelFormatException>().WithMessage("*unknown ordinal decision 'mode' (most_probable or median)*");
        coralCard.OrdinalDecisionName = "median";
        linearCard.Task = nameof(MedMnistTask.MultiClass);
        linearCard.OrdinalDecision = OrdinalDecision.Median;
        FluentActions.Invoking(() => ModelFile.Save(path, linear, linearCard)).Should().Throw<ModelFormatException>().WithMessage("*median decision reads grade probabilities; the task is MultiClass*");
        linearCard.Task = nameof(MedMnistTask.OrdinalRegression);
        linearCard.OrdinalDecision = OrdinalDecision.MostProbable;
        linearCard.OrdinalDecisionName.Should().BeNull();
        coralCard.Task = nameof(MedMnistTask.MultiClass);
        FluentActions.Invoking(() => ModelFile.Save(path, coral, coralCard)).Should().Throw<ModelFormatException>().WithMessage("*CORAL head ranks ordered grades; its task must be OrdinalRegression, not MultiClass*");
        coralCard.Task = nameof(MedMnistTask.OrdinalRegression);
        coralCard.ResNet!.Head = "ordinal";
        FluentActions.Invoking(() => ModelFile.Save(path, coral, coralCard)).Should().Throw<ModelFormatException>().WithMessage("*unknown ResNet head 'ordinal' (linear or coral)*");

        // Weights of a linear head under a card that says CORAL: the strict load names the head's shapes.
        ModelFile.Save(path, linear, linearCard);
        var json = ModelFile.ReadCard(path);
        json.ResNet!.Head = "coral";
        json.FormatVersion = 9;
        var forged = Path.Combine(_dir, "forged.safetensors");
        using (var weights = MedVision.Torch.Serialization.SafeTensors.Load(path))
            MedVision.Torch.Serialization.SafeTensors.Save(forged, weights, new Dictionary<string, string> { [ModelFile.MetadataKey] = System.Text.Json.JsonSerializer.Serialize(json) });
        FluentActions.Invoking(() => ModelFile.Load(forged)).Should().Throw<ModelFormatException>().WithMessage("*fc.weight*");
    }

    [Fact]
    public void Explanations_MapTheSeverityScore_TheSameForEveryGrade()
    {
        Tensors.ManualSeed(13);
        using var model = Tiny();
        var path = Path.Combine(_dir, "explained.safetensors");
        ModelFile.Save(path, model, ModelFile.Describe(model, Preprocessing28, Grades, MedMnistTask.OrdinalRegression));
        using var predictor = Predictor.Load(path);
        var image = RandomImages(1, seed: 4)[0];

        var first = predictor.Explain(image, CamMethod.GradCam, targetClass: 0);
        var last = predictor.Explain(image, CamMethod.GradCam, targetClass: 4);
        first.TargetClass.Should().Be(0);
        last.TargetClassName.Should().Be("4");
        first.Map.Should().Equal(last.Map);
        first.Map.Max().Should().BeGreaterThan(0, "the map is not empty");
        using var scope = Tensors.NewDisposeScope();
        using var reloaded = (ResNet)ModelFile.Load(path).Model;
        reloaded.Eval();
        var direct = GradCam.ForResNet(reloaded).Compute(predictor.Preprocess(new[] { image }), new long[] { 0 }).Maps.ToArray<float>();
        first.Map.Select(v => (double)v).Should().Equal(direct.Select(v => (double)v), (a, b) => Math.Abs(a - b) <= 1e-5, "the map of the first cumulative logit, the score's");

        var saliency = predictor.Explain(image, AttributionMethod.Saliency, targetClass: 3);
        saliency.Map.Should().Equal(predictor.Explain(image, AttributionMethod.Saliency, targetClass: 1).Map);
        FluentActions.Invoking(() => predictor.Explain(image, CamMethod.GradCam, targetClass: 5)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
