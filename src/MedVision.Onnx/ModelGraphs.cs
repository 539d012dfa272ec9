using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using static MedVision.Onnx.OnnxAttribute;

namespace MedVision.Onnx;

/// <summary>
/// Exports of MedVision.Nets' models whose graph is more than one input to one output: a <see cref="SiameseResNet"/>
/// with both inputs, both embeddings and their distance, and an <see cref="Mtcsnn"/> with the scores of its
/// difference head beside the logits. Both are built with <see cref="OnnxExporter.ExportGraph"/> and checked against
/// the model's own forward pass like every export.
/// </summary>
public static class OnnxModelGraphs
{
    /// <summary>The Siamese graph's first input.</summary>
    public const string FirstInput = "first";

    /// <summary>The Siamese graph's second input.</summary>
    public const string SecondInput = "second";

    /// <summary>The Siamese graph's embeddings of the first input (N, E).</summary>
    public const string FirstEmbedding = "first_embedding";

    /// <summary>The Siamese graph's embeddings of the second input (N, E).</summary>
    public const string SecondEmbedding = "second_embedding";

    /// <summary>The Siamese graph's distance of each pair (N).</summary>
    public const string Distance = "distance";

    /// <summary>MTCSNN's classification logits (N, K).</summary>
    public const string Logits = "logits";

    /// <summary>MTCSNN's difference-head scores (N): the difference of two images' scores estimates their grade difference.</summary>
    public const string Scores = "scores";

