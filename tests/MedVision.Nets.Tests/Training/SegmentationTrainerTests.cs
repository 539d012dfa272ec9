using System.Globalization;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Training;

[Collection(GlobalRandomStateCollection.Name)]
public class SegmentationTrainerTests
{
    [Fact]
    public void Training_OnPhantomLesions_RaisesTheValidationDice_AndKeepsTheBestWeights()
    {
        // 3-D lesion segmentation from MRI + PET phantoms (24³; the lesion's region of reduced PET uptake): training crops of 16³ centred on the lesion two times in
        // three; validation on whole volumes through a sliding window of 16³.
        var generator = new PhantomGenerator(size: 24, seed: 11);
        var train = new SegmentationLoader(new PhantomSegmentationSource(generator, 0, 24, lesionRadiusScale: 1.5), new SegmentationLoaderOptions
        {
            BatchSize = 4,
            Shuffle = true,
            Seed = 1,
            Pipeline = SegmentationPipeline.Create().CropAroundLabels(new[] { 16, 16, 16 }, 0.67).RandomFlip(MedVision.Nets.Transforms.SpatialAxis.Width).Build(),
        });
        var validation = new SegmentationLoader(new PhantomSegmentationSource(generator, 100, 8, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4 });
        // The initial weights come from libtorch's generator: seeded, or the run would depend on the tests before it
        // (over seeds 0–5 this recipe ends at Dice 0.31–0.85 on these phantoms; seed 1 at 0.83).
        Tensors.ManualSeed(1);
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(8, 16).WithInstanceNorm().WithClasses(2).Build();
        var directory = Path.Combine(Path.GetTempPath(), "mv-seg-" + Guid.NewGuid().ToString("N"));
        var reported = new List<SegmentationEpoch>();
        try
        {
            var trainer = SegmentationTrainer.Create(model).TrainOn(train).ValidateOn(validation)
                .ValidateWithSlidingWindow(new SlidingWindowInferer(new[] { 16, 16, 16 }, overlap: 0.5))
                .UseAdam(3e-3).WithCosineSchedule().ForEpochs(8).WithSeed(2).SaveTo(directory)
                .ReportProgressTo(new SynchronousProgress<SegmentationEpoch>(reported.Add)).Build();
            double before = SegmentationSummary.Of(trainer.Evaluate(validation)).MeanDice;
            var result = trainer.Run();

            result.Epochs.Should().HaveCount(8);
            reported.Should().Equal(result.Epochs);
            result.Epochs[^1].TrainLoss.Should().BeLessThan(result.Epochs[0].TrainLoss);
            result.Epochs[^1].LearningRate.Should().BeLessThan(result.Epochs[0].LearningRate, "cosine annealing");
            var best = result.Epochs[result.BestEpoch];
            best.ValidationDice.Should().Be(result.Epochs.Max(e => e.ValidationDice));
            result.Validation!.MeanDice.Should().BeApproximately(best.ValidationDice, 1e-9, "the model ends with the best epoch's weights");
            result.Validation.MeanDice.Should().BeGreaterThan(before + 0.2, $"untrained Dice {before:F3}; epochs {string.Join(", ", result.Epochs.Select(e => $"{e.TrainLoss:F3}/{e.ValidationDice:F3}"))}");

            using var saved = SafeTensors.Load(Path.Combine(directory, SegmentationTrainer.BestModelFile));
            using (var noGrad = Tensors.NoGrad())
            using (var scope = Tensors.NewDisposeScope())
                foreach (var (name, tensor) in model.StateDict()) saved[name].ToArray<float>().Should().Equal(tensor.ToArray<float>(), $"{name} is the best epoch's");
            var lines = File.ReadAllLines(Path.Combine(directory, SegmentationTrainer.HistoryFile));
            lines[0].Should().Be("epoch,train_loss,val_dice,lr,seconds");
            lines.Should().HaveCount(9);
            double.Parse(lines[result.BestEpoch + 1].Split(',')[2], CultureInfo.InvariantCulture).Should().Be(best.ValidationDice);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void MixedPrecision_RunsTheForwardPassesInBFloat16_AndTrains()
    {
        var generator = new PhantomGenerator(size: 16, seed: 5);
        var train = new SegmentationLoader(new PhantomSegmentationSource(generator, 0, 8, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4, Shuffle = true });
        var validation = new SegmentationLoader(new PhantomSegmentationSource(generator, 50, 4, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4 });
        using var unet = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(2).Build();
        using var model = new Recording(unet);
        var result = SegmentationTrainer.Create(model).TrainOn(train).ValidateOn(validation).UseAdam(3e-3).ForEpochs(2).UseMixedPrecision().Build().Run();
        model.OutputTypes.Should().NotBeEmpty().And.OnlyContain(t => t == ScalarType.BFloat16, "autocast computes the convolutions in bfloat16");
        result.Epochs.Should().OnlyContain(e => double.IsFinite(e.TrainLoss));
        unet.Parameters().Should().OnlyContain(p => p.ScalarType == ScalarType.Float32, "weights stay float32");

        model.OutputTypes.Clear();
        SegmentationTrainer.Create(model).TrainOn(train).ForEpochs(1).Build().Run();
        model.OutputTypes.Should().OnlyContain(t => t == ScalarType.Float32, "without mixed precision");
    }

    [Fact]
    public void AOneChannelSigmoidNetwork_IsValidatedAsForegroundWherePositive()
    {
        var generator = new PhantomGenerator(size: 16, seed: 8);
        var train = new SegmentationLoader(new PhantomSegmentationSource(generator, 0, 8, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4 });
        var validation = new SegmentationLoader(new PhantomSegmentationSource(generator, 40, 4, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4 });
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(1).Build();
        var trainer = SegmentationTrainer.Create(model).TrainOn(train).ValidateOn(validation)
            .WithLoss((logits, labels) => MedVision.Nets.Losses.DiceLoss.Compute(logits, labels, MedVision.Nets.Losses.DiceActivation.Sigmoid))
            .ForEpochs(1).Build();
        var result = trainer.Run();
        var cases = trainer.Evaluate(validation);
        cases.Should().HaveCount(4).And.OnlyContain(c => c.Classes.Count == 1 && c.Classes[0].Class == 1);
        using (var scope = Tensors.NewDisposeScope())
        using (var noGrad = Tensors.NoGrad())
        {
            model.Eval();
            using var batch = validation.Epoch().Single();
            var expected = SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances().Evaluate(model.Call(batch.Images).Squeeze(1).Gt(0).To(ScalarType.Int64), batch.Labels);
            cases.Select(c => c[1].Dice).Should().Equal(expected.Select(c => c[1].Dice), "foreground where the logit is positive");

            // The same evaluation feeding a post-processing comparison: each case's maps as the trainer predicts them.
            var comparison = new SegmentationPostprocessingComparison(SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances());
            trainer.Evaluate(validation, comparison).Select(c => c[1].Dice).Should().Equal(cases.Select(c => c[1].Dice));
            comparison.Cases.Should().Be(4);
            var labels = model.Call(batch.Images).Squeeze(1).Gt(0).To(ScalarType.Int32).ToArray<int>();
            var truth = batch.Labels.To(ScalarType.Int32).ToArray<int>();
            int per = labels.Length / 4;
            int[] shape = [.. batch.Labels.Shape.Skip(batch.Labels.Dim == 5 ? 2 : 1).Select(v => (int)v)];
            var kept = SegmentationSummary.Of(Enumerable.Range(0, 4).Select(i => SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances().Evaluate(
                ConnectedComponents.KeepLargestPerClass(labels.AsSpan(i * per, per), shape, connectivity: SegmentationPredictor.ComponentConnectivity), truth.AsSpan(i * per, per), shape)));
            var result2 = comparison.Choose();
            result2.AsPredicted.MeanDice.Should().Be(SegmentationSummary.Of(cases).MeanDice);
            result2.ClassesKept.MeanDice.Should().Be(kept.MeanDice, "the 3-D maps' components by faces, as the scan predictor finds them");
            result2.ForegroundKept.Should().BeNull("one structure");
        }
        double.IsNaN(result.Epochs[0].TrainLoss).Should().BeFalse();
    }

    [Fact]
    public void Resume_ContinuesTheRunAsIfItWasNeverInterrupted()
    {
        var generator = new PhantomGenerator(size: 16, seed: 9);
        SegmentationLoader Loader(int start, int count, bool shuffle) => new(new PhantomSegmentationSource(generator, start, count, lesionRadiusScale: 1.5),
            new SegmentationLoaderOptions { BatchSize = 4, Shuffle = shuffle, Seed = 3, Pipeline = SegmentationPipeline.Create().RandomFlip(MedVision.Nets.Transforms.SpatialAxis.Width).Build() });
        var straight = Path.Combine(Path.GetTempPath(), "mv-seg-straight-" + Guid.NewGuid().ToString("N"));
        var interrupted = Path.Combine(Path.GetTempPath(), "mv-seg-resumed-" + Guid.NewGuid().ToString("N"));
        try
        {
            SegmentationTrainingResult Train(UNet model, string folder, bool resume, CancellationTokenSource? stopAfterTwo = null) => SegmentationTrainer.Create(model)
                .TrainOn(Loader(0, 8, shuffle: true)).ValidateOn(Loader(30, 4, shuffle: false)).UseAdam(3e-3).WithCosineSchedule().ForEpochs(4).WithSeed(6)
                .ReportProgressTo(new SynchronousProgress<SegmentationEpoch>(e => { if (e.Epoch == 1) stopAfterTwo?.Cancel(); }))
                .SaveTo(folder).Build().Run(resume, stopAfterTwo?.Token ?? default);
            Tensors.ManualSeed(1);
            using var first = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithDropout(0.2).WithClasses(2).Build();
            var all = Train(first, straight, resume: false);

            // The same run, stopped after its second epoch (as a killed process would be), then resumed by a new trainer
            // of a new network.
            Tensors.ManualSeed(1);
            using var second = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithDropout(0.2).WithClasses(2).Build();
            using (var stop = new CancellationTokenSource())
            {
                var interrupt = () => Train(second, interrupted, resume: false, stop);
                interrupt.Should().Throw<OperationCanceledException>();
            }
            File.ReadAllLines(Path.Combine(interrupted, SegmentationTrainer.HistoryFile)).Should().HaveCount(3, "two epochs were done");
            Tensors.ManualSeed(99);   // whatever happened in between
            using var third = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithDropout(0.2).WithClasses(2).Build();
            var resumed = Train(third, interrupted, resume: true);

            resumed.Epochs.Select(e => (e.Epoch, e.TrainLoss, e.ValidationDice, e.LearningRate))
                .Should().Equal(all.Epochs.Select(e => (e.Epoch, e.TrainLoss, e.ValidationDice, e.LearningRate)), "the same epochs, losses, Dice and learning rates");
            resumed.BestEpoch.Should().Be(all.BestEpoch);
            using (var scope = Tensors.NewDisposeScope())
                foreach (var (name, tensor) in first.StateDict())
                    third.StateDict()[name].To(ScalarType.Float64).ToArray<double>().Should().Equal(tensor.To(ScalarType.Float64).ToArray<double>(), $"{name} ends as in the uninterrupted run");

            // A schedule over another number of epochs is another run.
            using var longer = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithDropout(0.2).WithClasses(2).Build();
            var extended = () => SegmentationTrainer.Create(longer).TrainOn(Loader(0, 8, true)).UseAdam(3e-3).WithCosineSchedule().ForEpochs(6).WithSeed(6).SaveTo(interrupted).Build().Run(resume: true);
            extended.Should().Throw<InvalidDataException>().WithMessage("*run of 4 epochs*ForEpochs(4)*");

            // Another seed is another run.
            using var fourth = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(2).Build();
            var other = () => SegmentationTrainer.Create(fourth).TrainOn(Loader(0, 8, true)).UseAdam(3e-3).WithCosineSchedule().ForEpochs(4).WithSeed(7).SaveTo(interrupted).Build().Run(resume: true);
            other.Should().Throw<InvalidDataException>().WithMessage("*seed 6, not 7*");
            File.WriteAllText(Path.Combine(interrupted, SegmentationTrainer.LastStateFile), "{ broken");
            var broken = () => SegmentationTrainer.Create(fourth).TrainOn(Loader(0, 8, true)).ForEpochs(5).WithSeed(6).SaveTo(interrupted).Build().Run(resume: true);
            broken.Should().Throw<InvalidDataException>().WithMessage("*last-state.json is not a valid checkpoint*");
        }
        finally
        {
            foreach (var folder in new[] { straight, interrupted })
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AccumulatedGradients_OfTwoHalfBatches_StepAsOneWholeBatch_UnderNnUNetsSgdAndPolySchedule()
    {
        // Instance norm and per-sample Dice: a batch's loss is the mean of its samples' losses, so two batches of 2 with
        // accumulation give the gradient of one batch of 4.
        var generator = new PhantomGenerator(size: 16, seed: 12);
        SegmentationLoader Loader(int batch) => new(new PhantomSegmentationSource(generator, 0, 8, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = batch });
        var learningRates = new List<double>();
        UNet Train(int batch, int accumulation)
        {
            Tensors.ManualSeed(4);
            var model = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithInstanceNorm().WithClasses(2).Build();
            learningRates.Clear();
            var builder = SegmentationTrainer.Create(model).TrainOn(Loader(batch)).UseSgd(learningRate: 0.05).WithPolySchedule().ForEpochs(3)
                .ReportProgressTo(new SynchronousProgress<SegmentationEpoch>(e => learningRates.Add(e.LearningRate)));
            if (accumulation > 1) builder.AccumulateGradients(accumulation);
            builder.Build().Run();
            return model;
        }
        using var whole = Train(batch: 4, accumulation: 1);
        using var accumulated = Train(batch: 2, accumulation: 2);
        using var plain = Train(batch: 2, accumulation: 1);
        learningRates.Should().Equal(new[] { 0.05, 0.05 * Math.Pow(2.0 / 3, 0.9), 0.05 * Math.Pow(1.0 / 3, 0.9) }, (a, b) => Math.Abs(a - b) < 1e-15, "the poly schedule: (1 − epoch/3)^0.9");
        using var scope = Tensors.NewDisposeScope();
        double Distance(UNet a, UNet b) => a.StateDict().Sum(kv => (kv.Value - b.StateDict()[kv.Key]).Abs().Max().Item());
        Distance(whole, accumulated).Should().BeLessThan(1e-4, "the same six steps");
        Distance(whole, plain).Should().BeGreaterThan(1e-3, "twelve steps of half batches move the weights elsewhere");
    }

    [Fact]
    public void AveragedWeights_AreValidatedKeptAndCheckpointed_AndResumeExactly()
    {
        var generator = new PhantomGenerator(size: 16, seed: 13);
        SegmentationLoader Loader(int start, int count) => new(new PhantomSegmentationSource(generator, start, count, lesionRadiusScale: 1.5),
            new SegmentationLoaderOptions { BatchSize = 4, Shuffle = true, Seed = 2 });
        var folders = Enumerable.Range(0, 3).Select(i => Path.Combine(Path.GetTempPath(), $"mv-seg-ema{i}-" + Guid.NewGuid().ToString("N"))).ToArray();
        try
        {
            SegmentationTrainerBuilder Builder(UNet model, string folder, double? decay)
            {
                var builder = SegmentationTrainer.Create(model).TrainOn(Loader(0, 8)).ValidateOn(Loader(40, 4)).UseAdam(3e-3).ForEpochs(4).WithSeed(3).SaveTo(folder);
                return decay is double d ? builder.AverageWeights(d) : builder;
            }
            UNet Network() { Tensors.ManualSeed(2); return UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithInstanceNorm().WithClasses(2).Build(); }

            // Decay 0: the average is the last step's weights, so the run is the run without averaging.
            using (var plainModel = Network())
            using (var zeroModel = Network())
            {
                var plain = Builder(plainModel, folders[0], null).Build().Run();
                var zero = Builder(zeroModel, folders[1], 0).Build().Run();
                zero.Epochs.Select(e => (e.TrainLoss, e.ValidationDice)).Should().Equal(plain.Epochs.Select(e => (e.TrainLoss, e.ValidationDice)));
            }

            // Decay 0.9: the selected (averaged) weights are what the model holds, what best.safetensors holds and what
            // the reported Dice measured; they differ from the model's own last weights (last.safetensors).
            using var model = Network();
            var trainer = Builder(model, folders[2], 0.9).Build();
            var result = trainer.Run();
            SegmentationSummary.Of(trainer.Evaluate(Loader(40, 4))).MeanDice.Should().Be(result.Validation!.MeanDice);
            result.Epochs[result.BestEpoch].ValidationDice.Should().Be(result.Validation.MeanDice);
            using var scope = Tensors.NewDisposeScope();
            using (var best = SafeTensors.Load(Path.Combine(folders[2], SegmentationTrainer.BestModelFile)))
                foreach (var (name, tensor) in model.StateDict()) best[name].To(ScalarType.Float64).ToArray<double>().Should().Equal(tensor.To(ScalarType.Float64).ToArray<double>(), name);
            using (var last = SafeTensors.Load(Path.Combine(folders[2], SegmentationTrainer.LastModelFile)))
            using (var average = SafeTensors.Load(Path.Combine(folders[2], SegmentationTrainer.LastAverageFile)))
            {
                (last["head.weight"] - average["head.weight"]).Abs().Max().Item().Should().BeGreaterThan(1e-4, "the average lags the weights it averages");
                if (result.BestEpoch == 3)
                    (average["head.weight"] - model.StateDict()["head.weight"]).Abs().Max().Item().Should().Be(0, "the last epoch selected: its average is kept");
            }

            // Interrupted after two epochs and resumed: the same run, average included.
            var again = Path.Combine(folders[2], "again");
            using var second = Network();
            using (var stop = new CancellationTokenSource())
            {
                var interrupt = () => Builder(second, again, 0.9).ReportProgressTo(new SynchronousProgress<SegmentationEpoch>(e => { if (e.Epoch == 1) stop.Cancel(); })).Build().Run(false, stop.Token);
                interrupt.Should().Throw<OperationCanceledException>();
            }
            File.Exists(Path.Combine(again, SegmentationTrainer.LastAverageFile)).Should().BeTrue();
            using var third = Network();
            var resumed = Builder(third, again, 0.9).Build().Run(resume: true);
            resumed.Epochs.Select(e => (e.TrainLoss, e.ValidationDice)).Should().Equal(result.Epochs.Select(e => (e.TrainLoss, e.ValidationDice)));
            foreach (var (name, tensor) in model.StateDict())
                third.StateDict()[name].To(ScalarType.Float64).ToArray<double>().Should().Equal(tensor.To(ScalarType.Float64).ToArray<double>(), $"{name} ends as in the uninterrupted run");
            using var fourth = Network();
            var without = () => Builder(fourth, again, null).Build().Run(resume: true);
            without.Should().Throw<InvalidDataException>().WithMessage("*made with a weight average (AverageWeights)*");
            using var fifth = Network();
            var warmed = () => Builder(fifth, again, null).AverageWeights(0.9, warmup: true).Build().Run(resume: true);
            warmed.Should().Throw<InvalidDataException>().WithMessage("*made without the weight average's warm-up*");
        }
        finally
        {
            foreach (var folder in folders)
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ADeeplySupervisedUNet_IsTrainedOnAllItsOutputs_WithNnUNetsWeights_AndValidatedOnItsFullResolution()
    {
        var generator = new PhantomGenerator(size: 16, seed: 14);
        var loader = new SegmentationLoader(new PhantomSegmentationSource(generator, 0, 4, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4 });
        var validation = new SegmentationLoader(new PhantomSegmentationSource(generator, 4, 2, lesionRadiusScale: 1.5));
        Tensors.ManualSeed(3);
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8, 8).WithInstanceNorm().WithDeepSupervision().WithClasses(2).Build();
        // The first epoch's loss by hand, on its one batch with the initial weights: 2/3 of the full-resolution loss and
        // 1/3 of the half-resolution one against every second label voxel.
        double expected;
        Tensor head;
        using (var scope = Tensors.NewDisposeScope())
        {
            model.Train();
            using var batch = loader.Epoch(0).Single();
            var outputs = model.ForwardWithDeepSupervision(batch.Images);
            var half = batch.Labels.Slice(1, 0, 16, 2).Slice(2, 0, 16, 2).Slice(3, 0, 16, 2);
            expected = 2 / 3.0 * DiceLoss.WithCrossEntropy(outputs[0], batch.Labels).Item() + 1 / 3.0 * DiceLoss.WithCrossEntropy(outputs[1], half).Item();
            head = DisposeScope.Detach(model.StateDict()["supervision1.weight"].Clone());
        }
        using (head)
        {
            var result = SegmentationTrainer.Create(model).TrainOn(loader).ValidateOn(validation).UseAdam(1e-2).ForEpochs(2).Build().Run();
            result.Epochs[0].TrainLoss.Should().BeApproximately(expected, 1e-5);
            result.Validation!.MeanDice.Should().BeInRange(0, 1);
            using var scope = Tensors.NewDisposeScope();
            (model.StateDict()["supervision1.weight"] - head).Abs().Max().Item().Should().BeGreaterThan(0, "the head's loss reaches it");
        }
    }

    [Fact]
    public void Builder_RefusesMissingAndBadSettings()
    {
        using var model = UNet.Builder().ForInput(1).WithFeatures(2, 4).Build();
        var act = () => SegmentationTrainer.Create(model).Build();
        act.Should().Throw<InvalidOperationException>().WithMessage("*TrainOn*");
        var bad = () => SegmentationTrainer.Create(model).UseAdam(0);
        bad.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("learningRate");
        bad = () => SegmentationTrainer.Create(model).ForEpochs(0);
        bad.Should().Throw<ArgumentOutOfRangeException>();
        bad = () => SegmentationTrainer.Create(model).ClipGradientsTo(double.NaN);
        bad.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxNorm");
        bad = () => SegmentationTrainer.Create(model).UseSgd(momentum: 1);
        bad.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("momentum");
        var nesterov = () => SegmentationTrainer.Create(model).UseSgd(momentum: 0);
        nesterov.Should().Throw<ArgumentException>().WithMessage("*Nesterov momentum needs a momentum above 0*");
        bad = () => SegmentationTrainer.Create(model).AccumulateGradients(0);
        bad.Should().Throw<ArgumentOutOfRangeException>();
        bad = () => SegmentationTrainer.Create(model).AverageWeights(1);
        bad.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("decay");
        bad = () => SegmentationTrainer.Create(model).WithPolySchedule(-1);
        bad.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("power");
        var loader = new SegmentationLoader(new PhantomSegmentationSource(new PhantomGenerator(16), 0, 1));
        var builder = SegmentationTrainer.Create(model).TrainOn(loader);
        builder.Build();
        var reuse = () => builder.ForEpochs(2);
        reuse.Should().Throw<InvalidOperationException>();
    }

    private sealed class Recording : MedVision.Torch.Nn.Module<Tensor, Tensor>
    {
        private readonly UNet _inner;

        public Recording(UNet inner) => _inner = RegisterModule("inner", inner);

        public List<ScalarType> OutputTypes { get; } = new();

        public override Tensor Forward(Tensor input)
        {
            var output = _inner.Call(input);
            OutputTypes.Add(output.ScalarType);
            return output;
        }
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
