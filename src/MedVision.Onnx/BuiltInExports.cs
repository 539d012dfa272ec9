using MedVision.Torch;
using MedVision.Torch.Nn;
using static MedVision.Onnx.OnnxAttribute;

namespace MedVision.Onnx;

/// <summary>The exporters of MedVision.Torch's layers (torch.nn in evaluation mode).</summary>
internal static partial class BuiltInExports
{
    public static void RegisterAll(OnnxExporter exporter)
    {
        exporter
            .Register<Sequential>(ExportSequential)
            .Register<Identity>((_, _, x) => x)
            .Register<Dropout>((_, _, x) => x)
            .Register<ChannelDropout>((_, _, x) => x)
            .Register<Convolution>(ExportConvolution)
            .Register<TransposedConvolution>(ExportTransposedConvolution)
            .Register<Linear>(ExportLinear)
            .Register<BatchNorm>(ExportBatchNorm)
            .Register<InstanceNorm>(ExportInstanceNorm)
            .Register<GroupNorm>(ExportGroupNorm)
            .Register<LayerNorm>(ExportLayerNorm)
            .Register<Pooling>(ExportPooling)
            .Register<AdaptivePooling>(ExportAdaptivePooling)
            .Register<Flatten>(ExportFlatten)
            .Register<Upsample>(ExportUpsample)
            .Register<ReLU>((c, m, x) => c.AddNode("Relu", new[] { x }, m.Call(x.Sample)))
            .Register<Sigmoid>((c, m, x) => c.AddNode("Sigmoid", new[] { x }, m.Call(x.Sample)))
            .Register<Tanh>((c, m, x) => c.AddNode("Tanh", new[] { x }, m.Call(x.Sample)))
            .Register<LeakyReLU>((c, m, x) => c.AddNode("LeakyRelu", new[] { x }, m.Call(x.Sample), Float("alpha", m.NegativeSlope)))
            .Register<ELU>((c, m, x) => c.AddNode("Elu", new[] { x }, m.Call(x.Sample), Float("alpha", m.Alpha)))
            .Register<Softmax>((c, m, x) => c.AddNode("Softmax", new[] { x }, m.Call(x.Sample), Int("axis", m.Dim)))
            .Register<LogSoftmax>((c, m, x) => c.AddNode("LogSoftmax", new[] { x }, m.Call(x.Sample), Int("axis", m.Dim)))
            .Register<ReLU6>((c, m, x) => Clip(c, x, 0, 6, m.Call(x.Sample)))
            .Register<Hardtanh>((c, m, x) => Clip(c, x, m.MinValue, m.MaxValue, m.Call(x.Sample)))
            .Register<SiLU>((c, m, x) => c.AddNode("Mul", new[] { x, c.AddNode("Sigmoid", new[] { x }, x.Sample.Sigmoid()) }, m.Call(x.Sample)))
            .Register<GELU>(ExportGelu)
            .Register<Softplus>(ExportSoftplus)
            .Register<LogSigmoid>(ExportLogSigmoid)
            .Register<PReLU>(ExportPRelu);
        RegisterModels(exporter);
        RegisterAttention(exporter);
    }

    private static OnnxValue ExportSequential(OnnxExportContext context, Sequential sequential, OnnxValue x)
    {
        foreach (var child in sequential.Children()) x = context.Call(child, x);
        return x;
    }

