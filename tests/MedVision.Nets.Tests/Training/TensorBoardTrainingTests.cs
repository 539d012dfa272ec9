using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.TensorBoard;

namespace MedVision.Nets.Tests.Training;

/// <summary>The trainers' TensorBoard summaries, read back with <see cref="EventFileReader"/> and checked against the run's own history.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class TensorBoardTrainingTests : IDisposable
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());
    private readonly string _root = Path.Combine(Path.GetTempPath(), "mvn-tb-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static DataLoader Loader(MedMnistSplitData split, int count, bool shuffle) => new(
        new SubsetSource(new MedMnistImageSource(split), Enumerable.Range(0, count).ToArray()),
        new DataLoaderOptions { BatchSize = 16, Shuffle = shuffle, Seed = 5, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build() });

    private static Dictionary<string, List<ScalarPoint>> Series(string folder)
        => EventFileReader.ReadScalars(folder).GroupBy(p => p.Tag).ToDictionary(g => g.Key, g => g.ToList());

    private static List<TensorBoardEvent> Events(string folder)
        => Directory.GetFiles(folder, "events.out.tfevents.*").Order(StringComparer.Ordinal).SelectMany(EventFileReader.Read).ToList();

    [Fact]
    public void Trainer_WritesEveryStepAndEpoch_AsItsHistoryHasThem()
    {
        Tensors.ManualSeed(3);
        using var model = new Sequential(new Conv2d(3, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 5));
        var board = Path.Combine(_root, "board");
        var result = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
            .TrainOn(Loader(Retina.Value.Train, 64, shuffle: true))
            .ValidateOn(Loader(Retina.Value.Validation, 32, shuffle: false))
            .TestOn(Loader(Retina.Value.Test, 32, shuffle: false))
            .UseOptimizer(p => new Adam(p, 1e-2))
            .WithSchedule(o => new MultiStepLR(o, new[] { 1 }, 0.5))
            .ForEpochs(3).WithSeed(9)
            .WriteTensorBoardTo(board, parameterHistograms: true)
            .Build().Run();

        var series = Series(board);
        series.Keys.Should().BeEquivalentTo("train/batch_loss", "train/loss", "train/learning_rate", "validation/auc", "validation/acc", "time/epoch_seconds",
            "selected/validation/auc", "selected/validation/acc", "selected/test/auc", "selected/test/acc");
        // 64 images in batches of 16: 4 steps per epoch, numbered 0–11 across the run; each epoch's loss is their mean.
        series["train/batch_loss"].Select(p => p.Step).Should().Equal(Enumerable.Range(0, 12).Select(i => (long)i));
        for (int e = 0; e < 3; e++)
        {
            var epoch = result.History[e];
            series["train/loss"][e].Should().Match<ScalarPoint>(p => p.Step == e && p.Value == (float)epoch.TrainLoss);
            series["train/batch_loss"].Skip(4 * e).Take(4).Average(p => p.Value).Should().BeApproximately(epoch.TrainLoss, 1e-6);
            series["train/learning_rate"][e].Value.Should().Be((float)epoch.LearningRate);
            series["validation/auc"][e].Value.Should().Be((float)epoch.Validation.Auc);
            series["validation/acc"][e].Value.Should().Be((float)epoch.Validation.Acc);
        }
        series["train/learning_rate"].Select(p => p.Value).Should().Equal(1e-2f, 5e-3f, 5e-3f);
        series["selected/test/auc"].Should().ContainSingle().Which.Should().Match<ScalarPoint>(p => p.Step == result.BestEpoch && p.Value == (float)result.Test.Auc);
        series.Should().NotContainKey("selected/train/auc", "the training split was not evaluated (NaN measures are left out)");

        var events = Events(board);
        var histograms = events.SelectMany(e => e.Values.Select(v => (e.Step, v))).Where(x => x.v.Kind == SummaryValueKind.Histogram).ToList();
        var names = model.NamedParameters().Select(p => "parameters/" + p.Name).ToList();
        histograms.Select(h => h.v.Tag).Distinct().Should().BeEquivalentTo(names);
        histograms.Should().HaveCount(3 * names.Count, "one histogram per parameter per epoch");
        foreach (var (_, v) in histograms.Where(h => h.Step == 2))
        {
            var (name, parameter) = model.NamedParameters().Single(p => "parameters/" + p.Name == v.Tag);
            v.Histogram!.Count.Should().Be(parameter.NumElements);
        }
        var text = events.SelectMany(e => e.Values).Single(v => v.Kind == SummaryValueKind.Text);
        text.Tag.Should().Be("result/text_summary");
        text.Text.Should().StartWith($"Selected epoch {result.BestEpoch + 1} of 3.").And.Contain($"| test | {result.Test.Auc:F4} | {result.Test.Acc:F4} |");
    }

    [Fact]
    public void Trainer_WritesBesideTheCallersOwnSummaries_AndLeavesTheWriterOpen()
    {
        Tensors.ManualSeed(3);
        using var model = new Sequential(new Flatten(), new Linear(3 * 28 * 28, 5));
        var folder = Path.Combine(_root, "shared");
        using var writer = new SummaryWriter(folder);
        writer.AddText("config", "lr 0.01");
        Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
            .TrainOn(Loader(Retina.Value.Train, 32, shuffle: true))
            .UseSgd(1e-2).ForEpochs(1)
            .WriteTensorBoardTo(writer)
            .Build().Run();
        writer.AddScalar("after", 1, 0);
        writer.Flush();
        var series = Series(folder);
        series.Keys.Should().Contain(["train/batch_loss", "train/loss", "after"]);
        series.Should().NotContainKey("validation/auc", "there was no validation split");
        Directory.GetFiles(folder).Should().ContainSingle("the trainer wrote into the caller's file");
    }

    [Fact]
    public void SegmentationTrainer_WritesLossAndDice_PerEpochAndClass()
    {
        var generator = new PhantomGenerator(size: 16, seed: 5);
        var train = new SegmentationLoader(new PhantomSegmentationSource(generator, 0, 8, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4, Shuffle = true });
        var validation = new SegmentationLoader(new PhantomSegmentationSource(generator, 50, 4, lesionRadiusScale: 1.5), new SegmentationLoaderOptions { BatchSize = 4 });
        Tensors.ManualSeed(1);
        using var unet = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(2).Build();
        var board = Path.Combine(_root, "segmentation");
        var result = SegmentationTrainer.Create(unet).TrainOn(train).ValidateOn(validation).UseAdam(3e-3).ForEpochs(2).WriteTensorBoardTo(board).Build().Run();

        var series = Series(board);
        series["train/batch_loss"].Select(p => p.Step).Should().Equal(0L, 1, 2, 3);
        series["train/loss"].Select(p => p.Value).Should().Equal(result.Epochs.Select(e => (double)(float)e.TrainLoss));
        series["validation/dice"].Select(p => p.Value).Should().Equal(result.Epochs.Select(e => (double)(float)e.ValidationDice));
        series["validation/dice/class_1"].Should().HaveCount(2);
        series["selected/validation/dice"].Should().ContainSingle().Which.Step.Should().Be(result.BestEpoch);
        series["selected/validation/dice"][0].Value.Should().Be((float)result.Validation!.MeanDice);
        Events(board).SelectMany(e => e.Values).Single(v => v.Kind == SummaryValueKind.Text).Text.Should()
            .Contain($"| 1 | {result.Validation.Classes[0].Cases} | {result.Validation.Classes[0].Dice:F4} | {result.Validation.Classes[0].Iou:F4} |");
    }

    [Fact]
    public void ImageSummaries_AreRead_ByLibpng()
    {
        // A summary's PNG decoded by Debian's libpng (the library's own image reader), not by the writer's code.
        using var image = Tensors.FromArray(Enumerable.Range(0, 3 * 4 * 5).Select(i => i / 59f).ToArray(), 3, 4, 5);
        var folder = Path.Combine(_root, "image");
        using (var writer = new SummaryWriter(folder)) writer.AddImage("fundus", image, 7);
        var value = Events(folder).SelectMany(e => e.Values).Single(v => v.Kind == SummaryValueKind.Image);
        var decoded = LibPng.Decode(value.Image!.Encoded.Span, "summary.png");
        (decoded.Width, decoded.Height, decoded.Channels).Should().Be((5, 4, 3));
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++)
                for (int c = 0; c < 3; c++)
                {
                    float intensity = (c * 20 + y * 5 + x) / 59f;
                    decoded[x, y, c].Should().Be((byte)(intensity * 255f), "pixel ({0}, {1}) channel {2}", x, y, c);
                }
    }

    [Fact]
    public void Builders_RefuseAFolderOrWriterThatIsNot()
    {
        using var model = new Sequential(new Flatten(), new Linear(3 * 28 * 28, 5));
        var task = new ClassificationTask(model, MedMnistTask.OrdinalRegression);
        FluentActions.Invoking(() => Trainer.Create(task).WriteTensorBoardTo(" ")).Should().Throw<ArgumentException>().WithParameterName("logDirectory");
        FluentActions.Invoking(() => Trainer.Create(task).WriteTensorBoardTo((SummaryWriter)null!)).Should().Throw<ArgumentNullException>().WithParameterName("writer");
        using var unet = UNet.Builder().ForInput(1, 2).WithFeatures(4, 8).WithClasses(2).Build();
        FluentActions.Invoking(() => SegmentationTrainer.Create(unet).WriteTensorBoardTo("")).Should().Throw<ArgumentException>().WithParameterName("logDirectory");
    }
}
