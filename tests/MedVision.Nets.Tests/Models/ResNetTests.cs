using MedVision.Nets.Blocks;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Models;


public class ResNetTests
{
    [Theory]
    [InlineData(18, 11_689_512L)]
    [InlineData(34, 21_797_672L)]
    [InlineData(50, 25_557_032L)]
    [InlineData(101, 44_549_160L)]
    [InlineData(152, 60_192_808L)]
    public void ParameterCount_EqualsTorchvision(int depth, long expected)
    {
        using var model = ResNet.Builder().WithDepth(depth).Build();
        model.ParameterCount().Should().Be(expected);
    }

    [Fact]
    public void StaticFactories_MatchTheBuilder()
    {
        using var r18 = ResNet.ResNet18();
        using var r50 = ResNet.ResNet50(numClasses: 2, inChannels: 1, spatialDims: 3, stem: ResNetStem.SmallInput);
        r18.ParameterCount().Should().Be(11_689_512L);
        r50.SpatialDims.Should().Be(3);
        r50.NumClasses.Should().Be(2);
        r50.FeatureCount.Should().Be(2048);
        r50.Options.Stem.Should().Be(ResNetStem.SmallInput);
    }

    [Fact]
    public void StateDictKeys_OfResNet18_AreTorchvisionsInOrder()
    {
        var expected = File.ReadAllLines(TestFixtures.PathOf("resnet18_state_dict_keys.txt")).Where(l => l.Length > 0).ToList();
        using var model = ResNet.ResNet18();
        model.StateDict().Keys.Should().Equal(expected);
        expected.Should().Contain(new[] { "conv1.weight", "bn1.running_mean", "layer1.0.bn1.num_batches_tracked", "layer2.0.downsample.0.weight", "fc.weight", "fc.bias" });
    }

