using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Inference;

/// <summary><see cref="Predictor.Create"/> over a network of another engine.</summary>
public sealed class PredictorNetworkTests
{
    /// <summary>Logits that rise with the class index by the batch's mean value; counts its calls and disposal.</summary>
    private sealed class RampNetwork : IPredictorNetwork
    {
        private readonly int _classes;
        public RampNetwork(int classes) => _classes = classes;
        public int Calls;
        public bool Disposed;
        public Device Device => Device.Cpu;

        public Tensor Logits(Tensor batch)
        {
            Interlocked.Increment(ref Calls);
            using var scope = Tensors.NewDisposeScope();
            var means = batch.Flatten(1).Mean(new long[] { 1 }, keepDim: true);
            var ramp = Tensors.Arange(0, _classes).To(ScalarType.Float32).Unsqueeze(0);
            return scope.MoveToOuter(means * ramp);
        }

        public void Dispose() => Disposed = true;
    }

    private static ModelCard Card(MedMnistTask task = MedMnistTask.MultiClass, double temperature = 1) => new()
    {
        Architecture = "external",
        Preprocessing = new PreprocessingCard { InputSize = new() { 4, 4 }, Channels = 1, Mean = new() { 0f }, Std = new() { 1f } },
        ClassNames = new() { "a", "b", "c" },
        Task = task.ToString(),
        Temperature = temperature,
    };

    [Fact]
    public void PreprocessesCallsTheNetworkAndTurnsItsLogitsIntoPredictions()
    {
        var network = new RampNetwork(3);
        using (var predictor = Predictor.Create(Card(temperature: 2), network, TestTimeFlips.Horizontal))
        {
            predictor.CanExplain.Should().BeFalse();
            var white = Enumerable.Repeat((byte)255, 16).ToArray();
            var prediction = predictor.PredictPixels(white, 4, 4, 1);
            network.Calls.Should().Be(2, "the image and its horizontal flip");
            // Pixels 255 → 1.0 after scaling, normalised with mean 0 and std 1: logits (0, 1, 2), divided by the temperature 2.
            var expected = new[] { 0.0, 0.5, 1.0 }.Select(Math.Exp).ToArray();
            prediction.Probabilities.Select(p => (double)p).Should().Equal(expected.Select(e => e / expected.Sum()), (a, b) => Math.Abs(a - b) < 1e-6);
            prediction.LabelName.Should().Be("c");
            FluentActions.Invoking(() => predictor.Explain(new MedVision.Nets.Transforms.FloatImage(new float[16], 1, 4, 4))).Should().Throw<NotSupportedException>().WithMessage("*RampNetwork*");
            predictor.CanAttribute.Should().BeFalse("another engine gives no gradients");
            FluentActions.Invoking(() => predictor.Explain(new MedVision.Nets.Transforms.FloatImage(new float[16], 1, 4, 4), MedVision.Nets.Explainability.AttributionMethod.SmoothGrad))
                .Should().Throw<NotSupportedException>().WithMessage("*RampNetwork*no gradients*CanAttribute*");
        }
        network.Disposed.Should().BeTrue("the predictor owns its network");
    }

    [Fact]
    public void ANetworkWhoseLogitsDoNotFitTheCardIsAClearError()
    {
        using var predictor = Predictor.Create(Card(), new RampNetwork(4));
        FluentActions.Invoking(() => predictor.PredictPixels(new byte[16], 4, 4, 1))
            .Should().Throw<InvalidOperationException>().WithMessage("*logits of shape [1, 4]*3 classes*");
    }

    [Fact]
    public void AnInvalidCardOrFlipsAreRefused()
    {
        var card = Card();
        card.Task = "Regression";
        FluentActions.Invoking(() => Predictor.Create(card, new RampNetwork(3))).Should().Throw<ModelFormatException>().WithMessage("*unknown task 'Regression'*");
        FluentActions.Invoking(() => Predictor.Create(Card(), new RampNetwork(3), TestTimeFlips.Depth)).Should().Throw<ArgumentException>().WithMessage("*Depth flips need a 3-D model*");
    }

    [Fact]
    public void WriteCsv_WritesOneRowPerInput_WithTheColumnsThePredictionsCarry()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mv-predcsv-{Guid.NewGuid():N}", "predictions.csv");
        try
        {
            var plain = new[] { new Prediction([0.25f, 0.75f], 1, "yes", null, null), new Prediction([0.9f, 0.1f], 0, "no", null, null) };
            Prediction.WriteCsv(path, ["a.png", "b,c.png"], plain, ["no", "yes"]);
            File.ReadAllLines(path).Should().Equal("input,label,label_name,p_no,p_yes", "a.png,1,yes,0.25,0.75", "\"b,c.png\",0,no,0.9,0.1");
            // Ordinal predictions add the expected grade; predictions with conformal sets add the set (names joined by ';').
            var graded = new[] { new Prediction([0.1f, 0.6f, 0.3f], 1, "1", 1, 1.2) { ConformalSet = [1, 2], ConformalSetNames = ["1", "2"] } };
            Prediction.WriteCsv(path, ["x.png"], graded, ["0", "1", "2"]);
            File.ReadAllLines(path).Should().Equal("input,label,label_name,p_0,p_1,p_2,expected_grade,conformal_set", "x.png,1,1,0.1,0.6,0.3,1.2,1;2");
            // An ensemble's predictions add the members' agreement — of several members only: one alone always agrees.
            Prediction[] two = [new Prediction([0.2f, 0.8f], 1, "yes", null, null), new Prediction([0.6f, 0.4f], 0, "no", null, null)];
            var pair = new EnsemblePrediction(new Prediction([0.4f, 0.6f], 1, "yes", null, null), two, [0.5, 0.5]);
            Prediction.WriteCsv(path, ["e.png"], [pair], ["no", "yes"]);
            File.ReadAllLines(path).Should().Equal("input,label,label_name,p_no,p_yes,agreement", "e.png,1,yes,0.4,0.6,0.5");
            var alone = new EnsemblePrediction(two[0], [two[0]], [1.0]);
            Prediction.WriteCsv(path, ["e.png"], [alone], ["no", "yes"]);
            File.ReadAllLines(path).Should().Equal("input,label,label_name,p_no,p_yes", "e.png,1,yes,0.2,0.8");
        }
        finally
        {
            if (Directory.Exists(Path.GetDirectoryName(path))) Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
        var one = new[] { new Prediction([0.25f, 0.75f], 1, "yes", null, null) };
        FluentActions.Invoking(() => Prediction.WriteCsv(path, ["a", "b"], one, ["no", "yes"])).Should().Throw<ArgumentException>().WithMessage("2 input names for 1 predictions*");
        FluentActions.Invoking(() => Prediction.WriteCsv(path, ["a"], one, ["no", "yes", "maybe"])).Should().Throw<ArgumentException>().WithMessage("Prediction 0 has 2 probabilities; 3 class names were given*");
        File.Exists(path).Should().BeFalse();
    }
}
