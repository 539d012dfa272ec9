using MedVision.Nets.Blocks;
using MedVision.Nets.Heads;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using static MedVision.Onnx.OnnxAttribute;

namespace MedVision.Onnx;

/// <summary>The exporters of MedVision.Nets' blocks and models.</summary>
internal static partial class BuiltInExports
{
    private static void RegisterModels(OnnxExporter exporter) => exporter
        .Register<ResNet>(ExportResNet)
        .Register<BasicBlock>(ExportResidualBlock)
        .Register<Bottleneck>(ExportResidualBlock)
        .Register<GeneratorResidualBlock>(ExportGeneratorBlock)
        .Register<Mtcsnn>((c, m, x) => c.Call(m.Head, c.Call(m.Backbone, x)))
        .Register<CoralHead>(ExportCoralHead)
        .Register<Ism>((c, m, x) => c.Call(OnnxExportContext.RequiredChild(m, "decoder"), c.Call(OnnxExportContext.RequiredChild(m, "transfer"), c.Call(OnnxExportContext.RequiredChild(m, "encoder"), x))))
        .Register<Mdm>(ExportMdm)
        .Register<Cdsf>(ExportCdsf)
        .Register<UNet>(ExportUNet);

    private static OnnxValue ExportUNet(OnnxExportContext context, UNet model, OnnxValue input)
    {
        // UNet.Forward: encoder0; (2× max pool, encoder i)…; [dropout]; (upsample i [→ 2× linear resize], concat with
        // the skip of level i − 1 first, decoder i − 1)…; head.
        int levels = model.Features.Count, dims = model.SpatialDims;
        var pool = Enumerable.Repeat(2L, dims).ToArray();
        var skips = new OnnxValue[levels];
        var x = input;
        for (int i = 0; i < levels; i++)
        {
            if (i > 0)
            {
                var pooled = dims == 2 ? Functional.MaxPool2d(x.Sample, 2, 2) : Functional.MaxPool3d(x.Sample, 2, 2);
                x = context.AddNode("MaxPool", new[] { x }, pooled, Ints("kernel_shape", pool), Ints("strides", pool));
            }
            x = skips[i] = context.Call(OnnxExportContext.RequiredChild(model, $"encoder{i}"), x);
        }
        if (OnnxExportContext.Child(model, "dropout") is { } dropout) x = context.Call(dropout, x);
        bool interpolate = model.Options.Upsampling == UNetUpsampling.Interpolation;
        for (int i = levels - 1; i >= 1; i--)
        {
            var up = context.Call(OnnxExportContext.RequiredChild(model, $"upsample{i}"), x);
            if (interpolate)
            {
                var factors = Enumerable.Repeat(2.0, dims).ToArray();
                var resized = Functional.Interpolate(up.Sample, factors, InterpolationMode.Linear);
                var scales = context.Constant("scales", new[] { 1f, 1f }.Concat(factors.Select(f => (float)f)).ToArray(), dims + 2);
                up = context.AddNode("Resize", new[] { up, context.NoInput, scales }, resized,
                    String("mode", "linear"), String("coordinate_transformation_mode", "pytorch_half_pixel"));
            }
            x = context.Call(OnnxExportContext.RequiredChild(model, $"decoder{i - 1}"), context.Concat(new[] { skips[i - 1], up }, 1));
        }
        return context.Call(OnnxExportContext.RequiredChild(model, "head"), x);
    }

    private static OnnxValue ExportResNet(OnnxExportContext context, ResNet model, OnnxValue x)
    {
        // torchvision's forward: conv1 → bn1 → relu → [maxpool] → layer1… → avgpool → flatten → [dropout] → [fc]
        foreach (var name in new[] { "conv1", "bn1", "relu", "maxpool" })
            if (OnnxExportContext.Child(model, name) is { } stem) x = context.Call(stem, x);
        for (int i = 1; OnnxExportContext.Child(model, $"layer{i}") is { } stage; i++) x = context.Call(stage, x);
        x = context.Flatten(context.Call(OnnxExportContext.RequiredChild(model, "avgpool"), x), 1);
        if (OnnxExportContext.Child(model, "dropout") is { } dropout) x = context.Call(dropout, x);
        return OnnxExportContext.Child(model, "fc") is { } fc ? context.Call(fc, x) : x;
    }