    private static OnnxValue ExportConvolution(OnnxExportContext context, Convolution conv, OnnxValue x)
    {
        var output = conv.Call(x.Sample);
        var input = x;
        var padding = conv.Padding.ToArray();
        if (conv.PaddingMode != PaddingMode.Constant && padding.Any(p => p != 0))
        {
            // ONNX Conv pads with zeros only: reflect and replicate become a Pad node in front (circular would need opset 19's 'wrap').
            var mode = conv.PaddingMode switch
            {
                PaddingMode.Reflect => "reflect",
                PaddingMode.Replicate => "edge",
                _ => throw new NotSupportedException($"{context.Describe(conv)} pads circularly, which ONNX opset {OnnxExporter.OpsetVersion} cannot express (Pad's 'wrap' mode arrived in opset 19)."),
            };
            var pads = new long[] { 0, 0 }.Concat(padding).Concat(new long[] { 0, 0 }).Concat(padding).ToArray();
            var torchPad = Enumerable.Reverse(padding).SelectMany(p => new[] { p, p }).ToArray();
            var padded = Functional.Pad(x.Sample, torchPad, conv.PaddingMode);
            input = context.AddNode("Pad", new[] { x, context.Int64Constant("pads", pads) }, padded, String("mode", mode));
            padding = new long[padding.Length];
        }
        var inputs = new List<OnnxValue> { input, context.Parameter(conv, "weight") };
        if (conv.Bias is not null) inputs.Add(context.Parameter(conv, "bias"));
        return context.AddNode("Conv", inputs, output,
            Ints("kernel_shape", conv.KernelSize), Ints("strides", conv.Stride), Ints("pads", padding.Concat(padding)),
            Ints("dilations", conv.Dilation), Int("group", conv.Groups));
    }

    private static OnnxValue ExportTransposedConvolution(OnnxExportContext context, TransposedConvolution conv, OnnxValue x)
    {
        if (conv.PaddingMode != PaddingMode.Constant)
            throw new NotSupportedException($"{context.Describe(conv)}: transposed convolutions pad with zeros only.");
        var output = conv.Call(x.Sample);
        var inputs = new List<OnnxValue> { x, context.Parameter(conv, "weight") };
        if (conv.Bias is not null) inputs.Add(context.Parameter(conv, "bias"));
        return context.AddNode("ConvTranspose", inputs, output,
            Ints("kernel_shape", conv.KernelSize), Ints("strides", conv.Stride), Ints("pads", conv.Padding.Concat(conv.Padding)),
            Ints("dilations", conv.Dilation), Int("group", conv.Groups), Ints("output_padding", conv.OutputPadding));
    }

    private static OnnxValue ExportLinear(OnnxExportContext context, Linear linear, OnnxValue x)
    {
        var output = linear.Call(x.Sample);
        var weight = context.Parameter(linear, "weight");
        if (x.Rank == 2)
        {
            var inputs = new List<OnnxValue> { x, weight };
            if (linear.Bias is not null) inputs.Add(context.Parameter(linear, "bias"));
            return context.AddNode("Gemm", inputs, output, Int("transB", 1));
        }
        // (…, in) inputs: MatMul with the transposed weight, then the bias.
        var transposed = context.AddNode("Transpose", new[] { weight }, weight.Sample.T(), Ints("perm", new long[] { 1, 0 }));
        var product = context.AddNode("MatMul", new[] { x, transposed }, linear.Bias is null ? output : Functional.Linear(x.Sample, linear.Weight, null));
        return linear.Bias is null ? product : context.AddNode("Add", new[] { product, context.Parameter(linear, "bias") }, output);
    }

    private static OnnxValue ExportBatchNorm(OnnxExportContext context, BatchNorm norm, OnnxValue x)
    {
        if (!norm.TrackRunningStats)
            throw new NotSupportedException($"{context.Describe(norm)} keeps no running statistics, so in evaluation it normalises with the statistics of each batch, which an inference graph cannot reproduce.");
        return BatchNormalization(context, norm, x, norm.Call(x.Sample));
    }

    private static OnnxValue BatchNormalization(OnnxExportContext context, NormBase norm, OnnxValue x, Tensor output)
    {
        var (scale, bias) = AffineOrIdentity(context, norm, norm.Affine, norm.NumFeatures);
        return context.AddNode("BatchNormalization",
            new[] { x, scale, bias, context.Parameter(norm, "running_mean"), context.Parameter(norm, "running_var") },
            output, Float("epsilon", norm.Eps));
    }

    private static OnnxValue ExportInstanceNorm(OnnxExportContext context, InstanceNorm norm, OnnxValue x)
    {
        var output = norm.Call(x.Sample);
        // In evaluation with running statistics, instance norm normalises like batch norm does.
        if (norm.TrackRunningStats) return BatchNormalization(context, norm, x, output);
        var (scale, bias) = AffineOrIdentity(context, norm, norm.Affine, norm.NumFeatures);
        return context.AddNode("InstanceNormalization", new[] { x, scale, bias }, output, Float("epsilon", norm.Eps));
    }