    /// <summary>
    /// Exports <paramref name="model"/> with two inputs, <see cref="FirstInput"/> and <see cref="SecondInput"/> (each
    /// shaped like <paramref name="inputShape"/>, dynamic batch), and three outputs: <see cref="FirstEmbedding"/>,
    /// <see cref="SecondEmbedding"/> and <see cref="Distance"/> (Euclidean or cosine, as the model measures).
    /// </summary>
    public static byte[] ExportSiameseToBytes(this OnnxExporter exporter, SiameseResNet model, long[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        var (inputs, graph, reference) = Siamese(model, inputShape);
        return exporter.ExportGraphToBytes(model, inputs, graph, reference, options);
    }

    /// <summary>Exports the Siamese graph of <see cref="ExportSiameseToBytes"/> to a file, atomically.</summary>
    public static void ExportSiamese(this OnnxExporter exporter, SiameseResNet model, string path, long[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        var (inputs, graph, reference) = Siamese(model, inputShape);
        exporter.ExportGraph(model, path, inputs, graph, reference, options);
    }

    /// <summary>
    /// Exports <paramref name="model"/> with its input (<see cref="OnnxExportOptions.InputName"/>) and two outputs:
    /// <see cref="Logits"/> (N, K) and <see cref="Scores"/> (N), what <see cref="Mtcsnn.Predict"/> returns.
    /// </summary>
    public static byte[] ExportWithScoresToBytes(this OnnxExporter exporter, Mtcsnn model, long[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        var (inputs, graph, reference) = WithScores(model, inputShape, (options ?? new OnnxExportOptions()).InputName);
        return exporter.ExportGraphToBytes(model, inputs, graph, reference, options);
    }

    /// <summary>Exports the MTCSNN graph of <see cref="ExportWithScoresToBytes"/> to a file, atomically.</summary>
    public static void ExportWithScores(this OnnxExporter exporter, Mtcsnn model, string path, long[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        var (inputs, graph, reference) = WithScores(model, inputShape, (options ?? new OnnxExportOptions()).InputName);
        exporter.ExportGraph(model, path, inputs, graph, reference, options);
    }

    /// <summary>Exports the Siamese network (both inputs, both embeddings, their distance) with the built-in exporters.</summary>
    public static void ExportOnnx(this SiameseResNet model, string path, long[] inputShape, OnnxExportOptions? options = null)
        => new OnnxExporter().ExportSiamese(model, path, inputShape, options);

    /// <summary>Exports MTCSNN with its logits and its difference-head scores with the built-in exporters.</summary>
    public static void ExportOnnxWithScores(this Mtcsnn model, string path, long[] inputShape, OnnxExportOptions? options = null)
        => new OnnxExporter().ExportWithScores(model, path, inputShape, options);

    private static (OnnxGraphInput[], OnnxGraphDefinition, OnnxGraphReference) Siamese(SiameseResNet model, long[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        var inputs = new[] { new OnnxGraphInput(FirstInput, inputShape), new OnnxGraphInput(SecondInput, inputShape) };
        OnnxGraphDefinition graph = (context, xs) =>
        {
            var first = context.Call(model.Backbone, xs[0]);
            var second = context.Call(model.Backbone, xs[1]);
            var distance = model.Distance == EmbeddingDistance.Euclidean ? EuclideanDistance(context, first, second) : CosineDistance(context, first, second);
            return new[] { (FirstEmbedding, first), (SecondEmbedding, second), (Distance, distance) };
        };
        OnnxGraphReference reference = xs =>
        {
            var output = model.Call((xs[0], xs[1]));
            return new[] { output.First, output.Second, output.Distance };
        };
        return (inputs, graph, reference);
    }

    private static (OnnxGraphInput[], OnnxGraphDefinition, OnnxGraphReference) WithScores(Mtcsnn model, long[] inputShape, string inputName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        var inputs = new[] { new OnnxGraphInput(inputName, inputShape) };
        OnnxGraphDefinition graph = (context, xs) =>
        {
            var embedding = context.Call(model.Backbone, xs[0]);
            var logits = context.Call(model.Head, embedding);
            var score = context.Call(model.ScoreHead, embedding);
            var scores = context.AddNode("Squeeze", new[] { score, context.Int64Constant("axes", 1) }, score.Sample.Squeeze(1));
            return new[] { (Logits, logits), (Scores, scores) };
        };
        OnnxGraphReference reference = xs =>
        {
            var (logits, scores) = model.Predict(xs[0]);
            return new[] { logits, scores };
        };
        return (inputs, graph, reference);
    }

    /// <summary>torch.pairwise_distance(a, b, p=2, eps=1e-6): ‖a − b + eps‖₂ along the last dimension.</summary>
    private static OnnxValue EuclideanDistance(OnnxExportContext context, OnnxValue a, OnnxValue b)
    {
        const float Eps = 1e-6f;
        var difference = context.AddNode("Sub", new[] { a, b }, a.Sample - b.Sample);
        var shifted = context.AddNode("Add", new[] { difference, context.Constant("eps", new[] { Eps }) }, difference.Sample + Eps);
        return context.AddNode("ReduceL2", new[] { shifted }, Functional.PairwiseDistance(a.Sample, b.Sample),
            Ints("axes", new long[] { a.Rank - 1 }), Int("keepdims", 0));
    }

    /// <summary>1 − cosine similarity along dimension 1: 1 − a·b / √max(‖a‖²‖b‖², eps²), eps = 1e-8.</summary>
    private static OnnxValue CosineDistance(OnnxExportContext context, OnnxValue a, OnnxValue b)
    {
        const double Eps = 1e-8;
        var axes = context.Int64Constant("axes", 1);
        Tensor SumOver1(Tensor t) => t.Sum(new long[] { 1 });
        var dot = context.AddNode("ReduceSum", new[] { context.Mul(a, b), axes }, SumOver1(a.Sample * b.Sample), Int("keepdims", 0));
        var aa = context.AddNode("ReduceSumSquare", new[] { a }, SumOver1(a.Sample * a.Sample), Ints("axes", new long[] { 1 }), Int("keepdims", 0));
        var bb = context.AddNode("ReduceSumSquare", new[] { b }, SumOver1(b.Sample * b.Sample), Ints("axes", new long[] { 1 }), Int("keepdims", 0));
        var product = context.Mul(aa, bb);
        var clamped = context.AddNode("Max", new[] { product, context.Constant("eps_squared", new[] { (float)(Eps * Eps) }) }, product.Sample.Clamp(min: Eps * Eps));
        var norm = context.AddNode("Sqrt", new[] { clamped }, clamped.Sample.Sqrt());
        var similarity = context.AddNode("Div", new[] { dot, norm }, Functional.CosineSimilarity(a.Sample, b.Sample, 1, Eps));
        var distance = 1.0 - similarity.Sample;
        return context.AddNode("Sub", new[] { context.Constant("one", new[] { 1f }), similarity }, distance);
    }
}