    private static OnnxValue ExportResidualBlock(OnnxExportContext context, ResidualBlock block, OnnxValue input)
    {
        // conv → bn → relu for every stage of the branch but the last (conv → bn), + shortcut, relu.
        var x = input;
        for (int i = 1; OnnxExportContext.Child(block, $"conv{i}") is { } conv; i++)
        {
            x = context.Call(OnnxExportContext.RequiredChild(block, $"bn{i}"), context.Call(conv, x));
            if (OnnxExportContext.Child(block, $"conv{i + 1}") is not null) x = context.Relu(x);
        }
        var identity = block.Downsample is { } downsample ? context.Call(downsample, input)
            : block.ChangesShape ? ZeroPaddingShortcut(context, block, input) : input;
        return context.Relu(context.Add(x, identity));
    }

    private static OnnxValue ZeroPaddingShortcut(OnnxExportContext context, ResidualBlock block, OnnxValue input)
    {
        // Every stride-th position of each spatial axis (Slice with steps), then zero channels appended (Pad at the end
        // of axis 1); both follow the input's sizes, so the graph works with dynamic spatial sizes too.
        int rank = (int)input.Sample.Dim;
        var x = input;
        if (block.Stride != 1)
        {
            var spatial = Enumerable.Range(2, rank - 2).Select(a => (long)a).ToArray();
            var strided = input.Sample;
            foreach (var axis in spatial)
            {
                var next = strided.Slice(axis, 0, strided.Size((int)axis), block.Stride);
                if (!ReferenceEquals(strided, input.Sample)) strided.Dispose();
                strided = next;
            }
            x = context.AddNode("Slice", new[]
            {
                input,
                context.Int64Constant("starts", new long[spatial.Length]),
                context.Int64Constant("ends", spatial.Select(_ => long.MaxValue).ToArray()),
                context.Int64Constant("axes", spatial),
                context.Int64Constant("steps", spatial.Select(_ => block.Stride).ToArray()),
            }, strided);
        }
        var pads = new long[2 * rank];                      // ONNX: all begins, then all ends
        pads[rank + 1] = block.OutChannels - block.InChannels;
        return context.AddNode("Pad", new[] { x, context.Int64Constant("pads", pads) }, block.Shortcut(input.Sample), String("mode", "constant"));
    }

    private static OnnxValue ExportGeneratorBlock(OnnxExportContext context, GeneratorResidualBlock block, OnnxValue input)
    {
        var x = context.Call(OnnxExportContext.RequiredChild(block, "conv1"), input);
        x = context.Relu(context.Call(OnnxExportContext.RequiredChild(block, "norm1"), x));
        x = context.Call(OnnxExportContext.RequiredChild(block, "conv2"), x);
        x = context.Call(OnnxExportContext.RequiredChild(block, "norm2"), x);
        return context.Add(input, x);
    }

    private static OnnxValue ExportCoralHead(OnnxExportContext context, CoralHead head, OnnxValue x)
    {
        // One shared score (N, 1) plus K − 1 ordered biases.
        var output = head.Call(x.Sample);
        var weight = context.Parameter(head, "weight");
        var score = context.AddNode("Gemm", new[] { x, weight }, Functional.Linear(x.Sample, weight.Sample, null), Int("transB", 1));
        return context.AddNode("Add", new[] { score, context.Parameter(head, "bias") }, output);
    }

    private static OnnxValue ExportMdm(OnnxExportContext context, Mdm model, OnnxValue x)
    {
        // features → L2-normalise over channels → flatten → L2-normalise the whole representation → classifier.
        var maps = context.Call(OnnxExportContext.RequiredChild(model, "features"), x);
        var channelNormalised = L2Normalize(context, maps);
        var features = L2Normalize(context, context.Flatten(channelNormalised, 1));
        return context.Call(OnnxExportContext.RequiredChild(model, "classifier"), features);
    }

    /// <summary>F.normalize(x, p=2, dim=1): x / max(‖x‖₂, 1e-12) along dimension 1.</summary>
    private static OnnxValue L2Normalize(OnnxExportContext context, OnnxValue x)
    {
        const double Eps = 1e-12;
        var output = Functional.Normalize(x.Sample, 2, 1, Eps);
        var normSample = x.Sample.Norm(new long[] { 1 }, keepDim: true);
        var norm = context.AddNode("ReduceL2", new[] { x }, normSample, Ints("axes", new long[] { 1 }), Int("keepdims", 1));
        var clamped = context.AddNode("Max", new[] { norm, context.Constant("eps", new[] { (float)Eps }) }, normSample.Clamp(min: Eps));
        return context.AddNode("Div", new[] { x, clamped }, output);
    }

    private static OnnxValue ExportCdsf(OnnxExportContext context, Cdsf model, OnnxValue mri)
    {
        // Diagnosis from MRI alone: the ISM synthesises PET, the MDM classifies the (MRI, PET) pair.
        var pet = context.Call(model.Synthesis, mri);
        var pair = context.Concat(new[] { mri, pet }, 1);
        return context.Call(model.Diagnosis, pair);
    }
}
