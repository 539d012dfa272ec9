using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Onnx.Tests;

/// <summary>Every exportable torch.nn layer, exported and run in ONNX Runtime, against libtorch's forward pass.</summary>
public sealed class LayerExportTests
{
    private static readonly Dictionary<string, (Func<Module<Tensor, Tensor>> Create, long[] Shape)> Cases = new()
    {
        ["Conv2d k3 s2 p1"] = (() => new Conv2d(3, 8, 3, stride: 2, padding: 1), new long[] { 1, 3, 9, 9 }),
        ["Conv2d groups+dilation, no bias"] = (() => new Conv2d(4, 6, 3, padding: 2, dilation: 2, groups: 2, bias: false), new long[] { 1, 4, 8, 8 }),
        ["Conv2d per-axis"] = (() => new Conv2d(2, 4, new long[] { 3, 1 }, stride: new long[] { 2, 1 }, padding: new long[] { 1, 0 }), new long[] { 1, 2, 7, 5 }),
        ["Conv2d reflect"] = (() => new Conv2d(2, 3, 3, padding: 1, paddingMode: PaddingMode.Reflect), new long[] { 1, 2, 6, 6 }),
        ["Conv2d replicate"] = (() => new Conv2d(2, 3, 5, padding: 2, paddingMode: PaddingMode.Replicate), new long[] { 1, 2, 6, 7 }),
        ["Conv1d"] = (() => new Conv1d(3, 5, 3, stride: 2, padding: 1), new long[] { 1, 3, 11 }),
        ["Conv3d"] = (() => new Conv3d(2, 4, 3, stride: 2, padding: 1), new long[] { 1, 2, 6, 7, 5 }),
        ["ConvTranspose2d"] = (() => new ConvTranspose2d(4, 3, 3, stride: 2, padding: 1, outputPadding: 1), new long[] { 1, 4, 5, 5 }),
        ["ConvTranspose3d"] = (() => new ConvTranspose3d(3, 2, 3, stride: 2, padding: 1, outputPadding: 1), new long[] { 1, 3, 3, 4, 3 }),
        ["Linear"] = (() => new Linear(10, 4), new long[] { 1, 10 }),
        ["Linear no bias"] = (() => new Linear(10, 4, bias: false), new long[] { 1, 10 }),
        ["Linear on (N, T, F)"] = (() => new Linear(6, 3), new long[] { 1, 5, 6 }),
        ["BatchNorm1d"] = (() => new BatchNorm1d(6), new long[] { 1, 6 }),
        ["BatchNorm2d"] = (() => new BatchNorm2d(4), new long[] { 1, 4, 5, 5 }),
        ["BatchNorm2d no affine"] = (() => new BatchNorm2d(4, affine: false), new long[] { 1, 4, 5, 5 }),
        ["BatchNorm3d"] = (() => new BatchNorm3d(3), new long[] { 1, 3, 4, 4, 4 }),
        ["InstanceNorm2d affine"] = (() => new InstanceNorm2d(4, affine: true), new long[] { 1, 4, 6, 6 }),
        ["InstanceNorm3d"] = (() => new InstanceNorm3d(3), new long[] { 1, 3, 4, 5, 4 }),
        ["InstanceNorm2d running stats"] = (() => new InstanceNorm2d(4, trackRunningStats: true), new long[] { 1, 4, 6, 6 }),
        ["GroupNorm"] = (() => new GroupNorm(2, 6), new long[] { 1, 6, 4, 5 }),
        ["GroupNorm 3D no affine"] = (() => new GroupNorm(3, 6, affine: false), new long[] { 1, 6, 3, 4, 3 }),
        ["LayerNorm"] = (() => new LayerNorm(8), new long[] { 1, 3, 8 }),
        ["LayerNorm 2 dims"] = (() => new LayerNorm(new long[] { 4, 5 }), new long[] { 1, 3, 4, 5 }),
        ["MaxPool2d"] = (() => new MaxPool2d(3, 2, 1), new long[] { 1, 3, 9, 9 }),
        ["MaxPool2d ceil"] = (() => new MaxPool2d(3, 2, ceilMode: true), new long[] { 1, 2, 8, 8 }),
        ["MaxPool2d dilation"] = (() => new MaxPool2d(2, 1, dilation: 2), new long[] { 1, 2, 7, 7 }),
        ["MaxPool1d"] = (() => new MaxPool1d(2), new long[] { 1, 3, 9 }),
        ["MaxPool3d"] = (() => new MaxPool3d(3, 2, 1), new long[] { 1, 2, 6, 6, 6 }),
        ["AvgPool2d"] = (() => new AvgPool2d(3, 2, 1), new long[] { 1, 3, 8, 8 }),
        ["AvgPool2d exclude pad"] = (() => new AvgPool2d(3, 2, 1, countIncludePad: false), new long[] { 1, 3, 8, 8 }),
        ["AvgPool2d ceil"] = (() => new AvgPool2d(2, 2, ceilMode: true), new long[] { 1, 2, 7, 7 }),
        ["AvgPool1d"] = (() => new AvgPool1d(3, 2), new long[] { 1, 2, 9 }),
        ["AvgPool3d"] = (() => new AvgPool3d(3, 2, 1), new long[] { 1, 2, 6, 6, 6 }),
        ["AdaptiveAvgPool2d 1"] = (() => new AdaptiveAvgPool2d(1), new long[] { 1, 4, 7, 5 }),
        ["AdaptiveAvgPool2d 2"] = (() => new AdaptiveAvgPool2d(2), new long[] { 1, 4, 8, 6 }),
        ["AdaptiveAvgPool3d 1"] = (() => new AdaptiveAvgPool3d(1), new long[] { 1, 3, 4, 5, 3 }),
        ["AdaptiveMaxPool2d (2, 3)"] = (() => new AdaptiveMaxPool2d(2, 3), new long[] { 1, 2, 4, 9 }),
        ["AdaptiveMaxPool3d 1"] = (() => new AdaptiveMaxPool3d(1), new long[] { 1, 3, 4, 4, 4 }),
        ["Flatten"] = (() => new Flatten(), new long[] { 1, 3, 4, 5 }),
        ["Flatten from 2"] = (() => new Flatten(2), new long[] { 1, 3, 4, 5 }),
        ["Flatten from 0"] = (() => new Flatten(0), new long[] { 1, 3, 4 }),
        ["Flatten 1..2"] = (() => new Flatten(1, 2), new long[] { 1, 3, 4, 5 }),
        ["Upsample nearest ×2"] = (() => new Upsample(2.0), new long[] { 1, 2, 4, 5 }),
        ["Upsample nearest ×1.5"] = (() => new Upsample(1.5), new long[] { 1, 2, 4, 6 }),
        ["Upsample nearest to size"] = (() => new Upsample(new long[] { 7, 9 }), new long[] { 1, 2, 4, 5 }),
        ["Upsample bilinear"] = (() => new Upsample(2.0, InterpolationMode.Linear), new long[] { 1, 2, 4, 5 }),
        ["Upsample bilinear align corners"] = (() => new Upsample(new long[] { 7, 9 }, InterpolationMode.Linear, alignCorners: true), new long[] { 1, 2, 4, 5 }),
        ["Upsample trilinear"] = (() => new Upsample(2.0, InterpolationMode.Linear), new long[] { 1, 2, 3, 4, 3 }),
        ["Upsample bicubic"] = (() => new Upsample(2.0, InterpolationMode.Bicubic), new long[] { 1, 2, 4, 5 }),
        ["ReLU"] = (() => new ReLU(), new long[] { 1, 3, 4 }),
        ["Sigmoid"] = (() => new Sigmoid(), new long[] { 1, 3, 4 }),
        ["Tanh"] = (() => new Tanh(), new long[] { 1, 3, 4 }),
        ["LeakyReLU"] = (() => new LeakyReLU(0.2), new long[] { 1, 3, 4 }),
        ["ELU"] = (() => new ELU(0.5), new long[] { 1, 3, 4 }),
        ["Softmax"] = (() => new Softmax(1), new long[] { 1, 5, 3 }),
        ["LogSoftmax"] = (() => new LogSoftmax(-1), new long[] { 1, 3, 5 }),
        ["ReLU6"] = (() => new Sequential(new Linear(4, 6), new ReLU6()), new long[] { 1, 4 }),
        ["Hardtanh"] = (() => new Hardtanh(-0.5, 1.5), new long[] { 1, 3, 4 }),
        ["SiLU"] = (() => new SiLU(), new long[] { 1, 3, 4 }),
        ["GELU"] = (() => new GELU(), new long[] { 1, 3, 4 }),
        ["Softplus"] = (() => new Softplus(2, 1.5), new long[] { 1, 3, 4 }),
        ["LogSigmoid"] = (() => new LogSigmoid(), new long[] { 1, 3, 4 }),
        ["PReLU shared"] = (() => new PReLU(), new long[] { 1, 3, 4, 4 }),
        ["PReLU per channel"] = (() => new PReLU(3, 0.1), new long[] { 1, 3, 4, 4 }),
        ["Identity and Dropout"] = (() => new Sequential(new Identity(), new Dropout2d(0.3), new Conv2d(2, 2, 1), new Flatten(), new Dropout(0.5), new Linear(18, 2)), new long[] { 1, 2, 3, 3 }),
        ["TransformerEncoderLayer post-norm ReLU (L, N, E)"] = (() => new TransformerEncoderLayer(8, 2, dimFeedforward: 16), new long[] { 1, 2, 8 }),
        ["TransformerEncoderLayer pre-norm GELU batch first"] = (() => new TransformerEncoderLayer(8, 4, dimFeedforward: 12, activation: TransformerActivation.Gelu, batchFirst: true, normFirst: true), new long[] { 1, 5, 8 }),
        ["TransformerEncoder with a final norm"] = (() => new TransformerEncoder(new TransformerEncoderLayer(8, 2, dimFeedforward: 16, batchFirst: true), 2, new LayerNorm(8)), new long[] { 1, 4, 8 }),
        ["Sequential"] = (() => new Sequential(new Conv2d(1, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 3 * 3, 3)), new long[] { 1, 1, 6, 6 }),
    };

