using System.Globalization;
using System.Text.Json;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Training;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class CrossValidationTests : IDisposable
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mvn-cv-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static Sequential TinyCnn()
        => new(new Conv2d(3, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 5));

    // 60 training images of the shipped RetinaMNIST (the pool the folds are cut from) and 24 test images.
    private static SubsetSource Pool() => new(new MedMnistImageSource(Retina.Value.Train), Enumerable.Range(0, 60).ToArray());

    private static SubsetSource TestSource() => new(new MedMnistImageSource(Retina.Value.Test), Enumerable.Range(0, 24).ToArray());

    private static int[] PoolLabels() => Enumerable.Range(0, 60).Select(i => Retina.Value.Train.Labels[i, 0]).ToArray();

    private static DataLoaderOptions TrainOptions() => new()
    {
        BatchSize = 16, Shuffle = true, Seed = 5, Transform = TransformPipeline.Create().RandomHorizontalFlip().Normalize(0.5f, 0.5f).Build(),
    };

    private static DataLoaderOptions EvaluationOptions() => new() { BatchSize = 7, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build() };

    // What every fold's trainer is, in the cross-validation and in the oracle below: the model's initial weights come
    // from the global generator, so it is seeded before the model is created, as the trainer seeds before training.
    private static TrainerBuilder Recipe(int fold, MedMnistTask taskType = MedMnistTask.OrdinalRegression)
    {
        Tensors.ManualSeed((ulong)(100 + fold));
        return Trainer.Create(new ClassificationTask(TinyCnn(), taskType)).UseAdam(1e-2).ForEpochs(2).WithSeed(11 + fold);
    }

    private CrossValidationBuilder Configured(string? folder = "cv") => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression)
        .WithFolds(3)
        .WithSeed(4)
        .StratifyBy(PoolLabels())
        .TrainWith(TrainOptions())
        .EvaluateWith(EvaluationOptions())
        .TestOn(TestSource())
        .SaveTo(Path.Combine(_root, folder ?? "cv"));

    private static CrossValidationResult RunTiny(CrossValidationBuilder builder, bool resume = false, CancellationToken cancellationToken = default)
        => builder.Run(split => Recipe(split.Index), resume, cancellationToken);

    [Fact]
    public void EveryFoldIsTheTrainerRunOnItsSplit_AndTheOutOfFoldAndEnsemblePredictionsAreThoseOfTheFoldModels()
    {
        long live = Tensors.LiveTensors;
        var foldModelsAlive = new List<bool>();
        var result = Configured().OnFoldTrained((fold, task) =>
        {
            using var x = Tensors.Zeros(1, 3, 28, 28);
            using var y = ((Sequential)task.Model).Forward(x);
            foldModelsAlive.Add(y.Shape[1] == 5);
        }).Run(split => Recipe(split.Index));
        Tensors.LiveTensors.Should().Be(live, "the cross-validation disposes every fold's model");
        foldModelsAlive.Should().Equal(true, true, true);

        var expectedSplits = DataSplits.StratifiedKFold(PoolLabels(), 3, 4);
        result.Folds.Should().HaveCount(3);
        var (oofLabels, oofScores, oofFolds) = result.GetOutOfFoldPredictions();
        var (testLabels, ensembleScores) = result.GetEnsembleTestPredictions();
        var testSum = new double[24, 5];
        for (int f = 0; f < 3; f++)
        {
            var fold = result.Folds[f];
            fold.Split.TrainIndices.Should().Equal(expectedSplits[f].Train);
            fold.Split.ValidationIndices.Should().Equal(expectedSplits[f].Validation);
            fold.Directory.Should().Be(Path.Combine(_root, "cv", $"fold-{f + 1}"));
            File.Exists(Path.Combine(fold.Directory!, "last.safetensors")).Should().BeTrue();

            // The oracle: the same recipe run by hand on the fold's samples, then asked for its predictions.
            var recipe = Recipe(f);
            var task = recipe.Task;
            using var model = task.Model;
            var validation = new DataLoader(new SubsetSource(Pool(), expectedSplits[f].Validation), EvaluationOptions());
            var alone = recipe.TrainOn(new DataLoader(new SubsetSource(Pool(), expectedSplits[f].Train), TrainOptions())).ValidateOn(validation).Build().Run();
            var (labels, scores) = Trainer.Predict(task, validation);
            var (_, testScores) = Trainer.Predict(task, new DataLoader(TestSource(), EvaluationOptions()));

            fold.Training.BestEpoch.Should().Be(alone.BestEpoch);
            fold.Training.History.Select(h => h.TrainLoss).Should().Equal(alone.History.Select(h => h.TrainLoss));
            fold.Validation.Should().Be(alone.Validation);
            fold.Test.Auc.Should().Be(MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, testLabels, testScores).Value);
            for (int i = 0; i < expectedSplits[f].Validation.Length; i++)
            {
                int row = expectedSplits[f].Validation[i];
                oofFolds[row].Should().Be(f);
                oofLabels[row, 0].Should().Be(labels[i, 0]).And.Be(PoolLabels()[row]);
                for (int j = 0; j < 5; j++) oofScores[row, j].Should().Be(scores[i, j]);
                fold.GetValidationPredictions().Scores[i, 4].Should().Be(scores[i, 4]);
                fold.GetValidationPredictions().Labels[i, 0].Should().Be(labels[i, 0]);
            }
            for (int i = 0; i < 24; i++) for (int j = 0; j < 5; j++) testSum[i, j] += testScores[i, j];
        }
        for (int i = 0; i < 24; i++)
        {
            testLabels[i, 0].Should().Be(Retina.Value.Test.Labels[i, 0]);
            for (int j = 0; j < 5; j++) ensembleScores[i, j].Should().BeApproximately(testSum[i, j] / 3, 1e-12);
        }
        result.OutOfFold.Auc.Should().Be(MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, oofLabels, oofScores).Value);
        result.OutOfFold.Acc.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, oofLabels, oofScores));
        result.EnsembleTest.Auc.Should().Be(MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, testLabels, ensembleScores).Value);

        var aucs = result.Folds.Select(f => f.Validation.Auc).ToArray();
        double mean = (aucs[0] + aucs[1] + aucs[2]) / 3;
        result.ValidationAuc.Mean.Should().BeApproximately(mean, 1e-12);
        result.ValidationAuc.StandardDeviation.Should().BeApproximately(Math.Sqrt(aucs.Sum(a => (a - mean) * (a - mean)) / 2), 1e-12);
        result.ValidationAuc.Minimum.Should().Be(aucs.Min());
        result.TestAcc.Maximum.Should().Be(result.Folds.Max(f => f.Test.Acc));

        // The files: the summary, the out-of-fold predictions (every value read back) and the folds.
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "cv", CrossValidationBuilder.ResultFileName))))
        {
            json.RootElement.GetProperty("format").GetString().Should().Be("medvision.cross-validation");
            json.RootElement.GetProperty("folds").GetArrayLength().Should().Be(3);
            json.RootElement.GetProperty("folds")[1].GetProperty("validation_samples").GetInt32().Should().Be(expectedSplits[1].Validation.Length);
            json.RootElement.GetProperty("out_of_fold").GetProperty("auc").GetDouble().Should().Be(result.OutOfFold.Auc);
            json.RootElement.GetProperty("ensemble_test").GetProperty("acc").GetDouble().Should().Be(result.EnsembleTest.Acc);
            json.RootElement.GetProperty("validation_auc").GetProperty("sd").GetDouble().Should().Be(result.ValidationAuc.StandardDeviation);
        }
        var lines = File.ReadAllLines(Path.Combine(_root, "cv", CrossValidationBuilder.OutOfFoldFileName));
        lines[0].Should().Be("index,fold,label,score_0,score_1,score_2,score_3,score_4");
        lines.Should().HaveCount(61);
        for (int i = 0; i < 60; i++)
        {
            var cells = lines[i + 1].Split(',');
            cells[0].Should().Be(i.ToString(CultureInfo.InvariantCulture));
            cells[1].Should().Be((oofFolds[i] + 1).ToString(CultureInfo.InvariantCulture));
            cells[2].Should().Be(oofLabels[i, 0].ToString(CultureInfo.InvariantCulture));
            for (int j = 0; j < 5; j++) double.Parse(cells[3 + j], CultureInfo.InvariantCulture).Should().Be(oofScores[i, j]);
        }
        File.Exists(Path.Combine(_root, "cv", CrossValidationBuilder.FoldsFileName)).Should().BeTrue();
    }

    [Fact]
    public void CoralFolds_AreScoredByTheirMedianGrades_AndTasksThatDecideOtherwiseCannotShareAValidation()
    {
        // A tiny CNN ending in a CORAL head: 4 cumulative logits for the 5 grades.
        static TrainerBuilder Coral(int fold)
        {
            Tensors.ManualSeed((ulong)(200 + fold));
            var model = new Sequential(new Conv2d(3, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new MedVision.Nets.Heads.CoralHead(4, 5));
            return Trainer.Create(new CoralTask(model)).UseAdam(1e-2).ForEpochs(2).WithSeed(11 + fold);
        }
        var result = Configured("cv-coral").Run(split => Coral(split.Index));
        var (oofLabels, oofScores, _) = result.GetOutOfFoldPredictions();
        result.OutOfFold.Acc.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, oofLabels, oofScores, OrdinalDecision.Median));
        var (testLabels, ensembleScores) = result.GetEnsembleTestPredictions();
        result.EnsembleTest.Acc.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, testLabels, ensembleScores, OrdinalDecision.Median));
        foreach (var fold in result.Folds)
        {
            var (labels, scores) = fold.GetValidationPredictions();
            fold.Validation.Acc.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores, OrdinalDecision.Median));
        }

        result.Decision.Should().Be(OrdinalDecision.Median);
        JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "cv-coral", CrossValidationBuilder.ResultFileName))).RootElement
            .GetProperty("ordinal_decision").GetString().Should().Be("median");

        // Compared with a softmax recipe on the same folds, each side's ACC — fold by fold, McNemar's out of fold and on
        // the test split — counts its own decision: the median grades here, the most probable ones there.
        var linear = RunTiny(Configured("cv-linear"));
        linear.Decision.Should().Be(OrdinalDecision.MostProbable);
        var comparison = result.Compare(linear);
        comparison.Acc.Differences.Should().Equal(result.Folds.Select((f, i) => f.Validation.Acc - linear.Folds[i].Validation.Acc));
        comparison.OutOfFoldAccuracy!.AccuracyA.Should().Be(result.OutOfFold.Acc);
        comparison.OutOfFoldAccuracy.AccuracyB.Should().Be(linear.OutOfFold.Acc);
        comparison.EnsembleTestAccuracy!.AccuracyA.Should().Be(result.EnsembleTest.Acc);
        var (_, linearScores, folds) = linear.GetOutOfFoldPredictions();
        var fromFiles = CrossValidationComparison.FromOutOfFold(MedMnistTask.OrdinalRegression, oofLabels, oofScores, folds, OrdinalDecision.Median, linearScores, folds, OrdinalDecision.MostProbable);
        fromFiles.Acc.Differences.Should().Equal(comparison.Acc.Differences);
        fromFiles.OutOfFoldAccuracy.Should().BeEquivalentTo(comparison.OutOfFoldAccuracy);

        FluentActions.Invoking(() => Configured("cv-mixed").Run(split => split.Index == 0 ? Coral(0) : Recipe(split.Index)))
            .Should().Throw<InvalidOperationException>().WithMessage("*fold 2 decides grades by MostProbable, an earlier fold's by Median*");
    }

    [Fact]
    public void AnInterruptedRunResumesToTheResultOfAnUninterruptedOne_AndRefusesOtherFolds()
    {
        var whole = RunTiny(Configured("whole"));

        // Cancelled while fold 2 trains: fold 1 is finished, fold 2 has a checkpoint of its first epoch.
        using var cancel = new CancellationTokenSource();
        var interrupted = Configured("interrupted");
        var act = () => interrupted.Run(split =>
        {
            var builder = Recipe(split.Index);
            if (split.Index == 1) builder.ReportProgressTo(new CancelAfterAnEpoch(cancel));
            return builder;
        }, cancellationToken: cancel.Token);
        act.Should().Throw<OperationCanceledException>();
        File.Exists(Path.Combine(_root, "interrupted", CrossValidationBuilder.ResultFileName)).Should().BeFalse();

        var resumed = RunTiny(Configured("interrupted"), resume: true);
        resumed.OutOfFold.Should().Be(whole.OutOfFold);
        resumed.EnsembleTest.Should().Be(whole.EnsembleTest);
        resumed.Folds.Select(f => f.Validation).Should().Equal(whole.Folds.Select(f => f.Validation));
        resumed.Folds.Select(f => f.Training.History.Count).Should().Equal(2, 2, 2);
        resumed.GetOutOfFoldPredictions().Scores.Should().BeEquivalentTo(whole.GetOutOfFoldPredictions().Scores);

        // Other folds over the saved run would validate on samples its folds trained on.
        var otherSeed = () => RunTiny(Configured("interrupted").WithSeed(5), resume: true);
        otherSeed.Should().Throw<InvalidDataException>().WithMessage("*folds of this configuration differ*");
        var otherCount = () => RunTiny(Configured("interrupted").WithFolds(4), resume: true);
        otherCount.Should().Throw<InvalidDataException>().WithMessage("*folds of this configuration differ*");
    }

    [Fact]
    public void FoldsTrainedApart_AreGatheredByAResumedRun_IntoTheResultOfOneRun()
    {
        var whole = RunTiny(Configured("whole-run"));

        // Two "processes" train their folds into one folder (fold 3 first, then folds 1 and 2), each on its own builder.
        var late = Configured("apart").RunFolds([3], split => Recipe(split.Index));
        late.Should().ContainSingle().Which.Index.Should().Be(2);
        late[0].Validation.Should().Be(whole.Folds[2].Validation, "a fold trained alone is the fold of the whole run");
        File.Exists(Path.Combine(_root, "apart", CrossValidationBuilder.FoldsFileName)).Should().BeTrue("the first process records the folds");
        File.Exists(Path.Combine(_root, "apart", CrossValidationBuilder.ResultFileName)).Should().BeFalse("nothing is summed up from some folds");
        var early = Configured("apart").RunFolds([1, 2], split => Recipe(split.Index));
        early.Select(f => f.Index).Should().Equal(0, 1);

        // Gathered: the finished folds re-predict, and the result is the one run's.
        var gathered = RunTiny(Configured("apart"), resume: true);
        gathered.OutOfFold.Should().Be(whole.OutOfFold);
        gathered.EnsembleTest.Should().Be(whole.EnsembleTest);
        gathered.Folds.Select(f => f.Training.History.Count).Should().Equal(new[] { 2, 2, 2 }, "no fold trains again");
        File.Exists(Path.Combine(_root, "apart", CrossValidationBuilder.ResultFileName)).Should().BeTrue();

        // A process of other folds is refused, as are folds that do not exist or are named twice, and a run that saves nothing.
        var otherSeed = () => Configured("apart").WithSeed(5).RunFolds([2], split => Recipe(split.Index));
        otherSeed.Should().Throw<InvalidDataException>().WithMessage("*folds of this configuration differ*");
        FluentActions.Invoking(() => Configured("apart").RunFolds([4], split => Recipe(split.Index))).Should().Throw<ArgumentException>().WithMessage("*Fold 4 is not one of the 3 folds (1 to 3)*");
        FluentActions.Invoking(() => Configured("apart").RunFolds([2, 2], split => Recipe(split.Index))).Should().Throw<ArgumentException>().WithMessage("*Fold 2 is named twice*");
        FluentActions.Invoking(() => Configured("apart").RunFolds([], split => Recipe(split.Index))).Should().Throw<ArgumentException>().WithMessage("*at least one fold*");
        FluentActions.Invoking(() => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).TrainWith(TrainOptions()).EvaluateWith(EvaluationOptions()).RunFolds([1], split => Recipe(split.Index)))
            .Should().Throw<InvalidOperationException>().WithMessage("*SaveTo(directory)*Run(resume: true)*");
    }

    // Preprocessing fitted on each fold's own training samples (normalisation by their mean): the options chosen per
    // fold reach that fold's loaders, and nothing else.
    [Fact]
    public void TensorBoard_GetsARunPerFold_WithThatFoldsHistory()
    {
        var board = Path.Combine(_root, "board");
        var result = CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2).WithSeed(1)
            .TrainWith(TrainOptions()).EvaluateWith(EvaluationOptions())
            .WriteTensorBoardTo(board)
            .Run(split => Recipe(split.Index));
        var runs = MedVision.Torch.TensorBoard.EventFileReader.ReadRuns(board);
        runs.Keys.Should().Equal("fold-1", "fold-2");
        for (int f = 0; f < 2; f++)
        {
            var auc = runs[$"fold-{f + 1}"].Where(p => p.Tag == "validation/auc").Select(p => p.Value);
            auc.Should().Equal(result.Folds[f].Training.History.Select(e => (double)(float)e.Validation.Auc), "fold {0}'s run is its own history", f + 1);
        }
        FluentActions.Invoking(() => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2).TrainWith(TrainOptions()).EvaluateWith(EvaluationOptions())
                .WriteTensorBoardTo(Path.Combine(_root, "twice"))
                .Run(split => Recipe(split.Index).WriteTensorBoardTo(Path.Combine(_root, "mine"))))
            .Should().Throw<InvalidOperationException>().WithMessage("The configuration of fold 1 calls WriteTensorBoardTo; the cross-validation writes every fold's summaries itself*");
        FluentActions.Invoking(() => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WriteTensorBoardTo(" ")).Should().Throw<ArgumentException>().WithParameterName("logDirectory");
    }

    [Fact]
    public void OptionsChosenPerFoldReachThatFoldsLoaders()
    {
        static float MeanOf(ILabeledImageSource part) => (float)Enumerable.Range(0, part.Count).SelectMany(i => part.Load(i).Image.Data).Average();
        DataLoaderOptions Train(float mean) => new() { BatchSize = 16, Shuffle = true, Seed = 5, Transform = TransformPipeline.Create().RandomHorizontalFlip().Normalize(mean, 0.25f).Build() };
        DataLoaderOptions Evaluate(float mean) => new() { BatchSize = 7, Transform = TransformPipeline.Create().Normalize(mean, 0.25f).Build() };
        var chosen = new List<int>();
        var result = CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2).WithSeed(1)
            .TrainWith(split => { chosen.Add(split.Index); return Train(MeanOf(split.Train)); })
            .EvaluateWith(split => Evaluate(MeanOf(split.Train)))
            .TestOn(TestSource())
            .Run(split => Recipe(split.Index));
        chosen.Should().Equal(0, 1);

        var splits = DataSplits.KFold(60, 2, 1);
        for (int f = 0; f < 2; f++)
        {
            var recipe = Recipe(f);
            using var model = recipe.Task.Model;
            float mean = MeanOf(new SubsetSource(Pool(), splits[f].Train));
            var validation = new DataLoader(new SubsetSource(Pool(), splits[f].Validation), Evaluate(mean));
            var alone = recipe.TrainOn(new DataLoader(new SubsetSource(Pool(), splits[f].Train), Train(mean))).ValidateOn(validation).Build().Run();
            result.Folds[f].Validation.Should().Be(alone.Validation);
            var (labels, scores) = Trainer.Predict(recipe.Task, new DataLoader(TestSource(), Evaluate(mean)));
            result.Folds[f].Test.Auc.Should().Be(MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, labels, scores).Value, "the test split is read with the fold's own evaluation options");
        }

        long live = Tensors.LiveTensors;
        var shuffled = () => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2)
            .TrainWith(TrainOptions()).EvaluateWith(split => new DataLoaderOptions { Shuffle = split.Index == 1 }).Run(split => Recipe(split.Index));
        shuffled.Should().Throw<InvalidOperationException>().WithMessage("The evaluation options of fold 2: Evaluation loaders predict every sample once*");
        var missing = () => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2)
            .TrainWith(_ => null!).EvaluateWith(EvaluationOptions()).Run(split => Recipe(split.Index));
        missing.Should().Throw<InvalidOperationException>().WithMessage("The training options of fold 1 are null.");
        var built = () => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2).TrainWith(TrainOptions()).EvaluateWith(EvaluationOptions())
            .Run(split => { var b = Recipe(split.Index).TrainOn(new DataLoader(Pool(), TrainOptions())); b.Build(); return b; });
        built.Should().Throw<InvalidOperationException>().WithMessage("*returned a builder that has already built its trainer*");
        Tensors.LiveTensors.Should().Be(live, "the models of refused folds are disposed");
    }

    [Fact]
    public void TwoRecipesOnTheSameFolds_AreComparedFoldByFold_OutOfFold_AndByTheirEnsembles()
    {
        var a = RunTiny(Configured("compare-a"));
        // Recipe B: a ten times smaller learning rate, on the same folds.
        var b = Configured("compare-b").Run(split =>
        {
            Tensors.ManualSeed((ulong)(100 + split.Index));
            return Trainer.Create(new ClassificationTask(TinyCnn(), MedMnistTask.OrdinalRegression)).UseAdam(1e-3).ForEpochs(2).WithSeed(11 + split.Index);
        });

        var comparison = a.Compare(b);

        comparison.TestToTrainRatio.Should().Be(0.5, "3 folds of 60 samples: 20 scored against 40 trained each");
        var aucDifferences = a.Folds.Select((f, i) => f.Validation.Auc - b.Folds[i].Validation.Auc).ToArray();
        comparison.Auc.Differences.Should().Equal(aucDifferences);
        comparison.FoldsA.Should().Equal(a.Folds.Select(f => f.Validation));
        comparison.FoldsB.Should().Equal(b.Folds.Select(f => f.Validation));
        comparison.Auc.PValue.Should().Be(ResampledTTest.Corrected(aucDifferences, 0.5).PValue);
        comparison.Acc.Differences.Should().Equal(a.Folds.Select((f, i) => f.Validation.Acc - b.Folds[i].Validation.Acc));
        var (labels, oofA, _) = a.GetOutOfFoldPredictions();
        var oofB = b.GetOutOfFoldPredictions().Scores;
        comparison.OutOfFold.Should().BeEquivalentTo(DeLong.Compare(MedMnistTask.OrdinalRegression, labels, oofA, oofB));
        comparison.OutOfFold.AucA.Should().Be(a.OutOfFold.Auc);
        comparison.OutOfFoldAccuracy.Should().BeEquivalentTo(McNemar.Compare(MedMnistTask.OrdinalRegression, labels, oofA, oofB));
        var (testLabels, ensembleA) = a.GetEnsembleTestPredictions();
        comparison.EnsembleTest.Should().BeEquivalentTo(DeLong.Compare(MedMnistTask.OrdinalRegression, testLabels, ensembleA, b.GetEnsembleTestPredictions().Scores));
        comparison.EnsembleTest!.AucA.Should().Be(a.EnsembleTest.Auc);
        comparison.EnsembleTestAccuracy!.AccuracyB.Should().Be(b.EnsembleTest.Acc);

        // The same comparison from the out-of-fold files the two runs wrote, read back (no ensembles there).
        var readA = CrossValidationResult.ReadOutOfFoldCsv(Path.Combine(_root, "compare-a", CrossValidationBuilder.OutOfFoldFileName));
        var readB = CrossValidationResult.ReadOutOfFoldCsv(Path.Combine(_root, "compare-b", CrossValidationBuilder.OutOfFoldFileName));
        readA.Labels.Should().BeEquivalentTo(labels);
        readA.Scores.Should().BeEquivalentTo(oofA, "the file keeps every score's 17 digits");
        readA.Folds.Should().Equal(a.GetOutOfFoldPredictions().Folds);
        var fromFiles = CrossValidationComparison.FromOutOfFold(MedMnistTask.OrdinalRegression, readA.Labels, readA.Scores, readA.Folds, readB.Scores, readB.Folds);
        fromFiles.Should().BeEquivalentTo(comparison, o => o.Excluding(c => c.EnsembleTest).Excluding(c => c.EnsembleTestAccuracy));
        fromFiles.EnsembleTest.Should().BeNull();
        var shifted = (int[])readB.Folds.Clone();
        int other = Array.FindIndex(shifted, f => f != shifted[0]);
        (shifted[0], shifted[other]) = (shifted[other], shifted[0]);
        FluentActions.Invoking(() => CrossValidationComparison.FromOutOfFold(MedMnistTask.OrdinalRegression, readA.Labels, readA.Scores, readA.Folds, readB.Scores, shifted))
            .Should().Throw<ArgumentException>().WithMessage("Sample 0 is in fold*same folds*");

        var oneFold = new int[readA.Folds.Length];
        FluentActions.Invoking(() => CrossValidationComparison.FromOutOfFold(MedMnistTask.OrdinalRegression, readA.Labels, readA.Scores, oneFold, readB.Scores, oneFold))
            .Should().Throw<ArgumentException>().WithMessage("*k ≥ 2*");

        var itself = a.Compare(a);
        itself.Auc.PValue.Should().Be(1);
        itself.OutOfFold.PValue.Should().Be(1);

        // Other folds, another fold count, another task: refused by name.
        var otherFolds = Configured("compare-c").WithSeed(5).Run(split => Recipe(split.Index));
        FluentActions.Invoking(() => a.Compare(otherFolds)).Should().Throw<ArgumentException>().WithMessage("Fold 1 holds other samples*same folds*").WithParameterName("other");
        var twoFolds = Configured("compare-d").WithFolds(2).Run(split => Recipe(split.Index));
        FluentActions.Invoking(() => a.Compare(twoFolds)).Should().Throw<ArgumentException>().WithMessage("*has 2 folds, this one 3*");
        FluentActions.Invoking(() => a.Compare(null!)).Should().Throw<ArgumentNullException>();
    }

    [Theory]
    [InlineData("index,fold,label,score_0\n0,1,0,0.5\n", null)]
    [InlineData("index,fold,label\n0,1,0\n", "line 1 is*not the header")]
    [InlineData("index,fold,label,score_0,score_2\n0,1,0,0.5,0.5\n", "line 1 is*not the header")]
    [InlineData("index,fold,label,score_0\n1,1,0,0.5\n", "line 2 has index \"1\"*in order")]
    [InlineData("index,fold,label,score_0\n0,0,0,0.5\n", "line 2 has fold \"0\"*numbered from 1")]
    [InlineData("index,fold,label,score_0\n0,1,0,NaN\n", "line 2 has score \"NaN\"*finite")]
    [InlineData("index,fold,label,score_0\n0,1,0\n", "line 2 has 3 cells*header has 4")]
    [InlineData("index,fold,label,score_0\n0,1,x,0.5\n", "line 2 has label \"x\"*")]
    [InlineData("index,fold,label,score_0\n", "*at least one row*")]
    public void OutOfFoldFiles_AreReadBack_OrRefusedWithTheLineAndProblem(string text, string? problem)
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "oof.csv");
        File.WriteAllText(path, text);
        var read = () => CrossValidationResult.ReadOutOfFoldCsv(path);
        if (problem is null)
        {
            var (labels, scores, folds) = read();
            (labels[0, 0], scores[0, 0], folds[0]).Should().Be((0, 0.5, 0));
        }
        else
        {
            read.Should().Throw<MedVision.Nets.Data.DataFormatException>().WithMessage("*" + problem + "*").Which.FilePath.Should().Be(path);
        }

        var missing = () => CrossValidationResult.ReadOutOfFoldCsv(Path.Combine(_root, "none.csv"));
        missing.Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void WithoutATestSplitTheTestFiguresAreNaNAndTheEnsembleIsRefused()
    {
        var result = CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2).TrainWith(TrainOptions()).EvaluateWith(EvaluationOptions())
            .SaveTo(Path.Combine(_root, "no-test")).Run(split => Recipe(split.Index));
        result.HasTest.Should().BeFalse();
        double.IsNaN(result.EnsembleTest.Auc).Should().BeTrue();
        double.IsNaN(result.TestAuc.Mean).Should().BeTrue();
        result.TestAuc.ToString().Should().Be("n/a");
        result.Folds.Should().OnlyContain(f => double.IsNaN(f.Test.Auc) && !f.ToString().Contains("test"));
        var ensemble = () => result.GetEnsembleTestPredictions();
        ensemble.Should().Throw<InvalidOperationException>().WithMessage("*no test split*");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "no-test", CrossValidationBuilder.ResultFileName)));
        json.RootElement.GetProperty("ensemble_test").GetProperty("auc").GetString().Should().Be("NaN");
        json.RootElement.GetProperty("out_of_fold").GetProperty("auc").GetDouble().Should().Be(result.OutOfFold.Auc);
    }

    [Fact]
    public void FoldStatisticsAreMeanSampleDeviationAndRange()
    {
        var s = FoldStatistic.Of(new[] { 0.5, 0.7, 0.9 });
        s.Mean.Should().BeApproximately(0.7, 1e-15);
        s.StandardDeviation.Should().BeApproximately(0.2, 1e-15, "n − 1: sqrt((0.04 + 0 + 0.04) / 2)");
        (s.Minimum, s.Maximum).Should().Be((0.5, 0.9));
        s.ToString().Should().Be("0.7000 ± 0.2000");
        FoldStatistic.Of(new[] { 0.25 }).Should().Be(new FoldStatistic(0.25, 0, 0.25, 0.25));
        double.IsNaN(FoldStatistic.Of(new[] { 0.5, double.NaN }).Mean).Should().BeTrue("a fold without the metric leaves the statistic undefined");
        double.IsNaN(FoldStatistic.Of(Array.Empty<double>()).StandardDeviation).Should().BeTrue();
    }

    [Fact]
    public void WithoutLabelsTheFoldsArePlainAndWithGroupsNoGroupIsSplit()
    {
        var plain = CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(4).WithSeed(2).Folds();
        plain.Select(f => f.Validation).Should().BeEquivalentTo(DataSplits.KFold(60, 4, 2).Select(f => f.Validation), o => o.WithStrictOrdering());
        var groups = Enumerable.Range(0, 60).Select(i => $"patient-{i / 3}").ToArray();
        var grouped = CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(4).GroupBy(groups).Folds();
        foreach (var (train, validation) in grouped)
            validation.Select(i => groups[i]).Intersect(train.Select(i => groups[i])).Should().BeEmpty();

        // Both: the stratified grouped folds of DataSplits, with the builder's seed.
        var both = CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(4).WithSeed(3).StratifyBy(PoolLabels()).GroupBy(groups).Folds();
        both.Select(f => f.Validation).Should().BeEquivalentTo(DataSplits.StratifiedGroupKFold(PoolLabels(), groups, 4, 3).Select(f => f.Validation), o => o.WithStrictOrdering());
        both.Select(f => f.Validation).Should().NotBeEquivalentTo(grouped.Select(f => f.Validation), o => o.WithStrictOrdering(), "the class shares now decide too");
    }

    [Fact]
    public void KFoldDealsShuffledSamplesAndGroupKFoldKeepsGroupsWholeAndFoldsBalanced()
    {
        var folds = DataSplits.KFold(10, 3, seed: 1);
        folds.Select(f => f.Validation.Length).Should().Equal(4, 3, 3);
        folds.SelectMany(f => f.Validation).Should().BeEquivalentTo(Enumerable.Range(0, 10));
        folds.Select(f => f.Validation).Should().BeEquivalentTo(DataSplits.StratifiedKFold(new int[10], 3, 1).Select(f => f.Validation), o => o.WithStrictOrdering());
        DataSplits.KFold(10, 3, seed: 2).Select(f => f.Validation).Should().NotBeEquivalentTo(folds.Select(f => f.Validation), o => o.WithStrictOrdering());

        // Groups of sizes 5, 4, 3, 3, 2, 2, 1, 1, 1 (22 samples) into 3 folds: each group whole, every sample once.
        int[] sizes = { 5, 4, 3, 3, 2, 2, 1, 1, 1 };
        var groups = sizes.SelectMany((size, g) => Enumerable.Repeat("g" + g, size)).Reverse().ToArray();
        foreach (int seed in new[] { 0, 1, 7 })
        {
            var grouped = DataSplits.GroupKFold(groups, 3, seed);
            grouped.SelectMany(f => f.Validation).Should().BeEquivalentTo(Enumerable.Range(0, groups.Length));
            foreach (var (train, validation) in grouped)
            {
                train.Concat(validation).Should().BeEquivalentTo(Enumerable.Range(0, groups.Length));
                var inside = validation.Select(i => groups[i]).Distinct().ToList();
                validation.Should().HaveCount(inside.Sum(g => groups.Count(x => x == g)), "a fold holds whole groups");
            }
            // Largest first, each into the lightest fold: 8, 7 and 7 samples whatever the seed.
            var counts = grouped.Select(f => f.Validation.Length).OrderBy(c => c).ToArray();
            (counts[^1] - counts[0]).Should().BeLessThanOrEqualTo(1);
        }

        var tooFew = () => DataSplits.GroupKFold(new[] { "a", "a", "b" }, 3);
        tooFew.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*3 folds need at least 3 distinct groups; there are 2*");
        var nullGroup = () => DataSplits.GroupKFold(new[] { "a", null!, "b" }, 2);
        nullGroup.Should().Throw<ArgumentException>().WithMessage("*group of sample 1 is null*");
        var noSamples = () => DataSplits.KFold(0, 2);
        noSamples.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void BadConfigurationsAreRefusedByName()
    {
        CrossValidationBuilder Fresh() => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(3).TrainWith(TrainOptions()).EvaluateWith(EvaluationOptions());
        TrainerBuilder Recipe0() => Recipe(0);
        long live = Tensors.LiveTensors;

        var setsData = () => Fresh().Run(_ => Recipe0().TestOn(new DataLoader(TestSource(), EvaluationOptions())).SaveTo(_root));
        setsData.Should().Throw<InvalidOperationException>().WithMessage("*fold 1 calls TestOn, SaveTo; the cross-validation sets the data and the folder*");
        var otherTask = () => Fresh().Run(_ => Recipe(0, MedMnistTask.MultiClass));
        otherTask.Should().Throw<InvalidOperationException>().WithMessage("*task of fold 1 is MultiClass; the cross-validation scores OrdinalRegression*");
        Tensors.LiveTensors.Should().Be(live, "a refused fold's model is disposed too");

        var shared = new ClassificationTask(TinyCnn(), MedMnistTask.OrdinalRegression);
        var reused = () => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).WithFolds(2).TrainWith(TrainOptions()).EvaluateWith(EvaluationOptions())
            .Run(split => Trainer.Create(shared).UseAdam().ForEpochs(1));
        reused.Should().Throw<InvalidOperationException>().WithMessage("*fold 2 returned the model of fold 1 again*create a new model for every fold*");

        var noTraining = () => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).EvaluateWith(EvaluationOptions()).Run(_ => Recipe0());
        noTraining.Should().Throw<InvalidOperationException>().WithMessage("*TrainWith(options)*");
        var noEvaluation = () => CrossValidation.Create(Pool(), MedMnistTask.OrdinalRegression).TrainWith(TrainOptions()).Run(_ => Recipe0());
        noEvaluation.Should().Throw<InvalidOperationException>().WithMessage("*EvaluateWith(options)*");
        var shuffledEvaluation = () => Fresh().EvaluateWith(new DataLoaderOptions { Shuffle = true });
        shuffledEvaluation.Should().Throw<ArgumentException>().WithMessage("*Shuffle and DropLast to false*");
        var weighted = () => Fresh().TrainWith(new DataLoaderOptions { WeightedSampler = WeightedRandomSampler.BalanceClasses(new[] { 0, 1 }) });
        weighted.Should().Throw<ArgumentException>().WithMessage("*WeightedSampler*");
        var resumeWithoutFolder = () => Fresh().Run(_ => Recipe0(), resume: true);
        resumeWithoutFolder.Should().Throw<InvalidOperationException>().WithMessage("*SaveTo(directory)*");
        var wrongCount = () => Fresh().StratifyBy(new[] { 0, 1, 2 });
        wrongCount.Should().Throw<ArgumentException>().WithMessage("3 values given for the source's 60 samples*");
        var withSplits = () => Fresh().StratifyBy(PoolLabels()).WithSplits(DataSplits.KFold(60, 3)).Folds();
        withSplits.Should().Throw<InvalidOperationException>().WithMessage("WithSplits gives the folds: leave out StratifyBy and GroupBy.");
        var tooManyFolds = () => Fresh().WithFolds(61);
        tooManyFolds.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*61 folds need at least 61 samples*");
        var otherLabels = () => Fresh().TestOn(new TwoLabelColumns());
        otherLabels.Should().Throw<ArgumentException>().WithMessage("*2 label column(s), the cross-validated source 1*");

        int[] all = Enumerable.Range(0, 60).ToArray();
        int[] Except(params int[][] parts) => all.Except(parts.SelectMany(p => p)).ToArray();
        int[] a = Enumerable.Range(0, 30).ToArray(), b = Enumerable.Range(30, 30).ToArray();
        var overlap = () => Fresh().WithSplits(new[] { (Except(a).Append(3).ToArray(), a), (Except(b), b) });
        overlap.Should().Throw<ArgumentException>().WithMessage("*Fold 1 trains and validates on sample 3*");
        var twice = () => Fresh().WithSplits(new[] { (Except(a), a), (Except(b).Where(i => i != 5).ToArray(), b.Append(5).ToArray()) });
        twice.Should().Throw<ArgumentException>().WithMessage("*Sample 5 is validated by fold 1 and fold 2*");
        var missing = () => Fresh().WithSplits(new[] { (Except(a), a), (Except(b), b.Skip(1).ToArray()) });
        missing.Should().Throw<ArgumentException>().WithMessage("*Sample 30 is validated by no fold*");
        var outside = () => Fresh().WithSplits(new[] { (Except(a), a), (Except(b), b.Append(60).ToArray()) });
        outside.Should().Throw<ArgumentException>().WithMessage("*Fold 2 validates on sample 60, outside the source's 60 samples*");
        var given = Fresh().WithSplits(new[] { (Except(a), a), (Except(b), b) }).Folds();
        given.Select(f => f.Validation).Should().BeEquivalentTo(new[] { a, b }, o => o.WithStrictOrdering());
        Tensors.LiveTensors.Should().Be(live);
    }

    private sealed class CancelAfterAnEpoch(CancellationTokenSource cancel) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Completed is not null) cancel.Cancel();
        }
    }

    private sealed class TwoLabelColumns : ILabeledImageSource
    {
        public int Count => 2;

        public int LabelColumns => 2;

        public (FloatImage Image, int[] Labels) Load(int index) => throw new NotSupportedException("Only the shape of this source is looked at.");
    }
}
