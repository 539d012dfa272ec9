using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = MedVision.Torch.Tensor;

namespace MedVision.Onnx.Tests;

/// <summary>Graphs with several inputs and outputs: the Siamese pair, MTCSNN's two heads, and the general <see cref="OnnxExporter.ExportGraph"/>.</summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class GraphExportTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-onnx-graph-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Runs a graph on named inputs in ONNX Runtime; returns every output by name.</summary>
    private static Dictionary<string, (float[] Values, long[] Shape)> Run(byte[] model, params (string Name, Tensor Value)[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var feeds = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name,
            new DenseTensor<float>(i.Value.Contiguous().ToArray<float>(), i.Value.Shape.Select(s => (int)s).ToArray()))).ToList();
        using var results = session.Run(feeds);
        return results.ToDictionary(r => r.Name, r =>
        {
            var tensor = r.AsTensor<float>();
            return (tensor.ToArray(), tensor.Dimensions.ToArray().Select(d => (long)d).ToArray());
        });
    }

    private static void ShouldMatch((float[] Values, long[] Shape) actual, Tensor expected, string because, double tolerance = 1e-4)
    {
        actual.Shape.Should().Equal(expected.Shape, because);
        var reference = expected.Contiguous().ToArray<float>();
        double scale = Math.Max(1.0, reference.Max(v => Math.Abs((double)v)));
        for (int i = 0; i < reference.Length; i++)
            ((double)Math.Abs(reference[i] - actual.Values[i])).Should().BeLessThanOrEqualTo(tolerance * scale, because);
    }

    private static SiameseResNet SmallSiamese(EmbeddingDistance distance) => SiameseResNet.Builder()
        .WithBackbone(b => b.WithBlocks(Nets.Blocks.ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).ForInput(3).WithSmallInputStem())
        .WithDistance(distance).Build();

    [Theory]
    [InlineData(EmbeddingDistance.Euclidean, false)]
    [InlineData(EmbeddingDistance.Cosine, false)]
    [InlineData(EmbeddingDistance.Euclidean, true)]
    [InlineData(EmbeddingDistance.Cosine, true)]
    public void ASiameseNetworkExportsWithBothInputs_AndOnnxRuntimeGivesItsEmbeddingsAndDistances(EmbeddingDistance distance, bool float16)
    {
        // Seeded: the convolutions' initial weights come from the global generator, whose state otherwise depends on the
        // tests that ran before; with some of them the cosine distances of the random inputs fell below the check's 1e-3.
        Tensors.ManualSeed(5);
        using var model = SmallSiamese(distance);
        OnnxRuntimeCheck.Randomise(model);
        var bytes = new OnnxExporter().ExportSiameseToBytes(model, new long[] { 1, 3, 16, 16 }, new OnnxExportOptions { Float16 = float16 });
        OnnxRuntimeCheck.Dump(bytes, $"Siamese {distance}{(float16 ? " float16" : "")}");
        // In float16 the embeddings are outputs and also feed the distance: each is cast back to float32 once, the
        // distance computed from the float16 values; outputs agree to float16's precision.
        double tolerance = float16 ? 2e-2 : 1e-4;

        using var scope = Tensors.NewDisposeScope();
        var first = OnnxRuntimeCheck.RandomInput(new long[] { 3, 3, 16, 16 }, seed: 1);
        var second = OnnxRuntimeCheck.RandomInput(new long[] { 3, 3, 16, 16 }, seed: 2);
        model.Eval();
        SiameseOutput expected;
        using (Tensors.NoGrad()) expected = model.Call((first, second));
        var outputs = Run(bytes, (OnnxModelGraphs.FirstInput, first), (OnnxModelGraphs.SecondInput, second));

        outputs.Keys.Should().BeEquivalentTo(OnnxModelGraphs.FirstEmbedding, OnnxModelGraphs.SecondEmbedding, OnnxModelGraphs.Distance);
        ShouldMatch(outputs[OnnxModelGraphs.FirstEmbedding], expected.First, "the first branch is the shared backbone", tolerance);
        ShouldMatch(outputs[OnnxModelGraphs.SecondEmbedding], expected.Second, "the second branch is the same backbone", tolerance);
        ShouldMatch(outputs[OnnxModelGraphs.Distance], expected.Distance, $"the {distance} distance is the model's", tolerance);
        expected.Distance.ToArray<float>().Should().OnlyContain(d => d > 1e-3, "distinct inputs must give distinct embeddings, or the distance check proves nothing");

        // One set of weights serves both branches.
        using var session = new InferenceSession(bytes);
        session.InputMetadata.Keys.Should().Equal(OnnxModelGraphs.FirstInput, OnnxModelGraphs.SecondInput);
        session.InputMetadata.Values.Concat(session.OutputMetadata.Values).Should().OnlyContain(m => m.ElementDataType == TensorElementType.Float, "float16 graphs take and give float32 too");
        session.InputMetadata[OnnxModelGraphs.FirstInput].Dimensions.Should().Equal(-1, 3, 16, 16);
        session.ModelMetadata.CustomMetadataMap["medvision.example_input_shape"].Should().Be("first=1,3,16,16;second=1,3,16,16");
    }

    [Fact]
    public void ASiameseExport_ToAFile_WritesOneSetOfWeights()
    {
        using var model = SmallSiamese(EmbeddingDistance.Euclidean);
        var path = Path.Combine(_folder, "siamese.onnx");
        model.ExportOnnx(path, new long[] { 1, 3, 16, 16 });
        var single = new OnnxExporter().ExportToBytes(model.Backbone, new long[] { 1, 3, 16, 16 });
        var parameterBytes = model.Parameters().Sum(p => p.NumElements) * 4;
        new FileInfo(path).Length.Should().BeLessThan(single.Length + parameterBytes / 2, "both branches share the backbone's initializers");
        Directory.GetFiles(_folder).Should().Equal(path);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MtcsnnExportsItsLogitsAndItsDifferenceScores_AsPredictComputesThem(bool coral)
    {
        using var model = Mtcsnn.Builder().WithBackbone(b => b.WithBlocks(Nets.Blocks.ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).WithSmallInputStem()).WithClasses(5)
            .WithHead(coral ? ClassifierHead.Coral : ClassifierHead.Linear).Build();
        OnnxRuntimeCheck.Randomise(model);
        var bytes = new OnnxExporter().ExportWithScoresToBytes(model, new long[] { 1, 3, 28, 28 }, new OnnxExportOptions { InputName = "image" });
        OnnxRuntimeCheck.Dump(bytes, coral ? "MTCSNN with a CORAL head and scores" : "MTCSNN with scores");

        using var scope = Tensors.NewDisposeScope();
        var input = OnnxRuntimeCheck.RandomInput(new long[] { 4, 3, 28, 28 }, seed: 5);
        model.Eval();
        (Tensor Logits, Tensor Scores) expected;
        using (Tensors.NoGrad()) expected = model.Predict(input);
        var outputs = Run(bytes, ("image", input));
        ShouldMatch(outputs[OnnxModelGraphs.Logits], expected.Logits, "the classification head");
        ShouldMatch(outputs[OnnxModelGraphs.Scores], expected.Scores, "the difference head's scores, one per image");
        outputs[OnnxModelGraphs.Scores].Shape.Should().Equal(4);
        outputs[OnnxModelGraphs.Logits].Shape.Should().Equal(4, coral ? 4 : 5);
    }

    [Fact]
    public void TheGeneralGraphExport_TakesAnyComposition_AndChecksEachOutputAgainstItsReference()
    {
        using var model = new Sequential(new Linear(4, 3), new ReLU());
        var linear = (Linear)model[0];
        var inputs = new[] { new OnnxGraphInput("a", new long[] { 1, 4 }), new OnnxGraphInput("b", new long[] { 1, 4 }) };
        // (linear(a) + linear(b), relu(linear(a))).
        OnnxGraphDefinition graph = (context, xs) =>
        {
            var la = context.Call(linear, xs[0]);
            var sum = context.Add(la, context.Call(linear, xs[1]));
            return new[] { ("sum", sum), ("activated", context.Relu(la)) };
        };
        OnnxGraphReference reference = xs => new[] { linear.Call(xs[0]) + linear.Call(xs[1]), linear.Call(xs[0]).Relu() };
        var bytes = new OnnxExporter().ExportGraphToBytes(model, inputs, graph, reference);
        OnnxRuntimeCheck.Dump(bytes, "General graph");

        using var scope = Tensors.NewDisposeScope();
        var a = OnnxRuntimeCheck.RandomInput(new long[] { 5, 4 }, seed: 8);
        var b = OnnxRuntimeCheck.RandomInput(new long[] { 5, 4 }, seed: 9);
        var outputs = Run(bytes, ("a", a), ("b", b));
        using (Tensors.NoGrad())
        {
            ShouldMatch(outputs["sum"], linear.Call(a) + linear.Call(b), "the sum output");
            ShouldMatch(outputs["activated"], linear.Call(a).Relu(), "the activated output");
        }

        // A reference that disagrees, or counts differently, is refused with the output's name.
        OnnxGraphReference wrong = xs => new[] { linear.Call(xs[0]) - linear.Call(xs[1]), linear.Call(xs[0]).Relu() };
        FluentActions.Invoking(() => new OnnxExporter().ExportGraphToBytes(model, inputs, graph, wrong))
            .Should().Throw<InvalidOperationException>().WithMessage("*output 'sum'*differs from the model's forward*");
        OnnxGraphReference short_ = xs => new[] { linear.Call(xs[0]) };
        FluentActions.Invoking(() => new OnnxExporter().ExportGraphToBytes(model, inputs, graph, short_))
            .Should().Throw<InvalidOperationException>().WithMessage("*2 outputs but its reference computes 1*");
    }

    [Fact]
    public void BadGraphInputsAndOutputsAreRefusedByName_AndNothingIsLeftBehind()
    {
        using var model = new Linear(4, 3);
        OnnxGraphDefinition graph = (context, xs) => new[] { ("y", context.Call(model, xs[0])) };
        OnnxGraphReference reference = xs => new[] { model.Call(xs[0]) };
        var exporter = new OnnxExporter();
        Tensors.CollectUnreachable(); // garbage of earlier tests must not be finalized during the count
        long live = Tensors.LiveTensors;

        FluentActions.Invoking(() => exporter.ExportGraphToBytes(model, new[] { new OnnxGraphInput("x", new long[] { 1, 4 }), new OnnxGraphInput("x", new long[] { 1, 4 }) }, graph, reference))
            .Should().Throw<ArgumentException>().WithMessage("*distinct names*x, x*");
        FluentActions.Invoking(() => exporter.ExportGraphToBytes(model, new[] { new OnnxGraphInput("x", new long[] { 0, 4 }) }, graph, reference))
            .Should().Throw<ArgumentException>().WithMessage("*input 'x'*positive sizes*");
        FluentActions.Invoking(() => exporter.ExportGraphToBytes(model, new[] { new OnnxGraphInput(" ", new long[] { 1, 4 }) }, graph, reference))
            .Should().Throw<ArgumentException>().WithMessage("*needs a name*");
        FluentActions.Invoking(() => exporter.ExportGraphToBytes(model, Array.Empty<OnnxGraphInput>(), graph, reference))
            .Should().Throw<ArgumentException>().WithMessage("*at least one input*");
        OnnxGraphDefinition clash = (context, xs) => new[] { ("x", context.Call(model, xs[0])) };
        FluentActions.Invoking(() => exporter.ExportGraphToBytes(model, new[] { new OnnxGraphInput("x", new long[] { 1, 4 }) }, clash, reference))
            .Should().Throw<ArgumentException>().WithMessage("*distinct names other than the inputs'*");
        FluentActions.Invoking(() => exporter.ExportGraphToBytes(model, new[] { new OnnxGraphInput("x", new long[] { 1, 5 }) }, graph, reference))
            .Should().Throw<ArgumentException>("the model's own layers reject the example, as in a single-input export")
            .WithMessage("*linear: input [1, 5] against weight [3, 4]*");

        var path = Path.Combine(_folder, "bad.onnx");
        OnnxGraphReference wrong = xs => new[] { model.Call(xs[0]) * 2.0 };
        FluentActions.Invoking(() => exporter.ExportGraph(model, path, new[] { new OnnxGraphInput("x", new long[] { 1, 4 }) }, graph, wrong))
            .Should().Throw<InvalidOperationException>();
        Directory.GetFileSystemEntries(_folder).Should().BeEmpty("a refused export writes nothing");
        Tensors.LiveTensors.Should().Be(live, "the examples, samples and references of refused exports are all freed");
    }
}
