using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

/// <summary>
/// Disposing a predictor while other threads are still predicting (a web service shutting down, a viewer closing a
/// model): the calls in progress finish with their results, later calls throw <see cref="ObjectDisposedException"/>,
/// and the network is freed when the last call returns — never under a running call.
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class PredictorLifetimeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-lifetime-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Zero logits — (N, classes) for a classifier, (N, classes, spatial…) for a segmentation network — after waiting,
    /// inside the call, until the test lets it go; records whether it has been disposed, and fails a call made after that.
    /// </summary>
    private sealed class GatedNetwork(int classes, bool segmentation) : IPredictorNetwork
    {
        public readonly ManualResetEventSlim Entered = new(), Release = new();
        private int _disposed;
        public bool Disposed => Volatile.Read(ref _disposed) != 0;
        public Device Device => Device.Cpu;

        public Tensor Logits(Tensor batch)
        {
            if (Disposed) throw new InvalidOperationException("The network was called after its disposal.");
            Entered.Set();
            Release.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue("the test releases the call");
            if (Disposed) throw new InvalidOperationException("The network was disposed under a running call.");
            var shape = segmentation ? [batch.Size(0), classes, .. batch.Shape.Skip(2)] : new[] { batch.Size(0), (long)classes };
            return Tensors.Zeros(shape);
        }

        public void Dispose() => Interlocked.Exchange(ref _disposed, 1);
    }

    // Starts `call` on another thread, disposes `owner` once the call is inside the network, and checks the order of events.
    private static T DisposeDuringCall<T>(IDisposable owner, GatedNetwork network, Func<T> call, Action callAfterDisposal)
    {
        var running = Task.Run(call);
        network.Entered.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue("the call reaches the network");
        owner.Dispose();
        network.Disposed.Should().BeFalse("a call is still running on the network");
        FluentActions.Invoking(callAfterDisposal).Should().Throw<ObjectDisposedException>("calls after Dispose are refused at once");
        owner.Dispose(); // a second Dispose changes nothing
        network.Disposed.Should().BeFalse();
        network.Release.Set();
        var result = running.Wait(TimeSpan.FromSeconds(30)) ? running.Result : throw new TimeoutException("The call did not finish.");
        network.Disposed.Should().BeTrue("the last running call has returned, so the network is freed");
        return result;
    }

    private static ModelCard ClassifierCard() => new()
    {
        Architecture = "external",
        Preprocessing = new PreprocessingCard { InputSize = new() { 4, 4 }, Channels = 1, Mean = new() { 0f }, Std = new() { 1f } },
        ClassNames = new() { "a", "b", "c" },
        Task = MedMnistTask.MultiClass.ToString(),
    };

    private static FloatImage Image() => new(Enumerable.Range(0, 16).Select(i => i / 16f).ToArray(), 1, 4, 4);

    [Fact]
    public void Predictor_DisposedDuringACall_LetsItFinish_RefusesNewCalls_ThenFreesTheNetwork()
    {
        var network = new GatedNetwork(3, segmentation: false);
        var predictor = Predictor.Create(ClassifierCard(), network);
        var prediction = DisposeDuringCall(predictor, network, () => predictor.Predict(Image()), () => predictor.Predict(Image()));
        prediction.Probabilities.Should().Equal(1 / 3f, 1 / 3f, 1 / 3f);
    }

    [Fact]
    public void EnsemblePredictor_DisposedDuringACall_LetsItFinish_ThenFreesItsMembers()
    {
        var gated = new GatedNetwork(3, segmentation: false);
        var other = new GatedNetwork(3, segmentation: false);
        other.Release.Set();
        var ensemble = EnsemblePredictor.Create([Predictor.Create(ClassifierCard(), other), Predictor.Create(ClassifierCard(), gated)]);
        var prediction = DisposeDuringCall(ensemble, gated, () => ensemble.Predict(Image()), () => ensemble.Predict(Image()));
        prediction.Probabilities.Should().Equal(1 / 3f, 1 / 3f, 1 / 3f);
        other.Disposed.Should().BeTrue();
    }

    [Fact]
    public void ImageSegmentationPredictor_DisposedDuringACall_LetsItFinish_ThenFreesTheNetwork()
    {
        var options = new ImageSegmentationOptions { Channels = 1, Size = (8, 8) };
        SegmentationCard card;
        using (var unet = UNet.Builder().ForInput(1, 2).WithFeatures(2, 4).WithClasses(2).Build())
            card = SegmentationModelFile.Describe(unet, options, ["background", "vessel"], new SlidingWindowInferer([8, 8]));
        var network = new GatedNetwork(2, segmentation: true);
        var predictor = ImageSegmentationPredictor.Create(card, network);
        var image = new RasterImage(8, 8, 1, new byte[64]);
        var map = DisposeDuringCall(predictor, network, () => predictor.Predict(image), () => predictor.Predict(image));
        map.Labels.ToArray().Should().HaveCount(64).And.OnlyContain(l => l == 0, "equal logits give the first class");
    }

    [Fact]
    public void SegmentationPredictor_DisposedDuringACall_LetsItFinish_ThenFreesTheNetwork()
    {
        var options = new NiftiSegmentationOptions { Orientation = null };
        SegmentationCard card;
        using (var unet = UNet.Builder().ForInput(1, 3).WithFeatures(2, 4).WithClasses(2).Build())
            card = SegmentationModelFile.Describe(unet, options, ["background", "lesion"], new SlidingWindowInferer([8, 8, 8]));
        var network = new GatedNetwork(2, segmentation: true);
        var predictor = SegmentationPredictor.Create(card, network);
        var scan = new NiftiImage(Enumerable.Range(0, 512).Select(i => i % 7 / 7f).ToArray(), [8, 8, 8]);
        var labels = DisposeDuringCall(predictor, network, () => predictor.Predict([scan]), () => predictor.Predict([scan]));
        labels.Voxels.Should().HaveCount(512).And.OnlyContain(v => v == 0);
    }

    [Fact]
    public async Task ALibtorchPredictor_DisposedWhileFourThreadsPredict_NeverCrashes_AndFreesEveryTensor()
    {
        static long SettledLiveTensors() { NativeHeap.Settle(); return Tensors.LiveTensors; }
        var path = Path.Combine(_dir, "tiny.safetensors");
        using (var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build())
        {
            var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f } },
                ["0", "1", "2", "3", "4"], MedMnistTask.MultiClass);
            ModelFile.Save(path, model, card);
        }
        var pixels = MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(0).ToArray();
        for (int round = 0; round < 3; round++)
        {
            long before = SettledLiveTensors();
            var predictor = Predictor.Load(path);
            var expected = predictor.PredictPixels(pixels, 28, 28, 3).Probabilities.ToArray();
            var predicted = new int[4];
            using var started = new CountdownEvent(4);
            var workers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                started.Signal();
                while (true)
                {
                    float[] p;
                    try { p = predictor.PredictPixels(pixels, 28, 28, 3).Probabilities.ToArray(); }
                    catch (ObjectDisposedException) { return; }
                    p.Should().Equal(expected);
                    Interlocked.Increment(ref predicted[t]);
                }
            })).ToArray();
            started.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
            SpinWait.SpinUntil(() => Enumerable.Range(0, 4).All(i => Volatile.Read(ref predicted[i]) >= 3), TimeSpan.FromSeconds(60)).Should().BeTrue("every thread predicts");
            predictor.Dispose();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60)); // every thread stops at the ObjectDisposedException
            SettledLiveTensors().Should().Be(before, "the model's weights are freed once the last call has returned");
        }
    }
}