    private static (OnnxValue Scale, OnnxValue Bias) AffineOrIdentity(OnnxExportContext context, Module module, bool affine, long channels)
        => affine
            ? (context.Parameter(module, "weight"), context.Parameter(module, "bias"))
            : (context.Constant("ones", Enumerable.Repeat(1f, checked((int)channels)).ToArray(), channels),
               context.Constant("zeros", new float[checked((int)channels)], channels));

    private static OnnxValue ExportGroupNorm(OnnxExportContext context, GroupNorm norm, OnnxValue x)
    {
        // (N, C, *) → (N, G, C/G·*) → instance norm over each group → back to (N, C, *) → per-channel affine.
        var output = norm.Call(x.Sample);
        var groups = norm.NumGroups;
        var grouped = context.AddNode("Reshape", new[] { x, context.Int64Constant("group_shape", 0, groups, -1) }, x.Sample.Reshape(x.Shape[0], groups, -1));
        var ones = context.Constant("ones", Enumerable.Repeat(1f, checked((int)groups)).ToArray(), groups);
        var zeros = context.Constant("zeros", new float[checked((int)groups)], groups);
        var normalizedSample = Functional.GroupNorm(x.Sample, groups, null, null, norm.Eps);
        var normalized = context.AddNode("InstanceNormalization", new[] { grouped, ones, zeros }, normalizedSample.Reshape(x.Shape[0], groups, -1), Float("epsilon", norm.Eps));
        var shape = context.AddNode("Shape", new[] { x }, Tensors.FromArray(x.Shape));
        var restored = context.AddNode("Reshape", new[] { normalized, shape }, normalizedSample);
        var weight = norm.NamedParameters(recurse: false).FirstOrDefault(p => p.Name == "weight").Parameter;
        if (weight is null) return restored;
        var broadcastShape = new[] { norm.NumChannels }.Concat(Enumerable.Repeat(1L, x.Rank - 2)).ToArray();
        var scale = Reshaped(context, context.Parameter(norm, "weight"), broadcastShape);
        var bias = Reshaped(context, context.Parameter(norm, "bias"), broadcastShape);
        var scaled = context.AddNode("Mul", new[] { restored, scale }, normalizedSample * scale.Sample);
        return context.AddNode("Add", new[] { scaled, bias }, output);
    }

    private static OnnxValue Reshaped(OnnxExportContext context, OnnxValue value, long[] shape)
        => context.AddNode("Reshape", new[] { value, context.Int64Constant("shape", shape) }, value.Sample.Reshape(shape));

    private static OnnxValue ExportLayerNorm(OnnxExportContext context, LayerNorm norm, OnnxValue x)
    {
        var output = norm.Call(x.Sample);
        var shape = norm.NormalizedShape.ToArray();
        var count = checked((int)shape.Aggregate(1L, (a, b) => a * b));
        var affine = norm.NamedParameters(recurse: false).Any();
        var scale = affine ? context.Parameter(norm, "weight") : context.Constant("ones", Enumerable.Repeat(1f, count).ToArray(), shape);
        var bias = affine ? context.Parameter(norm, "bias") : context.Constant("zeros", new float[count], shape);
        return context.AddNode("LayerNormalization", new[] { x, scale, bias }, output, Int("axis", -shape.Length), Float("epsilon", norm.Eps));
    }

    private static OnnxValue ExportPooling(OnnxExportContext context, Pooling pool, OnnxValue x)
    {
        var output = pool.Call(x.Sample);
        var pads = pool.Padding.Concat(pool.Padding);
        if (pool.IsMax)
            return context.AddNode("MaxPool", new[] { x }, output,
                Ints("kernel_shape", pool.KernelSize), Ints("strides", pool.Stride), Ints("pads", pads),
                Ints("dilations", pool.Dilation), Int("ceil_mode", pool.CeilMode ? 1 : 0));
        return context.AddNode("AveragePool", new[] { x }, output,
            Ints("kernel_shape", pool.KernelSize), Ints("strides", pool.Stride), Ints("pads", pads),
            Int("ceil_mode", pool.CeilMode ? 1 : 0), Int("count_include_pad", pool.CountIncludePad ? 1 : 0));
    }

