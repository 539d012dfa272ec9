using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using static MedVision.Onnx.OnnxAttribute;

namespace MedVision.Onnx;

/// <summary>
/// The exporters of the transformer layers (evaluation mode, no masks) and the vision transformer: attention as ONNX
/// opset 17 has it — the packed projection as one MatMul, heads by Reshape and Transpose, Softmax, MatMul — with
/// sequence and batch sizes left dynamic (reshapes copy them with 0).
/// </summary>
internal static partial class BuiltInExports
{
    private static void RegisterAttention(OnnxExporter exporter) => exporter
        .Register<TransformerEncoderLayer>(ExportTransformerEncoderLayer)
        .Register<TransformerEncoder>(ExportTransformerEncoder)
        .Register<VisionTransformer>(ExportVisionTransformer);

    private static OnnxValue ExportTransformerEncoder(OnnxExportContext context, TransformerEncoder encoder, OnnxValue x)
    {
        foreach (var layer in encoder.Layers) x = context.Call(layer, x);
        return encoder.Norm is { } norm ? context.Call(norm, x) : x;
    }

    private static OnnxValue ExportTransformerEncoderLayer(OnnxExportContext context, TransformerEncoderLayer layer, OnnxValue x)
    {
        if (x.Rank != 3)
            throw new NotSupportedException($"{context.Describe(layer)} is exported for batched sequences ({(layer.BatchFirst ? "N, L, E" : "L, N, E")}), not for inputs of shape [{string.Join(", ", x.Shape)}].");
        // to (N, L, E)
        var t = layer.BatchFirst ? x : Permute(context, x, 1, 0, 2);
        if (layer.NormFirst)
        {
            t = context.Add(t, SelfAttention(context, layer.SelfAttention, context.Call(layer.Norm1, t)));
            t = context.Add(t, FeedForward(context, layer, context.Call(layer.Norm2, t)));
        }
        else
        {
            t = context.Call(layer.Norm1, context.Add(t, SelfAttention(context, layer.SelfAttention, t)));
            t = context.Call(layer.Norm2, context.Add(t, FeedForward(context, layer, t)));
        }
        return layer.BatchFirst ? t : Permute(context, t, 1, 0, 2);
    }

    private static OnnxValue FeedForward(OnnxExportContext context, TransformerEncoderLayer layer, OnnxValue x)
    {
        var hidden = context.Call(layer.Linear1, x);
        hidden = layer.Activation == TransformerActivation.Gelu ? Gelu(context, hidden, Functional.Gelu(hidden.Sample)) : context.Relu(hidden);
        return context.Call(layer.Linear2, hidden);
    }

    // Self-attention of (N, L, E) as MultiheadAttention computes it in evaluation mode, without masks.
    private static OnnxValue SelfAttention(OnnxExportContext context, MultiheadAttention attention, OnnxValue x)
    {
        long e = attention.EmbedDim, h = attention.NumHeads, d = attention.HeadDim;
        var weight = context.Parameter(attention, "in_proj_weight");
        var weightT = Permute(context, weight, 1, 0);
        var qkvSample = Functional.Linear(x.Sample, attention.InProjWeight, attention.InProjBias);
        var qkv = context.AddNode("MatMul", new[] { x, weightT }, attention.InProjBias is null ? qkvSample : Functional.Linear(x.Sample, attention.InProjWeight));
        if (attention.InProjBias is not null) qkv = context.AddNode("Add", new[] { qkv, context.Parameter(attention, "in_proj_bias") }, qkvSample);
        OnnxValue Third(int i, params long[] perm)
        {
            var slice = context.AddNode("Slice", new[] { qkv, context.Int64Constant("starts", i * e), context.Int64Constant("ends", (i + 1) * e), context.Int64Constant("axes", 2) },
                qkvSample.Narrow(2, i * e, e));
            var heads = context.AddNode("Reshape", new[] { slice, context.Int64Constant("heads", 0, 0, h, d) }, slice.Sample.Reshape(slice.Shape[0], slice.Shape[1], h, d));
            return Permute(context, heads, perm);
        }
        var q = Third(0, 0, 2, 1, 3);                 // (N, H, L, d)
        var kT = Third(1, 0, 2, 3, 1);                // (N, H, d, L)
        var v = Third(2, 0, 2, 1, 3);                 // (N, H, L, d)
        var scaledSample = q.Sample / Math.Sqrt(d);   // scaled before the product, as the module does
        var scaled = context.AddNode("Mul", new[] { q, context.Constant("head_scale", new[] { (float)(1 / Math.Sqrt(d)) }) }, scaledSample);
        var scoresSample = scaledSample.MatMul(kT.Sample);
        var scores = context.AddNode("MatMul", new[] { scaled, kT }, scoresSample);
        var weightsSample = scoresSample.Softmax(-1);
        var weights = context.AddNode("Softmax", new[] { scores }, weightsSample, Int("axis", -1));
        var mixed = context.AddNode("MatMul", new[] { weights, v }, weightsSample.MatMul(v.Sample));
        var joined = Permute(context, mixed, 0, 2, 1, 3);
        var flat = context.AddNode("Reshape", new[] { joined, context.Int64Constant("tokens", 0, 0, e) }, joined.Sample.Reshape(joined.Shape[0], joined.Shape[1], e));
        return context.Call(attention.OutProj, flat);
    }

    private static OnnxValue ExportVisionTransformer(OnnxExportContext context, VisionTransformer model, OnnxValue x)
    {
        long e = model.Options.HiddenSize;
        var patches = context.Call(OnnxExportContext.RequiredChild(model, "conv_proj"), x);                 // (N, E, h, w[, d])
        var flat = context.AddNode("Reshape", new[] { patches, context.Int64Constant("patch_rows", 0, 0, -1) }, patches.Sample.Flatten(2));
        var tokens = Permute(context, flat, 0, 2, 1);                                                          // (N, P, E)
        // the class token repeated over the (dynamic) batch: Expand to (N, 1, E)
        var shape = context.AddNode("Shape", new[] { tokens }, Tensors.FromArray(tokens.Shape));
        var batch = context.AddNode("Slice", new[] { shape, context.Int64Constant("starts", 0), context.Int64Constant("ends", 1) }, Tensors.FromArray(tokens.Shape[..1]));
        var target = context.AddNode("Concat", new[] { batch, context.Int64Constant("token_shape", 1, e) }, Tensors.FromArray(new[] { tokens.Shape[0], 1, e }), Int("axis", 0));
        var classToken = context.AddNode("Expand", new[] { context.Parameter(model, "class_token"), target }, model.ClassToken.Expand(tokens.Shape[0], 1, e));
        var sequence = context.Concat(new[] { classToken, tokens }, 1);
        var positioned = context.AddNode("Add", new[] { sequence, context.Parameter(model, "pos_embedding") }, sequence.Sample + model.PositionEmbedding);
        var encoded = context.Call(model.Encoder, positioned);
        var first = context.AddNode("Gather", new[] { encoded, context.Int64Constant("class_index", 0) }, encoded.Sample.Narrow(1, 0, 1), Int("axis", 1));
        var features = context.AddNode("Reshape", new[] { first, context.Int64Constant("features", 0, -1) }, first.Sample.Reshape(first.Shape[0], e));
        return context.Call(model.Head, features);
    }

    private static OnnxValue Permute(OnnxExportContext context, OnnxValue x, params long[] perm)
        => context.AddNode("Transpose", new[] { x }, x.Sample.Permute(perm).Contiguous(), Ints("perm", perm));
}