    /// <summary>Every case in float32 and in float16 (<see cref="OnnxExportOptions.Float16"/>).</summary>
    public static TheoryData<string, bool> CasesInBothPrecisions() => OnnxRuntimeCheck.InBothPrecisions(Cases.Keys);

    [Theory]
    [MemberData(nameof(CasesInBothPrecisions))]
    public void OnnxRuntimeMatchesLibtorch(string name, bool float16)
    {
        var (create, shape) = Cases[name];
        using var module = create();
        OnnxRuntimeCheck.Randomise(module);
        // Exported for batch 1, run at batch 3: the batch dimension must be dynamic. In float16 every layer's ONNX form
        // (its constants too: Clip's bounds, GELU's and Softplus's factors, Pad's value) must still be valid ONNX that
        // ONNX Runtime runs, close to libtorch's float32 result.
        var runShape = shape.Select((s, i) => i == 0 ? 3 : s).ToArray();
        OnnxRuntimeCheck.ExportAndCompare(module, shape, runShape, tolerance: float16 ? 2e-2 : 1e-4, caseName: float16 ? name + " float16" : name,
            options: new OnnxExportOptions { Float16 = float16 });
    }

    [Fact]
    public void EveryLayerTypeOfMedVisionTorchUsedInInferenceHasAnExporter()
    {
        var exporter = new OnnxExporter();
        // Embedding looks up integer indices, and the exporter's graphs take float images and volumes: none of its
        // graphs can feed it, and exporting one is refused by name ("no exporter is registered for Embedding").
        var layers = typeof(Module).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && typeof(Module<Tensor, Tensor>).IsAssignableFrom(t) && t.Namespace == "MedVision.Torch.Nn" && t != typeof(Embedding))
            .ToList();
        layers.Should().HaveCountGreaterThan(40);
        layers.Where(t => !exporter.CanExport(t)).Select(t => t.Name).Should().BeEmpty();
    }
}
