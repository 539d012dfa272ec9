using MedVision.Nets.Blocks;
using MedVision.Nets.Heads;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Onnx.Tests;

/// <summary>MedVision.Nets' models exported and run in ONNX Runtime, against libtorch.</summary>
public sealed class ModelExportTests
{
    private static readonly Dictionary<string, (Func<Module<Tensor, Tensor>> Create, long[] Shape)> Cases = new()
    {
        ["ResNet-18 small-input stem 28×28 RGB"] = (() => ResNet.Builder().WithDepth(18).ForInput(3).WithSmallInputStem().WithClasses(5).Build(), new long[] { 1, 3, 28, 28 }),
        ["ResNet-50 ImageNet stem 64×64 with dropout"] = (() => ResNet.Builder().WithDepth(50).ForInput(3).WithImageNetStem().WithDropout(0.2).WithClasses(3).Build(), new long[] { 1, 3, 64, 64 }),
        ["ResNet-10 3D 16³"] = (() => ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1, 1, 1).ForInput(1, spatialDims: 3).WithImageNetStem().WithClasses(2).Build(), new long[] { 1, 1, 16, 16, 16 }),
        ["ResNet anisotropic 3D stem"] = (() => ResNet.Builder().WithBlocks(ResidualBlockKind.Bottleneck, 1, 1).WithWidths(8, 16).ForInput(2, spatialDims: 3).WithImageNetStem().WithStemKernel(7, 7, 3).WithStemStride(2, 2, 1).WithClasses(4).Build(), new long[] { 1, 2, 16, 16, 6 }),
        ["ResNet bottleneck, strides replaced by dilation"] = (() => ResNet.Builder().WithBlocks(ResidualBlockKind.Bottleneck, 1, 2, 2).WithWidths(4, 8, 16).ForInput(3).WithImageNetStem().ReplaceStrideWithDilation(true, true).WithClasses(3).Build(), new long[] { 1, 3, 32, 32 }),
        ["MedicalNet ResNet-18 layout (dilated, zero-padding shortcut) 20³"] = (() => MedicalNet.CreateBuilder(18).WithWidths(4, 8, 16, 32).WithClasses(2).Build(), new long[] { 1, 1, 20, 20, 20 }),
        ["ResNet-18 backbone (features only)"] = (() => ResNet.Builder().WithDepth(18).ForInput(1).WithSmallInputStem().AsBackbone().Build(), new long[] { 1, 1, 28, 28 }),
        ["MTCSNN (ResNet-18 backbone)"] = (() => Mtcsnn.Builder().WithBackbone(b => b.WithDepth(18).WithSmallInputStem()).WithClasses(5).Build(), new long[] { 1, 3, 28, 28 }),
        ["MTCSNN with a CORAL head"] = (() => Mtcsnn.Builder().WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).WithSmallInputStem()).WithClasses(5).WithCoralHead().Build(), new long[] { 1, 3, 28, 28 }),
        ["CORAL head"] = (() => new CoralHead(16, 5), new long[] { 1, 16 }),
        ["ResNet-18 with a CORAL head 28×28"] = (() => ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(3).WithSmallInputStem().WithClasses(5).WithCoralHead().Build(), new long[] { 1, 3, 28, 28 }),
        ["ISM (instance norm) 16³"] = (() => new Ism(NormalizationKind.Instance, residualBlocks: 2), new long[] { 1, 1, 16, 16, 16 }),
        ["ISM (batch norm) 8×12×16"] = (() => new Ism(NormalizationKind.Batch, residualBlocks: 1), new long[] { 1, 1, 8, 12, 16 }),
        ["MDM 33³"] = (() => new Mdm(new long[] { 33, 33, 33 }, numClasses: 3), new long[] { 1, 2, 33, 33, 33 }),
        ["CDSF 36³"] = (() => Cdsf.Builder().ForVolume(36, 36, 36).WithClasses(2).WithResidualBlocks(1).Build(), new long[] { 1, 1, 36, 36, 36 }),
        ["U-Net 2D batch norm, transposed convolutions 32×48"] = (() => UNet.Builder().ForInput(1).WithFeatures(4, 8, 16).WithDropout(0.3).WithClasses(3).Build(), new long[] { 1, 1, 32, 48 }),
        ["U-Net 2D with deep supervision heads (exported without them) 16×16"] = (() => UNet.Builder().ForInput(1).WithFeatures(4, 8, 8, 16).WithDeepSupervision(2).WithClasses(2).Build(), new long[] { 1, 1, 16, 16 }),
        ["Vision transformer 28×28, 7×7 patches"] = (() => VisionTransformer.Builder().ForInput(3).WithImageSize(28).WithPatchSize(7).WithHiddenSize(16).WithLayers(2).WithHeads(4).WithMlpDim(32).WithClasses(5).Build(), new long[] { 1, 3, 28, 28 }),
        ["Vision transformer 3D 16×16×8, 8×8×4 patches"] = (() => VisionTransformer.Builder().ForInput(1, spatialDims: 3).WithImageSize(16, 16, 8).WithPatchSize(8, 8, 4).WithHiddenSize(16).WithLayers(1).WithHeads(2).WithMlpDim(32).WithClasses(2).Build(), new long[] { 1, 1, 16, 16, 8 }),
        ["U-Net 3D instance norm, interpolation, leaky ReLU 16×8×16"] = (() => UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithInstanceNorm().WithLeakyReLU(0.1)
            .WithUpsampling(UNetUpsampling.Interpolation).WithClasses(2).Build(), new long[] { 1, 2, 16, 8, 16 }),
    };

    /// <summary>Every case in float32 and in float16 (<see cref="OnnxExportOptions.Float16"/>).</summary>
    public static TheoryData<string, bool> CasesInBothPrecisions() => OnnxRuntimeCheck.InBothPrecisions(Cases.Keys);

    [Theory]
    [MemberData(nameof(CasesInBothPrecisions))]
    public void OnnxRuntimeMatchesLibtorch(string name, bool float16)
    {
        var (create, shape) = Cases[name];
        using var model = create();
        OnnxRuntimeCheck.Randomise(model);
        var runShape = shape.Select((s, i) => i == 0 ? 2 : s).ToArray();
        // In float16 the outputs agree to float16's rounding: 2 % of the largest output allowed (0.24 % the most measured).
        var worst = OnnxRuntimeCheck.ExportAndCompare(model, shape, runShape, tolerance: float16 ? 2e-2 : 1e-4, caseName: float16 ? name + " float16" : name,
            options: new OnnxExportOptions { Float16 = float16 });
        if (!float16) return;

        // A float16 graph still takes and gives float32, says what it is, and stores its weights in half the bytes.
        var half = new OnnxExporter().ExportToBytes(model, shape, new OnnxExportOptions { Float16 = true });
        var full = new OnnxExporter().ExportToBytes(model, shape);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(half);
        session.InputMetadata["input"].ElementDataType.Should().Be(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, "the graph still takes float32");
        session.OutputMetadata["output"].ElementDataType.Should().Be(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, "and gives float32");
        session.ModelMetadata.CustomMetadataMap[OnnxExporter.PrecisionKey].Should().Be("float16");
        long weights = model.NamedParameters().Concat(model.NamedBuffers()).Where(p => p.Item2.ScalarType.IsFloatingPoint()).Sum(p => p.Item2.NumElements);
        // Half the weights' bytes fewer (the graph's nodes and int64 constants are the same; two Cast nodes more).
        ((double)(full.Length - half.Length)).Should().BeInRange(weights * 2 * 0.95 - 512, weights * 2 * 1.05 + 512, $"the float16 file stores {weights:N0} weights in 2 bytes each (float32: {full.Length:N0} bytes, float16: {half.Length:N0}; largest difference {worst:G3})");
    }

    public static TheoryData<string, long[], long[]> DynamicSizeCases() => new()
    {
        { "ResNet-18 small-input stem 28×28 RGB", new long[] { 1, 3, 28, 28 }, new long[] { 2, 3, 32, 40 } },
        { "ResNet-50 ImageNet stem 64×64 with dropout", new long[] { 1, 3, 64, 64 }, new long[] { 1, 3, 96, 80 } },
        { "ResNet-10 3D 16³", new long[] { 1, 1, 16, 16, 16 }, new long[] { 2, 1, 24, 16, 20 } },
        { "ISM (instance norm) 16³", new long[] { 1, 1, 16, 16, 16 }, new long[] { 1, 1, 8, 12, 16 } },
        { "U-Net 3D instance norm, interpolation, leaky ReLU 16×8×16", new long[] { 1, 2, 16, 8, 16 }, new long[] { 2, 2, 8, 12, 20 } },
        { "U-Net 2D batch norm, transposed convolutions 32×48", new long[] { 1, 1, 32, 48 }, new long[] { 1, 1, 16, 24 } },
        { "MedicalNet ResNet-18 layout (dilated, zero-padding shortcut) 20³", new long[] { 1, 1, 20, 20, 20 }, new long[] { 2, 1, 17, 24, 15 } },
    };

    [Theory]
    [MemberData(nameof(DynamicSizeCases))]
    public void WithDynamicSpatialSizes_OneGraphServesOtherImageSizes(string name, long[] exportShape, long[] runShape)
    {
        using var model = Cases[name].Create();
        OnnxRuntimeCheck.Randomise(model);
        OnnxRuntimeCheck.ExportAndCompare(model, exportShape, runShape, caseName: name + " dynamic size", options: new OnnxExportOptions { DynamicSpatialSize = true });
    }

    [Fact]
    public void DynamicSpatialSizes_AreDeclaredInTheGraph()
    {
        using var model = new Ism(NormalizationKind.Instance, residualBlocks: 1);
        var bytes = new OnnxExporter().ExportToBytes(model, new long[] { 1, 1, 8, 8, 8 }, new OnnxExportOptions { DynamicSpatialSize = true, OutputName = "pet" });
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        session.InputMetadata["input"].SymbolicDimensions.Should().Equal("batch", "", "depth", "height", "width");
        session.InputMetadata["input"].Dimensions.Should().Equal(-1, 1, -1, -1, -1);
        session.OutputMetadata["pet"].SymbolicDimensions.Should().Equal("batch", "", "pet_depth", "pet_height", "pet_width");
    }

    [Fact]
    public void DynamicSpatialSizes_RefuseLayersWhoseGraphWouldFixTheSize()
    {
        var options = new OnnxExportOptions { DynamicSpatialSize = true };
        using var adaptive = new Sequential(new Conv2d(1, 2, 1), new AdaptiveAvgPool2d(2));
        FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(adaptive, new long[] { 1, 1, 8, 8 }, options))
            .Should().Throw<NotSupportedException>().WithMessage("*AdaptiveAvgPool2d '1'*only express for the example's input size*");
        using var flatten = new Sequential(new Conv2d(1, 2, 1), new Flatten(1, 2));
        FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(flatten, new long[] { 1, 1, 8, 8 }, options))
            .Should().Throw<NotSupportedException>().WithMessage("*Flatten '1'*fixed spatial sizes*");
        // Global pooling stays size-free.
        using var global = new Sequential(new Conv2d(1, 2, 1), new AdaptiveMaxPool2d(1), new Flatten());
        OnnxRuntimeCheck.ExportAndCompare(global, new long[] { 1, 1, 8, 8 }, new long[] { 2, 1, 5, 7 }, options: options);
    }
}
