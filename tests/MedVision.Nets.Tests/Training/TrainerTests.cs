using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Training;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class TrainerTests : IDisposable
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mvn-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static Sequential TinyCnn()
        => new(new Conv2d(3, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Dropout(0.2), new Linear(4, 5));

    private static DataLoader Loader(MedMnistSplitData split, int count, bool shuffle) => new(
        new SubsetSource(new MedMnistImageSource(split), Enumerable.Range(0, count).ToArray()),
        new DataLoaderOptions
        {
            BatchSize = 16, Shuffle = shuffle, Seed = 5,
            Transform = shuffle ? TransformPipeline.Create().RandomHorizontalFlip().Normalize(0.5f, 0.5f).Build() : TransformPipeline.Create().Normalize(0.5f, 0.5f).Build(),
        });

    private Trainer Build(Sequential model, string dir, int epochs, double? averagingDecay = null, BatchMixing? mixing = null, bool mixedPrecision = false,
        Func<IReadOnlyList<Tensor>, Optimizer>? optimizer = null, bool averagingWarmup = false)
    {
        var task = new ClassificationTask(model, MedMnistTask.OrdinalRegression);
        var builder = Trainer.Create(mixing is null ? task : task.WithBatchMixing(mixing));
        if (averagingDecay is double decay) builder.AverageWeights(decay, averagingWarmup);
        if (mixedPrecision) builder.UseMixedPrecision();
        return builder
            .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
            .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
            .TestOn(Loader(Retina.Value.Test, 32, shuffle: false))
            .UseOptimizer(optimizer ?? (p => new Adam(p, 1e-2)))
            .WithSchedule(o => new MultiStepLR(o, new[] { 1, 3 }, 0.5))
            .ForEpochs(epochs)
            .WithSeed(9)
            .SaveTo(Path.Combine(_root, dir))
            .Build();
    }

    private static float[] LastWeights(string dir, string file = "last.safetensors")
    {
        using var weights = SafeTensors.Load(Path.Combine(dir, file));
        return Values(weights);
    }

    private static float[] Values(IReadOnlyDictionary<string, Tensor> state)
    {
        using var scope = Tensors.NewDisposeScope();
        return state.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.To(ScalarType.Float32).ToArray<float>()).ToArray();
    }

    // Patience running out at the last epoch used to be reported as an early stop (found by the FormatFuzzer trainer
    // mode): every epoch had run, yet StoppedEarly was true and the log said "early stopping after epoch 3".
    [Fact]
    public void EarlyStoppingEndsTheRunAfterPatienceEpochs_AndIsNotReportedWhenNoEpochWasLeft()
    {
        TrainingResult Run(int epochs)
        {
            // A step of 1e-30 leaves every float32 weight as it is, so validation AUC never improves after epoch 0.
            using var model = new Sequential(new Flatten(), new Linear(3 * 28 * 28, 5));
            return Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
                .TrainOn(Loader(Retina.Value.Train, 32, shuffle: true))
                .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
                .UseSgd(1e-30, momentum: 0)
                .StopEarlyAfter(2)
                .ForEpochs(epochs)
                .WithSeed(9)
                .Build()
                .Run();
        }

        var stopped = Run(5);
        stopped.History.Should().HaveCount(3, "epochs 1 and 2 brought no improvement over epoch 0");
        stopped.StoppedEarly.Should().BeTrue();
        stopped.BestEpoch.Should().Be(0);
        stopped.History.Select(h => h.Validation.Auc).Distinct().Should().HaveCount(1);

        var complete = Run(3);
        complete.History.Should().HaveCount(3);
        complete.StoppedEarly.Should().BeFalse("all three epochs ran; nothing was cut short");
    }

    [Fact]
    public void ClippingAndOptimizerArgumentsAreCheckedWhenGiven()
    {
        using var model = new Sequential(new Flatten(), new Linear(4, 2));
        var builder = Trainer.Create(new ClassificationTask(model, MedMnistTask.MultiClass));
        // A NaN with a clear sign bit (what some computations give) as well as the usual one.
        foreach (var bad in new[] { 0, -1, double.NaN, BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0000) })
            FluentActions.Invoking(() => builder.ClipGradientsTo(bad)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxNorm");
        builder.ClipGradientsTo(double.PositiveInfinity).Should().BeSameAs(builder, "∞ is a norm no gradient exceeds: clipping off");
        // The optimizer's arguments are checked when given, not when Run builds the optimizer.
        var positiveNaN = BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0000);
        FluentActions.Invoking(() => builder.UseAdam(positiveNaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("learningRate");
        FluentActions.Invoking(() => builder.UseAdam(1e-3, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("weightDecay");
        FluentActions.Invoking(() => builder.UseSgd(0.1, momentum: -0.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("momentum");
        FluentActions.Invoking(() => builder.UseSgd(0.1, momentum: 0, nesterov: true)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("nesterov");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResumingAfterTwoEpochsGivesTheSameWeightsAsFourStraight(bool mixedPrecision)
    {
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "straight", 4, mixedPrecision: mixedPrecision).Run();
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "resumed", 2, mixedPrecision: mixedPrecision).Run();
        Tensors.ManualSeed(123); // a different initialisation: resume must overwrite it
        TrainingResult resumed;
        using (var model = TinyCnn()) resumed = Build(model, "resumed", 4, mixedPrecision: mixedPrecision).Run(resume: true);

        LastWeights(Path.Combine(_root, "resumed")).Should().Equal(LastWeights(Path.Combine(_root, "straight")));
        resumed.History.Should().HaveCount(4);
        resumed.History.Select(h => h.LearningRate).Should().Equal(1e-2, 5e-3, 5e-3, 2.5e-3);
    }

    [Fact]
    public void ResumingFromACorruptCheckpoint_NamesTheFile()
    {
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "corrupt", 2).Run();
        var state = Path.Combine(_root, "corrupt", "last.json");
        var good = File.ReadAllText(state);
        var json = System.Text.Json.Nodes.JsonNode.Parse(good)!;
        var cases = new (string Json, string Problem)[]
        {
            (good[..(good.Length / 2)], "not a valid checkpoint"),
            (WithProperty(json, "RngState", "not base64!"), "not a valid checkpoint"),
            (WithProperty(json, "RngState", Convert.ToBase64String(new byte[] { 1, 2, 3 })), "RNG state is invalid"),
            (WithProperty(json, "History", null), "history of 0 epoch(s)"),
            (WithProperty(json, "Epoch", 7), "epoch 7 does not match its history of 2"),
        };
        foreach (var (text, problem) in cases)
        {
            File.WriteAllText(state, text);
            using var model = TinyCnn();
            var trainer = Build(model, "corrupt", 4);
            FluentActions.Invoking(() => trainer.Run(resume: true)).Should().Throw<InvalidDataException>()
                .WithMessage($"*{state}*{problem}*");
        }
    }

    private static string WithProperty(System.Text.Json.Nodes.JsonNode json, string name, System.Text.Json.Nodes.JsonNode? value)
    {
        var copy = System.Text.Json.Nodes.JsonNode.Parse(json.ToJsonString())!;
        copy[name] = value;
        return copy.ToJsonString();
    }

    [Fact]
    public void RunWritesHistoryCheckpointsAndSelectsTheBestValidationAuc()
    {
        Tensors.ManualSeed(2);
        using var model = TinyCnn();
        var result = Build(model, "run", 3).Run();
        var dir = Path.Combine(_root, "run");
        File.ReadAllLines(Path.Combine(dir, "history.csv")).Should().HaveCount(4).And.Subject.First().Should().StartWith("epoch,train_loss,train_cross_entropy,learning_rate,val_auc,val_acc");
        File.Exists(Path.Combine(dir, "best.safetensors")).Should().BeTrue();
        File.Exists(Path.Combine(dir, "result.json")).Should().BeTrue();
        Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
        var best = result.History.MaxBy(h => h.Validation.Auc)!;
        result.BestEpoch.Should().Be(result.History.First(h => h.Validation.Auc == best.Validation.Auc).Epoch);
        result.Validation.Auc.Should().BeApproximately(best.Validation.Auc, 1e-6, "the selected weights are reloaded before the final evaluation");
        result.Test.Auc.Should().BeInRange(0, 1);
    }

    private sealed class ExplodingTask(Sequential model) : ITrainingTask
    {
        public Module Model => model;
        public MedMnistTask TaskType => MedMnistTask.MultiClass;
        public MedVision.Nets.Losses.LossValue ComputeLoss(Batch batch, int epoch)
            => MedVision.Nets.Losses.LossComposite.For<Tensor>().Add("bad", x => model.Call(x).Sum() * double.NaN).Build().Compute(batch.Images);
        public Tensor PredictScores(Batch batch) => model.Call(batch.Images).Softmax(1);
    }

    [Fact]
    public void NonFiniteLossStopsWithTheStep()
    {
        using var model = TinyCnn();
        var trainer = Trainer.Create(new ExplodingTask(model)).TrainOn(Loader(Retina.Value.Train, 32, true)).UseAdam().Build();
        trainer.Invoking(t => t.Run()).Should().Throw<TrainingDivergedException>().Where(e => e.Epoch == 0 && e.Step == 0).WithMessage("*NaN*");
    }

    [Fact]
    public void MixedPrecision_TrainsInBFloat16_KeepsFloat32Weights_AndStaysCloseToFloat32()
    {
        TrainingResult Train(bool mixed, string dir)
        {
            Tensors.ManualSeed(4);
            using var model = TinyCnn();
            var builder = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
                .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
                .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
                .UseAdam(1e-2)
                .ForEpochs(2)
                .WithSeed(9)
                .SaveTo(Path.Combine(_root, dir));
            if (mixed) builder.UseMixedPrecision();
            var result = builder.Build().Run();
            model.Parameters().Should().OnlyContain(p => p.ScalarType == ScalarType.Float32);
            return result;
        }
        var full = Train(false, "fp32");
        var mixed = Train(true, "bf16");
        Tensors.AutocastState().Enabled.Should().BeFalse("the trainer ends every autocast region it begins");
        mixed.History.Should().HaveCount(2);
        mixed.History.Select(h => h.TrainLoss).Should().OnlyContain(l => double.IsFinite(l));
        mixed.History[0].TrainLoss.Should().NotBe(full.History[0].TrainLoss, "the forward passes ran in bfloat16");
        mixed.History[0].TrainLoss.Should().BeApproximately(full.History[0].TrainLoss, 0.05 * full.History[0].TrainLoss);
        mixed.Validation.Auc.Should().BeInRange(0, 1);
        using var saved = SafeTensors.Load(Path.Combine(_root, "bf16", "last.safetensors"));
        saved.Values.Where(t => t.ScalarType.IsFloatingPoint()).Should().OnlyContain(t => t.ScalarType == ScalarType.Float32, "checkpoints hold float32 weights");
    }

    // A source whose samples 5 and 9 hold a NaN and an infinity, as a badly converted scan would.
    private sealed class PoisonedSource(ILabeledImageSource inner) : ILabeledImageSource
    {
        public int Count => inner.Count;
        public int LabelColumns => inner.LabelColumns;
        public (FloatImage Image, int[] Labels) Load(int index)
        {
            var (image, labels) = inner.Load(index);
            if (index == 5) image.Data[17] = float.NaN;
            if (index == 9) image.Data[0] = float.PositiveInfinity;
            return (image, labels);
        }
    }

    [Fact]
    public void ImagesHoldingNaN_AreRefusedByName_BeforeBatchNormSeesThem()
    {
        Tensors.ManualSeed(3);
        using var model = TinyCnn();
        var loader = new DataLoader(new PoisonedSource(new SubsetSource(new MedMnistImageSource(Retina.Value.Train), Enumerable.Range(0, 32).ToArray())),
            new DataLoaderOptions { BatchSize = 16, Shuffle = false });
        var before = model.CloneStateDict();
        try
        {
            var trainer = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression)).TrainOn(loader).UseAdam().Build();
            trainer.Invoking(t => t.Run()).Should().Throw<InvalidDataException>()
                .WithMessage("Training batch 0 of epoch 0 holds NaN or infinite values in 2 of its 16 images (samples 5, 9 of the training source)*");
            foreach (var (name, tensor) in model.StateDict())
                tensor.AllClose(before[name], rtol: 0, atol: 0).Should().BeTrue($"{name} (weights and running statistics) must be untouched");
        }
        finally
        {
            foreach (var t in before.Values) t.Dispose();
        }
    }

    [Fact]
    public void BuilderValidatesItsOptions()
    {
        using var model = TinyCnn();
        var task = new ClassificationTask(model, MedMnistTask.MultiClass);
        FluentActions.Invoking(() => Trainer.Create(task).UseAdam().Build()).Should().Throw<InvalidOperationException>().WithMessage("*TrainOn*");
        FluentActions.Invoking(() => Trainer.Create(task).TrainOn(Loader(Retina.Value.Train, 16, true)).Build()).Should().Throw<InvalidOperationException>().WithMessage("*optimizer*");
        FluentActions.Invoking(() => Trainer.Create(task).ForEpochs(0)).Should().Throw<ArgumentOutOfRangeException>();
        // one past the last device: CUDA missing on a CPU machine, a bad index on a GPU machine
        FluentActions.Invoking(() => Trainer.Create(task).OnDevice(Device.Cuda(Tensors.Cuda.DeviceCount))).Should().Throw<ArgumentException>().WithMessage("*CUDA*");
        if (!Tensors.Cuda.IsAvailable)
        {
            // and the message says why: a CPU-only libtorch, or a CUDA build without a usable GPU
            FluentActions.Invoking(() => Trainer.Create(task).OnDevice(Device.Cuda())).Should().Throw<ArgumentException>()
                .Which.Message.Should().Contain(Tensors.Cuda.UnavailableReason!);
        }
        var builder = Trainer.Create(task).TrainOn(Loader(Retina.Value.Train, 16, true)).UseAdam();
        builder.Build();
        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*already built*");
    }

    [Fact]
    public void MultiStepScheduleWorksForOneAndTwoEpochRuns()
    {
        foreach (var epochs in new[] { 1, 2 })
        {
            using var model = TinyCnn();
            var result = Trainer.Create(new ClassificationTask(model, MedMnistTask.MultiClass))
                .TrainOn(Loader(Retina.Value.Train, 16, shuffle: true)).UseAdam(1e-3).WithMultiStepSchedule().ForEpochs(epochs).Build().Run();
            // Milestones ⌊0.5·epochs⌋ and ⌊0.75·epochs⌋, never before epoch 1, equal ones counted once.
            result.History.Select(h => h.LearningRate).Should().BeEquivalentTo(epochs == 1 ? new[] { 1e-3 } : new[] { 1e-3, 1e-4 }, o => o.WithStrictOrdering());
        }
    }

    [Fact]
    public void AccumulatingTwoHalfBatches_GivesTheUpdateOfTheFullBatch()
    {
        // No batch norm or dropout: a full batch's mean loss is the mean of its two halves' mean losses.
        Dictionary<string, float[]> TrainOnce(int batchSize, int accumulate)
        {
            Tensors.ManualSeed(3);
            using var model = new Sequential(new Flatten(), new Linear(3 * 28 * 28, 5));
            var loader = new DataLoader(new SubsetSource(new MedMnistImageSource(Retina.Value.Train), Enumerable.Range(0, 96).ToArray()),
                new DataLoaderOptions { BatchSize = batchSize, Shuffle = true, Seed = 2, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build() });
            Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression)).TrainOn(loader).UseSgd(0.05, momentum: 0.9)
                .AccumulateGradients(accumulate).ForEpochs(2).WithSeed(3).Build().Run();
            return model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());
        }

        var full = TrainOnce(32, 1);
        var accumulated = TrainOnce(16, 2);
        var separate = TrainOnce(16, 1);
        foreach (var (name, weights) in full)
        {
            accumulated[name].Should().Equal(weights, (a, e) => Math.Abs(a - e) < 1e-5, $"{name}: accumulation reproduces the batch-32 update");
            separate[name].Should().NotEqual(weights, $"{name}: without accumulation batch 16 takes twice the steps");
        }
        using var tiny = new Linear(2, 2);
        FluentActions.Invoking(() => Trainer.Create(new ClassificationTask(tiny, MedMnistTask.MultiClass)).AccumulateGradients(0))
            .Should().Throw<ArgumentOutOfRangeException>();
    }

    [Theory]
    [InlineData(BatchMixingKind.Mixup)]
    [InlineData(BatchMixingKind.CutMix)]
    public void BatchMixing_TrainsDifferently_AndResumesExactly(BatchMixingKind kind)
    {
        var mixing = kind == BatchMixingKind.Mixup ? BatchMixing.Mixup(0.4) : BatchMixing.CutMix(1.0, probability: 0.5);
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "mix-straight", 4, mixing: mixing).Run();
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "mix-resumed", 2, mixing: mixing).Run();
        Tensors.ManualSeed(123);
        using (var model = TinyCnn()) Build(model, "mix-resumed", 4, mixing: mixing).Run(resume: true);
        LastWeights(Path.Combine(_root, "mix-resumed")).Should().Equal(LastWeights(Path.Combine(_root, "mix-straight")));

        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "unmixed", 4).Run();
        LastWeights(Path.Combine(_root, "unmixed")).Should().NotEqual(LastWeights(Path.Combine(_root, "mix-straight")), "mixing changes what is learned");
    }

    [Fact]
    public void ATorchScriptModel_TrainsWithTheTrainer_AndResumesExactly()
    {
        // A CNN scripted in Python (Fixtures/make_torchscript_classifier_fixture.py), fine-tuned here end to end. Without
        // the graph executor's optimisations its results do not depend on how often it ran, so resume is bit-exact.
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_torchscript_classifier.pt");
        MedVision.Torch.Jit.ScriptModule Load()
        {
            var script = MedVision.Torch.Jit.ScriptModule.Load(fixture);
            script.OptimizedExecution = false;
            return script;
        }
        Trainer Build(MedVision.Torch.Jit.ScriptModule model, string dir, int epochs) => Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
            .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
            .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
            .UseAdam(1e-2)
            .ForEpochs(epochs)
            .WithSeed(9)
            .SaveTo(Path.Combine(_root, dir))
            .Build();
        float[] initial;
        using (var model = Load())
        {
            initial = Values(model.StateDict());
            Build(model, "script-straight", 2).Run();
            Values(model.StateDict()).Should().NotEqual(initial, "training changed the script's own weights");
        }
        using (var model = Load()) Build(model, "script-resumed", 1).Run();
        using (var model = Load())
        {
            var resumed = Build(model, "script-resumed", 2).Run(resume: true);
            resumed.History.Should().HaveCount(2);
        }
        LastWeights(Path.Combine(_root, "script-resumed")).Should().Equal(LastWeights(Path.Combine(_root, "script-straight")));
    }

    [Fact]
    public void WeightAveraging_SelectsTheAverage_AndResumesExactly()
    {
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "ema-straight", 4, averagingDecay: 0.9).Run();
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "ema-resumed", 2, averagingDecay: 0.9).Run();
        Tensors.ManualSeed(123);
        TrainingResult resumed;
        using (var model = TinyCnn())
        {
            resumed = Build(model, "ema-resumed", 4, averagingDecay: 0.9).Run(resume: true);
            string straight = Path.Combine(_root, "ema-straight"), again = Path.Combine(_root, "ema-resumed");
            LastWeights(again).Should().Equal(LastWeights(straight));
            LastWeights(again, "last.average.safetensors").Should().Equal(LastWeights(straight, "last.average.safetensors"));
            LastWeights(again, "last.average.safetensors").Should().NotEqual(LastWeights(again), "the average differs from the last step's weights");
            // The trained model holds the selected epoch's averaged weights, which best.safetensors holds too.
            Values(model.StateDict()).Should().Equal(LastWeights(again, "best.safetensors"));
            if (resumed.BestEpoch == 3) Values(model.StateDict()).Should().Equal(LastWeights(again, "last.average.safetensors"));
        }
        // Nor with the average's warm-up, which the checkpoint's average was made without.
        using (var model = TinyCnn())
            FluentActions.Invoking(() => Build(model, "ema-resumed", 4, averagingDecay: 0.9, averagingWarmup: true).Run(resume: true))
                .Should().Throw<InvalidDataException>().WithMessage("*made without the weight average's warm-up*");

        // A checkpoint written without averaging cannot be resumed with it.
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) Build(model, "plain", 1).Run();
        using (var model = TinyCnn())
            FluentActions.Invoking(() => Build(model, "plain", 2, averagingDecay: 0.9).Run(resume: true))
                .Should().Throw<InvalidDataException>().WithMessage("*without weight averaging*");
        // Nor with another optimizer, or other parameter groups (a classifier at a rate of its own).
        using (var model = TinyCnn())
            FluentActions.Invoking(() => Build(model, "plain", 2, optimizer: p => new Sgd(p, 1e-2)).Run(resume: true))
                .Should().Throw<InvalidDataException>().WithMessage("*optimizer state in*plain does not fit this run's optimizer: The state was exported by*Adam*Resume it with the settings it was started with*");
        using (var model = TinyCnn())
            FluentActions.Invoking(() => Build(model, "plain", 2, optimizer: p => new Adam(new[] { new AdamParameterGroup(p.Take(1).ToList(), 1e-2), new AdamParameterGroup(p.Skip(1).ToList(), 1e-1) })).Run(resume: true))
                .Should().Throw<InvalidDataException>().WithMessage("*does not fit this run's optimizer: The state has 1 parameter groups but the optimizer has 2.*");
    }

    // Records the training weights (parameters, by name) at the end of every epoch, and cancels after one if asked.
    private sealed class EpochWeights(Module model, CancellationTokenSource? cancel = null, int cancelAfter = -1) : IProgress<TrainingProgress>
    {
        public Dictionary<int, float[]> Parameters { get; } = new();

        public void Report(TrainingProgress value)
        {
            if (value.Completed is not { } record) return;
            using var scope = Tensors.NewDisposeScope();
            Parameters[record.Epoch] = model.NamedParameters().OrderBy(p => p.Name, StringComparer.Ordinal).SelectMany(p => p.Parameter.ToArray<float>()).ToArray();
            if (record.Epoch == cancelAfter) cancel!.Cancel();
        }
    }

    private Trainer BuildSwa(Sequential model, string dir, IProgress<TrainingProgress> progress, bool exponential = false)
    {
        var builder = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
            .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
            .UseSgd(0.05, momentum: 0.9)
            .WithMultiStepSchedule(0.25, 0.25, gamma: 0.5)
            .ForEpochs(4)
            .WithSeed(9)
            .ReportProgressTo(progress)
            .SaveTo(Path.Combine(_root, dir));
        if (exponential) builder.AverageWeights(0.9);
        else builder.WithStochasticWeightAveraging(0.01, startFraction: 0.5, annealEpochs: 1, annealStrategy: AnnealStrategy.Linear);
        return builder.Build();
    }

    [Fact]
    public void StochasticWeightAveraging_AveragesTheLastEpochs_UnderItsSchedule_AndResumesExactly()
    {
        Tensors.ManualSeed(1);
        TrainingResult result;
        float[] trainedParameters, averageFile;
        Dictionary<int, float[]> epochs;
        using (var model = TinyCnn())
        {
            var weights = new EpochWeights(model);
            result = BuildSwa(model, "swa-straight", weights).Run();
            epochs = weights.Parameters;
            using var scope = Tensors.NewDisposeScope();
            trainedParameters = model.NamedParameters().OrderBy(p => p.Name, StringComparer.Ordinal).SelectMany(p => p.Parameter.ToArray<float>()).ToArray();
            var bn = (BatchNorm2d)model[1];
            bn.NumBatchesTracked!.Item<long>().Should().Be(4, "the statistics were recomputed over one epoch's 4 batches");
        }
        string straight = Path.Combine(_root, "swa-straight");
        // Multi-step halving after epoch 1, then from epoch 2 (⌊0.5 · 4⌋) SwaLR: linear to 0.01 in one epoch.
        result.History.Select(h => h.LearningRate).Should().Equal(0.05, 0.025, 0.025, 0.01);
        averageFile = LastWeights(straight, "last.average.safetensors");
        var mean = epochs[2].Zip(epochs[3], (a, b) => a + (b - a) / 2).ToArray();
        averageFile.Should().HaveCount(mean.Length);
        for (int i = 0; i < mean.Length; i++) averageFile[i].Should().BeApproximately(mean[i], 1e-6f, "the average of the weights after epochs 2 and 3");
        // Without a validation split the last epoch is selected: the averaged model, with its own batch-norm statistics.
        result.BestEpoch.Should().Be(3);
        trainedParameters.Should().Equal(averageFile);
        LastWeights(straight, "best.safetensors").Should().NotEqual(LastWeights(straight), "the selected model is the average, not the last step's weights");

        // Stopped after epoch 2 (the first averaged one, SwaLR stepped once) and resumed: the same run.
        Tensors.ManualSeed(1);
        using var cancel = new CancellationTokenSource();
        using (var model = TinyCnn())
            FluentActions.Invoking(() => BuildSwa(model, "swa-resumed", new EpochWeights(model, cancel, 2)).Run(cancellationToken: cancel.Token))
                .Should().Throw<OperationCanceledException>();
        Tensors.ManualSeed(123);
        using (var model = TinyCnn())
        {
            var resumed = BuildSwa(model, "swa-resumed", new EpochWeights(model)).Run(resume: true);
            resumed.History.Select(h => h.LearningRate).Should().Equal(0.05, 0.025, 0.025, 0.01);
        }
        string again = Path.Combine(_root, "swa-resumed");
        LastWeights(again).Should().Equal(LastWeights(straight));
        LastWeights(again, "last.average.safetensors").Should().Equal(averageFile);
        LastWeights(again, "best.safetensors").Should().Equal(LastWeights(straight, "best.safetensors"));

        // An exponential moving average cannot take over a stochastic weight average's checkpoint, nor the other way round.
        using (var model = TinyCnn())
            FluentActions.Invoking(() => BuildSwa(model, "swa-resumed", new EpochWeights(model), exponential: true).Run(resume: true))
                .Should().Throw<InvalidDataException>().WithMessage("*holds a StochasticWeightAverage, not a ExponentialMovingAverage*");
        using (var model = TinyCnn())
            FluentActions.Invoking(() => Build(model, "swa-resumed", 5).Run(resume: true))
                .Should().Throw<InvalidDataException>().WithMessage("*holds a StochasticWeightAverage, not a run without weight averaging*");
    }

    [Fact]
    public void StochasticWeightAveraging_ChecksItsArguments_AndExcludesTheMovingAverage()
    {
        using var model = TinyCnn();
        var task = new ClassificationTask(model, MedMnistTask.OrdinalRegression);
        FluentActions.Invoking(() => Trainer.Create(task).WithStochasticWeightAveraging(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("swaLearningRate");
        FluentActions.Invoking(() => Trainer.Create(task).WithStochasticWeightAveraging(0.1, startFraction: 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("startFraction");
        FluentActions.Invoking(() => Trainer.Create(task).WithStochasticWeightAveraging(0.1, annealEpochs: -1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("annealEpochs");
        FluentActions.Invoking(() => Trainer.Create(task).TrainOn(Loader(Retina.Value.Train, 16, shuffle: true)).UseAdam()
            .WithStochasticWeightAveraging(0.1).AverageWeights(0.99).Build()).Should().Throw<InvalidOperationException>().WithMessage("*one kind of weight averaging*");
    }

    private sealed class CancelAfterEpoch(CancellationTokenSource source, int epoch) : IProgress<TrainingProgress>
    {
        // Synchronous (Progress<T> posts to the thread pool): the run sees the cancellation at the next epoch's start.
        public void Report(TrainingProgress value)
        {
            if (value.Completed?.Epoch == epoch) source.Cancel();
        }
    }

    private Trainer BuildOneCycle(Sequential model, string dir, int accumulation = 1, IProgress<TrainingProgress>? progress = null)
    {
        var builder = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
            .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
            .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
            .UseSgd(0.5, momentum: 0.9)
            .WithOneCycleSchedule(0.05, warmupFraction: 0.25)
            .AccumulateGradients(accumulation)
            .ForEpochs(3)
            .WithSeed(9)
            .SaveTo(Path.Combine(_root, dir));
        if (progress is not null) builder.ReportProgressTo(progress);
        return builder.Build();
    }

    private double SchedulerSteps(string dir)
        => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_root, dir, "last.json")))!["Scheduler"]!["last_epoch"]!.GetValue<double>();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void OneCycleSchedule_StepsAfterEveryOptimizerStep_OverTheWholeRun(int accumulation)
    {
        // 64 samples in batches of 16: 4 batches, so 4 optimizer steps per epoch (2 when accumulating 3 batches).
        int stepsPerEpoch = accumulation == 1 ? 4 : 2, total = 3 * stepsPerEpoch;
        Tensors.ManualSeed(1);
        TrainingResult result;
        using (var model = TinyCnn()) result = BuildOneCycle(model, "one-cycle-" + accumulation, accumulation).Run();

        using var scope = Tensors.NewDisposeScope();
        using var reference = new Sgd(new[] { Tensors.Zeros(1).RequiresGradInPlace() }, learningRate: 0.5, momentum: 0.9);
        var schedule = new OneCycleLR(reference, 0.05, total, warmupFraction: 0.25);
        // Each epoch starts where the previous one's optimizer steps left the schedule.
        result.History.Select(h => h.LearningRate).Should().Equal(
            Enumerable.Range(0, 3).Select(e => schedule.GetLearningRate(0.05 / 25, e * stepsPerEpoch)));
        result.History[0].LearningRate.Should().BeApproximately(0.002, 1e-15, "the 1cycle start is max_lr / 25, whatever the optimizer was given");
        SchedulerSteps("one-cycle-" + accumulation).Should().Be(total, "the schedule was stepped once per optimizer step, and no more");
    }

    [Fact]
    public void OneCycleSchedule_ResumesMidRunExactly()
    {
        Tensors.ManualSeed(1);
        using (var model = TinyCnn()) BuildOneCycle(model, "one-cycle-straight").Run();
        Tensors.ManualSeed(1);
        using var cancel = new CancellationTokenSource();
        using (var model = TinyCnn())
            FluentActions.Invoking(() => BuildOneCycle(model, "one-cycle-resumed", progress: new CancelAfterEpoch(cancel, 0)).Run(cancellationToken: cancel.Token))
                .Should().Throw<OperationCanceledException>();
        SchedulerSteps("one-cycle-resumed").Should().Be(4, "the run was stopped after its first epoch");
        Tensors.ManualSeed(123);
        using (var model = TinyCnn()) BuildOneCycle(model, "one-cycle-resumed").Run(resume: true);
        LastWeights(Path.Combine(_root, "one-cycle-resumed")).Should().Equal(LastWeights(Path.Combine(_root, "one-cycle-straight")));
        SchedulerSteps("one-cycle-resumed").Should().Be(12);
    }

    // Records the optimizer's learning rate after every batch (synchronously, as the trainer reports).
    private sealed class RateAfterEachBatch(Func<Optimizer?> optimizer) : IProgress<TrainingProgress>
    {
        public List<double> Rates { get; } = new();

        public void Report(TrainingProgress value)
        {
            if (value.Completed is null) Rates.Add(optimizer()!.ParameterGroups[0].LearningRate);
        }
    }

    [Fact]
    public void WarmRestartsSchedule_FallsWithinEachEpoch_AndRestartsAtCycleEnds()
    {
        // 4 optimizer steps per epoch, a first cycle of 1 epoch and a second of 2: restarts at epochs 1 and 3. After step k
        // the rate is SGDR's at the fractional epoch k / 4, as PyTorch's scheduler.step(epoch + i / iters) sets it.
        Optimizer? optimizer = null;
        var recorder = new RateAfterEachBatch(() => optimizer);
        Tensors.ManualSeed(1);
        TrainingResult result;
        using (var model = TinyCnn())
            result = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
                .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
                .UseOptimizer(p => optimizer = new Sgd(p, 0.5, momentum: 0.9))
                .WithWarmRestartsSchedule(firstCycleEpochs: 1, cycleMultiplier: 2, minLearningRate: 0.001)
                .ForEpochs(4)
                .ReportProgressTo(recorder)
                .SaveTo(Path.Combine(_root, "warm-restarts"))
                .Build().Run();

        using var scope = Tensors.NewDisposeScope();
        using var reference = new Sgd(new[] { Tensors.Zeros(1).RequiresGradInPlace() }, learningRate: 0.5);
        var sgdr = new CosineAnnealingWarmRestarts(reference, t0: 1, tMult: 2, etaMin: 0.001);
        recorder.Rates.Should().HaveCount(16);
        for (int k = 0; k < 16; k++)
            recorder.Rates[k].Should().BeApproximately(sgdr.GetLearningRate(0.5, (k + 1) / 4.0), 1e-12, $"after optimizer step {k + 1}");
        result.History.Select(h => h.LearningRate).Should().Equal(0.5, 0.5, sgdr.GetLearningRate(0.5, 2.0), 0.5);
        recorder.Rates[2].Should().BeLessThan(recorder.Rates[1], "the rate falls within the epoch");
        SchedulerSteps("warm-restarts").Should().Be(16, "the schedule was stepped once per optimizer step");

        var task = new ClassificationTask(new Sequential(new Flatten()), MedMnistTask.OrdinalRegression);
        FluentActions.Invoking(() => Trainer.Create(task).WithWarmRestartsSchedule(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("firstCycleEpochs");
        FluentActions.Invoking(() => Trainer.Create(task).WithWarmRestartsSchedule(2, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("cycleMultiplier");
        FluentActions.Invoking(() => Trainer.Create(task).WithWarmRestartsSchedule(2, minLearningRate: double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("minLearningRate");

        // A cycle longer than a schedule can count (int.MaxValue steps) is refused by name (the fuzzer found an overflow).
        using var tiny = TinyCnn();
        FluentActions.Invoking(() => Trainer.Create(new ClassificationTask(tiny, MedMnistTask.OrdinalRegression))
                .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true)).UseAdam().WithWarmRestartsSchedule(int.MaxValue).ForEpochs(1).Build().Run())
            .Should().Throw<InvalidOperationException>().WithMessage("The first warm-restart cycle (2147483647 epochs of 4 optimizer steps) is 8,589,934,588 optimizer steps, more than a learning-rate schedule counts (2,147,483,647).");
        FluentActions.Invoking(() => Trainer.Create(new ClassificationTask(tiny, MedMnistTask.OrdinalRegression))
                .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true)).UseAdam().WithOneCycleSchedule(0.01).ForEpochs(int.MaxValue).Build().Run())
            .Should().Throw<InvalidOperationException>().WithMessage("The run (2147483647 epochs of 4 optimizer steps) is *");
    }

    [Fact]
    public void CosineSchedule_AnnealsOverTheEpochsAfterTheWarmup_AndNeedsAnEpochToAnnealOver()
    {
        Tensors.ManualSeed(1);
        using var model = new Sequential(new Flatten(), new Linear(3 * 28 * 28, 5));
        var task = new ClassificationTask(model, MedMnistTask.OrdinalRegression);
        var result = Trainer.Create(task).TrainOn(Loader(Retina.Value.Train, 16, shuffle: true)).UseAdam(1e-2)
            .WithCosineSchedule(warmupEpochs: 1, minLearningRate: 1e-4).ForEpochs(3).Build().Run();
        // Warm-up from a third of the rate, then cosine over T_max = 2 epochs.
        var expected = new[] { 1e-2 / 3, 1e-2, 1e-4 + (1e-2 - 1e-4) / 2 };
        result.History.Should().HaveCount(3);
        for (int e = 0; e < 3; e++) result.History[e].LearningRate.Should().BeApproximately(expected[e], 1e-15, $"epoch {e}");

        FluentActions.Invoking(() => Trainer.Create(task).TrainOn(Loader(Retina.Value.Train, 16, shuffle: true)).UseAdam()
            .WithCosineSchedule(warmupEpochs: 3).ForEpochs(3).Build()).Should().Throw<InvalidOperationException>().WithMessage("*3 warm-up epochs leave none of the 3 epochs*");
        FluentActions.Invoking(() => Trainer.Create(task).WithOneCycleSchedule(-1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxLearningRate");
        FluentActions.Invoking(() => Trainer.Create(task).WithOneCycleSchedule(0.1, warmupFraction: 2)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("warmupFraction");
    }

    [Fact]
    public void PlateauSchedule_ReducesTheRateWhenValidationAucStalls_AndResumesExactly()
    {
        // A validation split of one grade has no AUC (NaN), so no epoch improves on the last: with patience 1 the rate
        // halves after every second epoch.
        var validation = Retina.Value.Validation;
        var oneGrade = Enumerable.Range(0, validation.Count).Where(i => validation.Labels[i, 0] == 0).Take(16).ToArray();
        static Sequential Linear() => new(new Flatten(), new Linear(3 * 28 * 28, 5));
        Trainer Build(Sequential model, string dir, int epochs) => Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
            .TrainOn(Loader(Retina.Value.Train, 32, shuffle: true))
            .ValidateOn(new DataLoader(new SubsetSource(new MedMnistImageSource(validation), oneGrade), new DataLoaderOptions { BatchSize = 16 }))
            .UseSgd(0.01, momentum: 0.9)
            .WithPlateauSchedule(factor: 0.5, patience: 1)
            .ForEpochs(epochs)
            .WithSeed(4)
            .SaveTo(Path.Combine(_root, dir))
            .Build();

        Tensors.ManualSeed(1);
        TrainingResult straight;
        using (var model = Linear()) straight = Build(model, "plateau-straight", 5).Run();
        straight.History.Select(h => h.LearningRate).Should().Equal(0.01, 0.01, 0.005, 0.005, 0.0025);
        straight.History.Should().OnlyContain(h => double.IsNaN(h.Validation.Auc));

        Tensors.ManualSeed(1);
        using (var model = Linear()) Build(model, "plateau-resumed", 3).Run();
        TrainingResult resumed;
        using (var model = Linear()) resumed = Build(model, "plateau-resumed", 5).Run(resume: true);
        resumed.History.Select(h => h.LearningRate).Should().Equal(straight.History.Select(h => h.LearningRate));
        LastWeights(Path.Combine(_root, "plateau-resumed")).Should().Equal(LastWeights(Path.Combine(_root, "plateau-straight")));

        using var tiny = TinyCnn();
        FluentActions.Invoking(() => Trainer.Create(new ClassificationTask(tiny, MedMnistTask.OrdinalRegression))
            .TrainOn(Loader(Retina.Value.Train, 16, shuffle: true)).UseAdam().WithPlateauSchedule().Build())
            .Should().Throw<InvalidOperationException>().WithMessage("*validation AUC: ValidateOn(loader)*");
        FluentActions.Invoking(() => Trainer.Create(new ClassificationTask(tiny, MedMnistTask.OrdinalRegression)).WithPlateauSchedule(factor: 1))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("factor");
    }
}