    [Theory]
    [InlineData(18)]
    [InlineData(50)]
    public void FullSizeTorchvisionStateDict_LoadsStrictly(int depth)
    {
        var entries = File.ReadAllLines(TestFixtures.PathOf($"resnet{depth}_state_dict_shapes.txt"))
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' '))
            .Select(p => (Key: p[0], Shape: p.Length > 1 && p[1].Length > 0 ? p[1].Split(',').Select(long.Parse).ToArray() : Array.Empty<long>()))
            .ToList();
        using var model = ResNet.Builder().WithDepth(depth).Build();
        using var scope = Tensors.NewDisposeScope();
        var stateDict = entries.ToDictionary(
            e => e.Key,
            e => e.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? Tensors.Zeros(e.Shape, ScalarType.Int64) : Tensors.Full(e.Shape, 0.25));
        var result = model.LoadStateDict(stateDict, strict: true);
        result.IsExactMatch.Should().BeTrue();
        model.StateDict()["fc.bias"].Mean().Item().Should().Be(0.25);
    }

    [Theory]
    [InlineData(28, ResNetStem.SmallInput)]
    [InlineData(64, ResNetStem.ImageNet)]
    [InlineData(64, ResNetStem.SmallInput)]
    [InlineData(224, ResNetStem.ImageNet)]
    public void Forward2d_GivesLogitsPerImage(int size, ResNetStem stem)
    {
        using var model = ResNet.Builder().WithDepth(18).ForInput(channels: 3, spatialDims: 2).WithStem(stem).WithClasses(5).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var x = Tensors.Randn(1, 3, size, size);
        var y = model.Call(x);
        y.Shape.Should().Equal(1, 5);
        y.IsFinite().All().Item().Should().Be(1);
    }

    [Theory]
    [InlineData(28, ResNetStem.SmallInput, 18)]
    [InlineData(28, ResNetStem.ImageNet, 50)]
    [InlineData(64, ResNetStem.ImageNet, 18)]
    public void Forward3d_GivesLogitsPerVolume(int size, ResNetStem stem, int depth)
    {
        using var model = ResNet.Builder().WithDepth(depth).ForInput(channels: 1, spatialDims: 3).WithStem(stem).WithClasses(3).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var x = Tensors.Randn(1, 1, size, size, size);
        var y = model.Call(x);
        y.Shape.Should().Equal(1, 3);
    }

    [Fact]
    public void AnisotropicStem_ForThickSliceVolumes_KeepsTheSlices_AndRoundTripsThroughAModelFile()
    {
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(channels: 1, spatialDims: 3)
            .WithImageNetStem().WithStemKernel(7, 7, 3).WithStemStride(2, 2, 1).WithClasses(2).Build();
        var conv1 = model.NamedChildren().Single(c => c.Name == "conv1").Module.Should().BeAssignableTo<Convolution>().Subject;
        conv1.KernelSize.Should().Equal(7, 7, 3);
        conv1.Stride.Should().Equal(2, 2, 1);
        conv1.Padding.Should().Equal(3, 3, 1);
        conv1.Weight.Shape.Should().Equal(8, 1, 7, 7, 3);
        using var scope = Tensors.NewDisposeScope();
        model.Eval();
        using var noGrad = Tensors.NoGrad();
        // (D, H, W) = (32, 32, 8): the stem halves D and H only, so the 8 slices survive to the max-pool (8 → 4)
        var x = Tensors.Randn(2, 1, 32, 32, 8);
        model.Call(x).Shape.Should().Equal(2, 2);

        var dir = Directory.CreateTempSubdirectory("resnet-stem");
        try
        {
            var path = Path.Combine(dir.FullName, "stem.safetensors");
            var preprocessing = new MedVision.Nets.Inference.PreprocessingCard { InputSize = new() { 32, 32, 8 }, Channels = 1, Mean = new() { 0f }, Std = new() { 1f }, Resize = "linear" };
            MedVision.Nets.Inference.ModelFile.Save(path, model, MedVision.Nets.Inference.ModelFile.Describe(model, preprocessing, new[] { "a", "b" }, MedVision.Nets.Metrics.MedMnistTask.Binary));
            var (loaded, card) = MedVision.Nets.Inference.ModelFile.Load(path);
            using (loaded)
            {
                card.ResNet!.StemKernelSize.Should().Equal(7, 7, 3);
                card.ResNet.StemStride.Should().Equal(2, 2, 1);
                card.FormatVersion.Should().Be(2, "a format-1 reader would build the stem's own 7×7×7 kernel");
                loaded.Eval();
                loaded.Call(x).AllClose(model.Call(x), rtol: 0, atol: 0).Should().BeTrue();
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }

        // and the default stems keep their own sizes, with nothing extra in the card
        using var plain = ResNet.ResNet18(2, 1, 3);
        plain.Options.StemKernelSize.Should().BeNull();
        plain.NamedChildren().Single(c => c.Name == "conv1").Module.Should().BeAssignableTo<Convolution>().Which.KernelSize.Should().Equal(7, 7, 7);
    }

    [Fact]
    public void StemSizes_AreCheckedWhenSet_AndAgainstTheSpatialDimensions()
    {
        FluentActions.Invoking(() => ResNet.Builder().WithStemKernel(7, 0, 3)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("kernelSize");
        FluentActions.Invoking(() => ResNet.Builder().WithStemStride(2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("stride");
        FluentActions.Invoking(() => ResNet.Builder().ForInput(3, spatialDims: 2).WithStemKernel(7, 7, 3).Build())
            .Should().Throw<ArgumentException>().WithMessage("*2 sizes*[7, 7, 3]*");
    }

    [Theory]
    [InlineData(2, ResidualBlockKind.Basic)]
    [InlineData(2, ResidualBlockKind.Bottleneck)]
    [InlineData(3, ResidualBlockKind.Basic)]
    [InlineData(3, ResidualBlockKind.Bottleneck)]
    public void ForwardAndBackward_ReachEveryParameter(int spatialDims, ResidualBlockKind block)
    {
        using var model = ResNet.Builder().WithBlocks(block, 1, 1, 1, 1).WithBaseWidth(4).ForInput(2, spatialDims).WithSmallInputStem().WithClasses(3).Build();
        using var scope = Tensors.NewDisposeScope();
        var shape = spatialDims == 2 ? new long[] { 2, 2, 16, 16 } : new long[] { 2, 2, 8, 8, 8 };
        var x = Tensors.Randn(shape);
        var target = Tensors.FromArray(new long[] { 0, 2 });
        var loss = Functional.CrossEntropy(model.Call(x), target);
        loss.Backward();
        foreach (var (name, p) in model.NamedParameters())
        {
            using var grad = p.Grad;
            grad.Should().NotBeNull(because: $"{name} takes part in the forward pass");
        }
    }

    [Fact]
    public void FeaturesOnly_ReturnsThePooledEmbeddingAndHasNoClassifier()
    {
        using var model = ResNet.Builder().WithDepth(50).ForInput(1).WithSmallInputStem().AsBackbone().Build();
        model.Classifier.Should().BeNull();
        model.StateDict().Keys.Should().NotContain(k => k.StartsWith("fc.", StringComparison.Ordinal));
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var y = model.Call(Tensors.Randn(2, 1, 16, 16));
        y.Shape.Should().Equal(2, 2048);
        model.FeatureCount.Should().Be(2048);
    }

    [Fact]
    public void ZeroInitResidual_ZeroesTheLastNormOfEveryBranch()
    {
        using var basic = ResNet.Builder().WithDepth(18).WithZeroInitResidual().Build();
        using var bottleneck = ResNet.Builder().WithDepth(50).WithZeroInitResidual().Build();
        var sd = basic.StateDict();
        sd["layer1.0.bn2.weight"].Abs().Sum().Item().Should().Be(0);
        sd["layer1.0.bn1.weight"].Sum().Item().Should().Be(64);
        bottleneck.StateDict()["layer4.2.bn3.weight"].Abs().Sum().Item().Should().Be(0);
        bottleneck.StateDict()["layer4.2.bn2.weight"].Sum().Item().Should().Be(512);
    }

    [Fact]
    public void ConvolutionInit_IsKaimingNormalFanOut()
    {
        using var model = ResNet.ResNet18();
        using var scope = Tensors.NewDisposeScope();
        var w = model.StateDict()["layer3.0.conv2.weight"]; // 256 × 256 × 3 × 3, fan_out = 2304
        var expectedStd = Math.Sqrt(2.0 / (256 * 9));
        w.Std().Item().Should().BeApproximately(expectedStd, expectedStd * 0.02);
        w.Mean().Item().Should().BeApproximately(0, expectedStd * 0.02);
    }

    [Fact]
    public void Dropout_IsAddedBeforeTheClassifierAndOffInEval()
    {
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(4, 8).ForInput(1).WithSmallInputStem().WithClasses(2).WithDropout(0.5).Build();
        model.NamedChildren().Select(c => c.Name).Should().Equal("conv1", "bn1", "relu", "layer1", "layer2", "avgpool", "dropout", "fc");
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var x = Tensors.Randn(2, 1, 8, 8);
        model.Call(x).AllClose(model.Call(x)).Should().BeTrue();
    }

    [Theory]
    [InlineData("resnet_tiny_basic_imagenet.safetensors", ResidualBlockKind.Basic, 8, ResNetStem.ImageNet)]
    [InlineData("resnet_tiny_basic_small.safetensors", ResidualBlockKind.Basic, 8, ResNetStem.SmallInput)]
    [InlineData("resnet_tiny_bottleneck_imagenet.safetensors", ResidualBlockKind.Bottleneck, 4, ResNetStem.ImageNet)]
    public void Output_MatchesTorchvisionWithTheSameWeights(string fixture, ResidualBlockKind block, int baseWidth, ResNetStem stem)
    {
        using var tensors = SafeTensors.Load(TestFixtures.PathOf(fixture));
        using var model = ResNet.Builder().WithBlocks(block, 1, 1, 1, 1).WithBaseWidth(baseWidth).ForInput(3).WithStem(stem).WithClasses(5).Build();
        var weights = tensors.Where(kv => kv.Key is not ("input" or "expected")).ToDictionary(kv => kv.Key, kv => kv.Value);
        model.LoadStateDict(weights, strict: true);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var output = model.Call(tensors["input"]);
        var expected = tensors["expected"];
        output.Shape.Should().Equal(expected.Shape);
        var maxError = (output - expected).Abs().Max().Item();
        maxError.Should().BeLessThan(1e-4);
    }

    [Fact]
    public void ReplacingStridesWithDilation_IsTorchvisionsNetwork_AtOutputStride8()
    {
        // torchvision's _make_layer with replace_stride_with_dilation=[False, True, True], two blocks per dilated stage
        // (its first block keeps the dilation before it): make_resnet_fixture.py.
        using var tensors = SafeTensors.Load(TestFixtures.PathOf("resnet_tiny_bottleneck_dilated.safetensors"));
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Bottleneck, 1, 2, 2, 2).WithBaseWidth(4).ForInput(3).WithImageNetStem()
            .ReplaceStrideWithDilation(false, true, true).WithClasses(5).Build();
        var weights = tensors.Where(kv => kv.Key is not ("input" or "expected")).ToDictionary(kv => kv.Key, kv => kv.Value);
        model.LoadStateDict(weights, strict: true);
        model.Eval();
        using (var scope = Tensors.NewDisposeScope())
        using (var noGrad = Tensors.NoGrad())
            (model.Call(tensors["input"]) - tensors["expected"]).Abs().Max().Item().Should().BeLessThan(1e-4, "torchvision's forward pass on the same weights");

        model.Stages.Select(stage => Enumerable.Range(0, stage.Count).Select(i => ((Bottleneck)stage[i]).Dilation).ToArray()).Should().BeEquivalentTo(
            new[] { new long[] { 1 }, new long[] { 1, 1 }, new long[] { 1, 2 }, new long[] { 2, 4 } }, o => o.WithStrictOrdering());
        var summary = model.Summary(1, 3, 32, 32);
        summary.Rows.Single(r => r.Name == "layer2").OutputShape.Should().Equal(1, 32, 4, 4);
        summary.Rows.Single(r => r.Name == "layer4").OutputShape.Should().Equal(new long[] { 1, 128, 4, 4 }, "output stride 8: layer3 and layer4 keep layer2's resolution");

        // 3-D too, and the flags survive a clone and a model file's card.
        using var volume = ResNet.Builder().WithDepth(50).WithWidths(4, 8, 16, 32).ForInput(1, spatialDims: 3).ReplaceStrideWithDilation(false, false, true).WithClasses(2).Build();
        volume.Summary(1, 1, 32, 32, 32).Rows.Single(r => r.Name == "layer4").OutputShape.Should().Equal(1, 128, 2, 2, 2);
        volume.Options.ReplaceStrideWithDilation.Should().Equal(false, false, true);
    }

    [Fact]
    public void ADilatedResNet_GivesGradCamMapsOfFourTimesTheResolutionPerAxis()
    {
        Tensors.ManualSeed(5);
        using var plain = ResNet.Builder().WithBlocks(ResidualBlockKind.Bottleneck, 1, 1, 1, 1).WithWidths(4, 8, 8, 8).ForInput(3).WithImageNetStem().WithClasses(3).Build();
        using var dilated = ResNet.Builder().WithBlocks(ResidualBlockKind.Bottleneck, 1, 1, 1, 1).WithWidths(4, 8, 8, 8).ForInput(3).WithImageNetStem()
            .ReplaceStrideWithDilation(false, true, true).WithClasses(3).Build();
        plain.Eval();
        dilated.Eval();
        using var scope = Tensors.NewDisposeScope();
        var image = Tensors.Randn(1, 3, 64, 64);
        using var coarse = MedVision.Nets.Explainability.GradCam.ForResNet(plain).Compute(image, resizeToInput: false);
        using var fine = MedVision.Nets.Explainability.GradCam.ForResNet(dilated).Compute(image, resizeToInput: false);
        coarse.Maps.Shape[^2..].Should().Equal(2, 2);
        fine.Maps.Shape[^2..].Should().Equal(new long[] { 8, 8 }, "output stride 8 instead of 32");
    }

    [Fact]
    public void ReplacingStridesWithDilation_IsRefusedWhereTorchvisionRefusesIt()
    {
        var basic = () => ResNet.Builder().WithDepth(18).ReplaceStrideWithDilation(false, true, true).Build();
        basic.Should().Throw<ArgumentException>().WithMessage("*needs bottleneck blocks*").Which.ParamName.Should().Be("ReplaceStrideWithDilation");
        var count = () => ResNet.Builder().WithDepth(50).ReplaceStrideWithDilation(true, true).Build();
        count.Should().Throw<ArgumentException>().WithMessage("*one flag per stage after the first: 3, got 2*");
        // The option keeps torchvision's refusal; a dilated basic block itself exists (MedicalNet's layout uses it).
        using (var block = ResidualBlock.Create(ResidualBlockKind.Basic, 2, 8, 8, 1, dilation: 2)) block.Dilation.Should().Be(2);
        // No dilation at all is the plain network, basic blocks included.
        using var plain = ResNet.Builder().WithDepth(18).ReplaceStrideWithDilation(false, false, false).WithClasses(2).Build();
        using var reference = ResNet.Builder().WithDepth(18).WithClasses(2).Build();
        plain.ParameterCount().Should().Be(reference.ParameterCount());
    }

    [Fact]
    public void ATorchSaveCheckpointOfTorchvisionWeights_LoadsWithoutPython_AndComputesTheSame()
    {
        // resnet_tiny_basic_small.pth: {"epoch": 12, "arch": ..., "state_dict": DataParallel keys "module.*"}, written by torch.save.
        using var weights = PyTorchFile.LoadStateDict(TestFixtures.PathOf("resnet_tiny_basic_small.pth"), entry: "state_dict", removePrefix: "module.");
        using var reference = SafeTensors.Load(TestFixtures.PathOf("resnet_tiny_basic_small.safetensors"));
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1, 1, 1).WithBaseWidth(8).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
        model.LoadStateDict(weights, strict: true).IsExactMatch.Should().BeTrue();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var output = model.Call(reference["input"]);
        (output - reference["expected"]).Abs().Max().Item().Should().BeLessThan(1e-4, "torchvision's forward pass on the same weights");
        using var checkpoint = PyTorchFile.LoadStateDict(TestFixtures.PathOf("resnet_tiny_basic_small.pth"));
        checkpoint.Metadata.Should().Contain("epoch", "12").And.Contain("arch", "resnet-tiny");
    }

    [Fact]
    public void Summary_ListsTheStagesAndCountsParameters()
    {
        using var model = ResNet.Builder().WithDepth(18).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
        var summary = model.Summary(1, 3, 28, 28);
        summary.TotalParameters.Should().Be(model.ParameterCount());
        summary.Rows.Select(r => r.Name).Should().Contain(new[] { "conv1", "layer1", "layer4.1.conv2", "fc" });
        summary.Rows.Single(r => r.Name == "layer4").OutputShape.Should().Equal(1, 512, 4, 4);
    }

    [Theory]
    [InlineData("resnet18_imagenet_224", 18, ResNetStem.ImageNet, 1000, 224)]
    [InlineData("resnet50_imagenet_224", 50, ResNetStem.ImageNet, 1000, 224)]
    [InlineData("resnet18_small_28", 18, ResNetStem.SmallInput, 5, 28)]
    [InlineData("resnet50_small_28", 50, ResNetStem.SmallInput, 5, 28)]
    public void Summary_CountsMultiplyAccumulatesAsTorchvisionHooksDo(string fixture, int depth, ResNetStem stem, int classes, int size)
    {
        // Fixtures/mult_adds.json: make_mult_adds_fixture.py, forward hooks on torchvision's resnet18/resnet50.
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "mult_adds.json")));
        var expected = json.RootElement.GetProperty(fixture);
        using var model = ResNet.Builder().WithDepth(depth).ForInput(3).WithStem(stem).WithClasses(classes).Build();

        var summary = model.Summary(1, 3, size, size);

        summary.Rows.Where(r => r.TypeName == "Conv2d").Select(r => r.MultiplyAccumulates)
            .Should().Equal(expected.GetProperty("conv_macs").EnumerateArray().Select(e => e.GetInt64()), "every convolution call, in call order");
        summary.Rows.Single(r => r.TypeName == "Linear").MultiplyAccumulates.Should().Be(expected.GetProperty("linear_macs").GetInt64());
        summary.TotalMultiplyAccumulates.Should().Be(expected.GetProperty("macs").GetInt64());
        summary.Rows.Where(r => r.TypeName is not ("Conv2d" or "Linear")).Should().OnlyContain(r => r.MultiplyAccumulates == 0);
    }

    [Fact]
    public void BadOptions_FailAtOnceNamingTheOption()
    {
        var builder = ResNet.Builder();
        builder.Invoking(b => b.WithDepth(20)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("depth");
        builder.Invoking(b => b.ForInput(0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("channels");
        builder.Invoking(b => b.ForInput(1, spatialDims: 4)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("spatialDims");
        builder.Invoking(b => b.WithClasses(0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("numClasses");
        builder.Invoking(b => b.WithDropout(1.0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rate");
        builder.Invoking(b => b.WithBlocks(ResidualBlockKind.Basic, 2, 0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("blocksPerStage");
        var mismatched = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1, 1).WithWidths(8, 16);
        mismatched.Invoking(b => b.Build()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Widths");
        FluentActions.Invoking(() => new ResNet(new ResNetOptions { Layers = null! })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Layers");
        FluentActions.Invoking(() => new ResNet(new ResNetOptions { SpatialDims = 1 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("SpatialDims");
    }

    [Fact]
    public void Builder_CannotBeReusedAfterBuild()
    {
        var builder = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1).WithWidths(4).WithClasses(2);
        using var model = builder.Build();
        builder.Invoking(b => b.WithClasses(3)).Should().Throw<InvalidOperationException>();
        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void WrongInput_IsRejectedWithTheExpectedShape()
    {
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1).WithWidths(4).ForInput(1, 3).WithClasses(2).Build();
        using var x = Tensors.Zeros(1, 3, 8, 8, 8);
        model.Invoking(m => m.Call(x)).Should().Throw<ArgumentException>().WithMessage("*(N, 1, D, H, W)*");
    }
}