    private static OnnxValue ExportAdaptivePooling(OnnxExportContext context, AdaptivePooling pool, OnnxValue x)
    {
        var output = pool.Call(x.Sample);
        var inputSize = x.Shape[2..];
        var outputSize = output.Shape[2..];
        if (outputSize.All(s => s == 1))
            return context.AddNode(pool.IsMax ? "GlobalMaxPool" : "GlobalAveragePool", new[] { x }, output);
        // ONNX has no adaptive pooling; when every input size is a multiple of the output size, its windows are a plain pool's.
        if (context.DynamicSpatialSize)
            throw new NotSupportedException($"{context.Describe(pool)} pools to [{string.Join(", ", outputSize)}], which ONNX can only express for the example's input size; export with fixed spatial sizes (DynamicSpatialSize off).");
        if (inputSize.Zip(outputSize).Any(p => p.First % p.Second != 0))
            throw new NotSupportedException($"{context.Describe(pool)} pools [{string.Join(", ", inputSize)}] to [{string.Join(", ", outputSize)}]: ONNX has no adaptive pooling, and only output sizes of 1 or exact divisors of the input size become a plain pool.");
        var kernel = inputSize.Zip(outputSize, (i, o) => i / o).ToArray();
        return context.AddNode(pool.IsMax ? "MaxPool" : "AveragePool", new[] { x }, output, Ints("kernel_shape", kernel), Ints("strides", kernel));
    }

    private static OnnxValue ExportFlatten(OnnxExportContext context, Flatten flatten, OnnxValue x)
    {
        var end = flatten.EndDim < 0 ? flatten.EndDim + x.Rank : flatten.EndDim;
        var start = flatten.StartDim < 0 ? flatten.StartDim + x.Rank : flatten.StartDim;
        if (end == x.Rank - 1) return context.Flatten(x, (int)start);
        if (context.DynamicSpatialSize)
            throw new NotSupportedException($"{context.Describe(flatten)} keeps dimensions after the flattened ones, whose sizes the graph would fix; export with fixed spatial sizes (DynamicSpatialSize off).");
        var output = flatten.Call(x.Sample);
        var shape = output.Shape.Select((s, i) => i == 0 ? 0 : s).ToArray();
        if (start == 0) shape[0] = -1;
        return context.AddNode("Reshape", new[] { x, context.Int64Constant("shape", shape) }, output);
    }

    private static OnnxValue ExportUpsample(OnnxExportContext context, Upsample upsample, OnnxValue x)
    {
        var output = upsample.Call(x.Sample);
        var spatial = x.Rank - 2;
        var (mode, transform) = upsample.Mode switch
        {
            // PyTorch's nearest takes floor(dst · in/out): ONNX's asymmetric transform with floor rounding.
            InterpolationMode.Nearest => ("nearest", "asymmetric"),
            InterpolationMode.Linear => ("linear", upsample.AlignCorners ? "align_corners" : "pytorch_half_pixel"),
            InterpolationMode.Bicubic => ("cubic", upsample.AlignCorners ? "align_corners" : "pytorch_half_pixel"),
            _ => throw new NotSupportedException($"{context.Describe(upsample)} uses {upsample.Mode} resampling, which ONNX Resize does not have."),
        };
        var attributes = new List<OnnxAttribute> { String("mode", mode), String("coordinate_transformation_mode", transform) };
        if (mode == "nearest") attributes.Add(String("nearest_mode", "floor"));
        if (mode == "cubic") attributes.Add(Float("cubic_coeff_a", -0.75));
        if (upsample.ScaleFactor is { } factors)
        {
            // The kernels use the scale factors themselves (not output/input), as PyTorch does when they are given.
            var perAxis = factors.Count == 1 ? Enumerable.Repeat(factors[0], spatial).ToArray() : factors.ToArray();
            var scales = context.Constant("scales", new[] { 1f, 1f }.Concat(perAxis.Select(f => (float)f)).ToArray(), spatial + 2);
            return context.AddNode("Resize", new[] { x, context.NoInput, scales }, output, attributes.ToArray());
        }
        // Sizes: the batch and channels of the input, then the fixed spatial sizes.
        var shape = context.AddNode("Shape", new[] { x }, Tensors.FromArray(x.Shape));
        var leading = context.AddNode("Slice", new[] { shape, context.Int64Constant("starts", 0), context.Int64Constant("ends", 2) }, Tensors.FromArray(x.Shape[..2]));
        var sizes = context.AddNode("Concat", new[] { leading, context.Int64Constant("spatial_sizes", output.Shape[2..]) }, Tensors.FromArray(output.Shape), Int("axis", 0));
        return context.AddNode("Resize", new[] { x, context.NoInput, context.NoInput, sizes }, output, attributes.ToArray());
    }

    private static OnnxValue Clip(OnnxExportContext context, OnnxValue x, double min, double max, Tensor output)
        => context.AddNode("Clip", new[] { x, context.Constant("min", new[] { (float)min }), context.Constant("max", new[] { (float)max }) }, output);

    private static OnnxValue ExportGelu(OnnxExportContext context, GELU gelu, OnnxValue x) => Gelu(context, x, gelu.Call(x.Sample));

    // 0.5 · x · (1 + erf(x / √2)), the exact GELU, whose value on the example input is output.
    private static OnnxValue Gelu(OnnxExportContext context, OnnxValue x, Tensor output)
    {
        var scaledSample = x.Sample / Math.Sqrt(2);
        var scaled = context.AddNode("Div", new[] { x, context.Constant("sqrt2", new[] { (float)Math.Sqrt(2) }) }, scaledSample);
        var erfSample = scaledSample.Erf();
        var erf = context.AddNode("Erf", new[] { scaled }, erfSample);
        var onePlusSample = erfSample + 1.0;
        var onePlus = context.AddNode("Add", new[] { erf, context.Constant("one", new[] { 1f }) }, onePlusSample);
        var product = context.AddNode("Mul", new[] { x, onePlus }, x.Sample * onePlusSample);
        return context.AddNode("Mul", new[] { product, context.Constant("half", new[] { 0.5f }) }, output);
    }

    private static OnnxValue ExportSoftplus(OnnxExportContext context, Softplus softplus, OnnxValue x)
    {
        // PyTorch: x where β·x > threshold, else log(1 + exp(β·x)) / β.
        var output = softplus.Call(x.Sample);
        var betaX = x.Sample * softplus.Beta;
        var scaled = context.AddNode("Mul", new[] { x, context.Constant("beta", new[] { (float)softplus.Beta }) }, betaX);
        var smooth = context.AddNode("Softplus", new[] { scaled }, Functional.Softplus(betaX, 1, double.PositiveInfinity));
        var divided = context.AddNode("Div", new[] { smooth, context.Constant("beta", new[] { (float)softplus.Beta }) }, Functional.Softplus(x.Sample, softplus.Beta, double.PositiveInfinity));
        var above = context.AddNode("Greater", new[] { scaled, context.Constant("threshold", new[] { (float)softplus.Threshold }) }, betaX.Gt(softplus.Threshold));
        return context.AddNode("Where", new[] { above, x, divided }, output);
    }

    private static OnnxValue ExportLogSigmoid(OnnxExportContext context, LogSigmoid module, OnnxValue x)
    {
        // log σ(x) = −softplus(−x)
        var output = module.Call(x.Sample);
        var negated = context.AddNode("Neg", new[] { x }, -x.Sample);
        var smooth = context.AddNode("Softplus", new[] { negated }, -output);
        return context.AddNode("Neg", new[] { smooth }, output);
    }

    private static OnnxValue ExportPRelu(OnnxExportContext context, PReLU prelu, OnnxValue x)
    {
        // ONNX PRelu broadcasts the slope from the right: one slope per channel needs the shape (C, 1, …, 1).
        var output = prelu.Call(x.Sample);
        var slope = context.Parameter(prelu, "weight");
        if (prelu.NumParameters > 1 && x.Rank > 2)
            slope = Reshaped(context, slope, new[] { prelu.NumParameters }.Concat(Enumerable.Repeat(1L, x.Rank - 2)).ToArray());
        return context.AddNode("PRelu", new[] { x, slope }, output);
    }
}
