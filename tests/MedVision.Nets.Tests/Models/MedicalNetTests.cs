using System.Text.Json;
using MedVision.Nets.Blocks;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Models;

/// <summary>
/// MedicalNet's 3-D ResNets against the PyTorch reference of Fixtures/make_medicalnet_fixture.py: full-size state-dict
/// keys and shapes of every depth, and the features and input gradients of three small checkpoints written as
/// MedicalNet's training writes them (legacy torch.save, "state_dict", "module." keys, conv_seg).
/// </summary>
public sealed class MedicalNetTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "medvision-medicalnet-" + Guid.NewGuid().ToString("N"));

    public MedicalNetTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(10)]
    [InlineData(18)]
    [InlineData(34)]
    [InlineData(50)]
    [InlineData(101)]
    [InlineData(152)]
    [InlineData(200)]
    public void TheNetworkOfEveryDepth_HasMedicalNetsKeysShapesAndParameterCount(int depth)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestFixtures.PathOf("medicalnet_state_dict_shapes.json")));
        var reference = json.RootElement.GetProperty(depth.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var expected = reference.GetProperty("state_dict").EnumerateArray()
            .Select(e => (Key: e[0].GetString()!, Shape: e[1].EnumerateArray().Select(d => d.GetInt64()).ToArray())).ToList();
        using var model = MedicalNet.CreateBuilder(depth).AsBackbone().Build();
        using var state = Tensors.NewDisposeScope();
        var actual = model.StateDict().Select(kv => (kv.Key, Shape: kv.Value.Shape.ToArray())).ToList();
        actual.Select(a => a.Key).Should().Equal(expected.Select(e => e.Key));
        actual.Select(a => string.Join(",", a.Shape)).Should().Equal(expected.Select(e => string.Join(",", e.Shape)));
        model.ParameterCount().Should().Be(reference.GetProperty("parameters").GetInt64());
        model.Options.Shortcut.Should().Be(reference.GetProperty("shortcut").GetString() == "A" ? ResidualShortcut.ZeroPadding : ResidualShortcut.Projection);
        MedicalNet.ShortcutOf(depth).Should().Be(model.Options.Shortcut);
    }

    [Theory]
    [InlineData("resnet10", ResidualBlockKind.Basic, ResidualShortcut.Projection, new[] { 4, 8, 16, 32 })]
    [InlineData("resnet18a", ResidualBlockKind.Basic, ResidualShortcut.ZeroPadding, new[] { 3, 6, 12, 24 })]
    [InlineData("resnet50", ResidualBlockKind.Bottleneck, ResidualShortcut.Projection, new[] { 2, 4, 8, 16 })]
    public void ACheckpoint_RebuildsItsNetwork_AndGivesPyTorchsFeaturesAndInputGradients(string name, ResidualBlockKind block, ResidualShortcut shortcut, int[] widths)
    {
        using var expected = SafeTensors.Load(TestFixtures.PathOf("medicalnet_tiny_expected.safetensors"));
        using var model = MedicalNet.CreateBackbone(TestFixtures.PathOf($"medicalnet_tiny_{name}.pth"));
        var options = model.Options;
        options.Block.Should().Be(block);
        options.Shortcut.Should().Be(shortcut);
        options.Widths.Should().Equal(widths);
        options.StageStrides.Should().Equal(1, 2, 1, 1);
        options.StageDilations.Should().Equal(1, 1, 2, 4);
        options.InChannels.Should().Be(1);
        model.Training.Should().BeFalse();

        using var scope = Tensors.NewDisposeScope();
        var input = expected[$"{name}.input"].Clone().RequiresGradInPlace();
        var features = model.Call(input);
        (features - expected[$"{name}.features"]).Abs().Max().Item().Should().BeLessThan(1e-4f);
        (features * expected[$"{name}.weights"]).Sum().Backward();
        var gradient = input.Grad!;
        var reference = expected[$"{name}.input_grad"];
        // Relative to the gradient's scale: the zero-padding shortcut (resnet18a) must pass it, as PyTorch's reference does.
        ((gradient - reference).Abs().Max().Item() / reference.Abs().Max().Item()).Should().BeLessThan(1e-4f);
    }

    [Fact]
    public void LoadStateDict_DropsTheDataParallelPrefixTheSegmentationHeadAndTheOptimizer()
    {
        // medicalnet_tiny_resnet10.pth is a checkpoint as MedicalNet's train.py saves it, optimizer state included.
        using (var whole = PyTorchFile.LoadStateDict(TestFixtures.PathOf("medicalnet_tiny_resnet10.pth")))
            whole.Keys.Should().Contain(k => k.StartsWith("optimizer.state.", StringComparison.Ordinal));
        using var weights = MedicalNet.LoadStateDict(TestFixtures.PathOf("medicalnet_tiny_resnet10.pth"));
        weights.Keys.Should().Contain(new[] { "conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "layer4.0.bn2.num_batches_tracked" });
        weights.Keys.Should().NotContain(k => k.StartsWith("module.", StringComparison.Ordinal) || k.StartsWith("state_dict.", StringComparison.Ordinal)
            || k.StartsWith("conv_seg.", StringComparison.Ordinal) || k.StartsWith("optimizer.", StringComparison.Ordinal));
        using var model = MedicalNet.CreateBuilder(10).WithWidths(4, 8, 16, 32).AsBackbone().Build();
        model.LoadStateDict(weights, strict: true).IsExactMatch.Should().BeTrue();
        // The same keys read from a plain state dict (no "state_dict" entry, no prefix).
        var plain = Path.Combine(_folder, "plain.pth");
        PyTorchFile.SaveStateDict(plain, weights.ToDictionary(kv => kv.Key, kv => kv.Value));
        using var again = MedicalNet.LoadStateDict(plain);
        again.Keys.Should().Equal(weights.Keys);
    }

    [Fact]
    public void CreateModel_LoadsTheBackbone_AndAddsANewClassifierToFineTune()
    {
        using var model = MedicalNet.CreateModel(TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth"), numClasses: 3);
        using var backbone = MedicalNet.CreateBackbone(TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth"));
        model.NumClasses.Should().Be(3);
        model.Training.Should().BeTrue();
        using var scope = Tensors.NewDisposeScope();
        model.Eval();
        var x = Tensors.Randn(2, 1, 20, 20, 20);
        model.Call(x).Shape.Should().Equal(2, 3);
        (model.ExtractFeatures(x) - backbone.Call(x)).Abs().Max().Item().Should().Be(0);
        Action zero = () => MedicalNet.CreateModel(TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth"), numClasses: 0);
        zero.Should().Throw<ArgumentOutOfRangeException>();

        // A CORAL head for four ordered grades: the backbone's features, three cumulative logits
        // w·features + b_k.
        using var coral = MedicalNet.CreateModel(TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth"), 4, inputChannels: 1, ClassifierHead.Coral);
        coral.ClassifierKind.Should().Be(ClassifierHead.Coral);
        coral.Training.Should().BeTrue();
        coral.Eval();
        var features = coral.ExtractFeatures(x);
        (features - backbone.Call(x)).Abs().Max().Item().Should().Be(0);
        var head = coral.StateDict();
        head["fc.bias"].Shape.Should().Equal(3);
        var byHand = features.MatMul(head["fc.weight"].Transpose(0, 1)) + head["fc.bias"];
        coral.Call(x).AllClose(byHand, 1e-5, 1e-6).Should().BeTrue();
        FluentActions.Invoking(() => MedicalNet.CreateModel(TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth"), 4, 1, (ClassifierHead)9))
            .Should().Throw<ArgumentException>().WithMessage("*Unknown classifier head*");
    }

    [Fact]
    public void ForSeveralModalities_TheOneChannelStemIsAdapted_AndOneVolumeInEveryChannelGivesTheFilesFeatures()
    {
        var file = TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth");
        using var backbone = MedicalNet.CreateBackbone(file);
        using var four = MedicalNet.CreateBackbone(file, inputChannels: 4);
        using var model = MedicalNet.CreateModel(file, numClasses: 2, inputChannels: 4);
        using var one = MedicalNet.CreateModel(file, numClasses: 2, inputChannels: 1);
        using var weights = MedicalNet.LoadStateDict(file);
        four.Options.InChannels.Should().Be(4);
        model.Options.InChannels.Should().Be(4);
        model.Training.Should().BeTrue();
        one.Options.InChannels.Should().Be(1);
        using var scope = Tensors.NewDisposeScope();
        // Every tensor but the stem is the file's, and the stem is its kernels over 4.
        var state = four.StateDict();
        foreach (var (key, tensor) in weights)
            state[key].AllClose(key == "conv1.weight" ? tensor.Repeat(1, 4, 1, 1, 1) / 4 : tensor, 0, 0).Should().BeTrue(key);
        var x = Tensors.Randn(2, 1, 20, 20, 20);
        var repeated = Tensors.Cat([x, x, x, x], 1);
        four.Call(repeated).AllClose(backbone.Call(x), 1e-4, 1e-5).Should().BeTrue("one volume in each channel gets the pretrained features");
        model.Eval();
        (model.ExtractFeatures(repeated) - four.Call(repeated)).Abs().Max().Item().Should().Be(0);
        one.Eval();
        (one.ExtractFeatures(x) - backbone.Call(x)).Abs().Max().Item().Should().Be(0);

        FluentActions.Invoking(() => MedicalNet.CreateModel(file, 2, inputChannels: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("inputChannels");
        FluentActions.Invoking(() => MedicalNet.CreateBackbone(file, inputChannels: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("inputChannels");
        // A stem of two channels (a checkpoint trained on two modalities) is not adapted to another count.
        var two = Path.Combine(_folder, "two.pth");
        weights.Replace("conv1.weight", Tensors.Cat([weights["conv1.weight"], weights["conv1.weight"]], 1));
        PyTorchFile.SaveStateDict(two, weights.ToDictionary(kv => kv.Key, kv => kv.Value));
        using (var same = MedicalNet.CreateBackbone(two, inputChannels: 2)) same.Options.InChannels.Should().Be(2);
        FluentActions.Invoking(() => MedicalNet.CreateBackbone(two, inputChannels: 3)).Should().Throw<InvalidDataException>()
            .WithMessage("*two.pth*conv1.weight has 2 input channels*one-channel (or RGB) stem*3*");
    }

    [Fact]
    public void FilesThatAreNotMedicalNetResNets_AreRefusedByName()
    {
        // A torchvision 2-D ResNet checkpoint: its stem is 4-dimensional.
        var torchvision = TestFixtures.PathOf("resnet_tiny_basic_small.pth");
        Action twoD = () => MedicalNet.LoadStateDict(torchvision);
        twoD.Should().Throw<InvalidDataException>().WithMessage($"*{torchvision}*no MedicalNet 3-D ResNet*conv1.weight*");
        Action missing = () => MedicalNet.CreateModel(Path.Combine(_folder, "absent.pth"), 2);
        missing.Should().Throw<FileNotFoundException>();

        // A network without layer3 (blocks [1, 1, 0, 1] as the keys say).
        var odd = Path.Combine(_folder, "odd.pth");
        using (var weights = MedicalNet.LoadStateDict(TestFixtures.PathOf("medicalnet_tiny_resnet10.pth")))
            PyTorchFile.SaveStateDict(odd, weights.Where(kv => !kv.Key.StartsWith("layer3.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value));
        Action noStage = () => MedicalNet.CreateBackbone(odd);
        noStage.Should().Throw<InvalidDataException>().WithMessage("*no block in layer3*[1, 1, 0, 1]*");

        // A tensor of the right name with the wrong shape: named by the mismatch.
        var damaged = Path.Combine(_folder, "damaged.pth");
        using (var weights = MedicalNet.LoadStateDict(TestFixtures.PathOf("medicalnet_tiny_resnet10.pth")))
        using (var scope = Tensors.NewDisposeScope())
        {
            var tensors = weights.ToDictionary(kv => kv.Key, kv => kv.Value);
            tensors["layer3.0.conv2.weight"] = Tensors.Zeros(16, 16, 3, 3, 1);
            PyTorchFile.SaveStateDict(damaged, tensors);
        }
        Action mismatch = () => MedicalNet.CreateModel(damaged, 2);
        mismatch.Should().Throw<StateDictMismatchException>().WithMessage("*layer3.0.conv2.weight*");
    }

    [Fact]
    public void Depths_OutsideMedicalNets_AreRefused()
    {
        MedicalNet.Depths.Should().Equal(10, 18, 34, 50, 101, 152, 200);
        Action builder = () => MedicalNet.CreateBuilder(26);
        builder.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*10, 18, 34, 50, 101, 152 or 200*");
        Action shortcut = () => MedicalNet.ShortcutOf(152 + 1);
        shortcut.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void TheZeroPaddingShortcut_KeepsEveryStrideThVoxel_AndAppendsZeroChannels()
    {
        using var block = new BasicBlock(3, 4, 8, stride: 2, dilation: 1, ResidualShortcut.ZeroPadding);
        block.Downsample.Should().BeNull();
        block.ParameterCount().Should().Be(4 * 8 * 27 + 8 * 8 * 27 + 4 * 8);   // two convolutions and two BNs, no projection
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(2, 4, 5, 6, 7);
        var shortcut = block.Shortcut(x);
        shortcut.Shape.Should().Equal(2, 8, 3, 3, 4);
        (shortcut.Narrow(1, 0, 4) - x.Slice(2, 0, 5, 2).Slice(3, 0, 6, 2).Slice(4, 0, 7, 2)).Abs().Max().Item().Should().Be(0);
        shortcut.Narrow(1, 4, 4).Abs().Max().Item().Should().Be(0);
        block.Call(x).Shape.Should().Equal(2, 8, 3, 3, 4);

        Action shrinking = () => _ = new BasicBlock(3, 8, 4, 1, 1, ResidualShortcut.ZeroPadding);
        shrinking.Should().Throw<ArgumentException>().WithMessage("*only add channels*8 input channels, 4 output channels*");
    }

    [Fact]
    public void DilatedBasicBlocks_KeepTheResolution_AndDilateBothConvolutions()
    {
        using var block = new BasicBlock(3, 8, 8, stride: 1, dilation: 2);
        block.Dilation.Should().Be(2);
        using var scope = Tensors.NewDisposeScope();
        block.Call(Tensors.Randn(1, 8, 5, 5, 5)).Shape.Should().Equal(1, 8, 5, 5, 5);
        block.NamedModules().Select(m => m.Module).OfType<Convolution>().Select(c => c.Dilation.ToArray()).Should().AllBeEquivalentTo(new long[] { 2, 2, 2 });

        // MedicalNet's layout: every block of layer3 and layer4 dilated (the first included), output stride 8.
        using var model = MedicalNet.CreateBuilder(18).WithWidths(4, 8, 16, 32).AsBackbone().Build();
        model.Stages.Select(stage => Enumerable.Range(0, stage.Count).Select(i => (ResidualBlock)stage[i]).Select(b => (b.Stride, b.Dilation)).ToArray()).Should().BeEquivalentTo(new[]
        {
            new[] { (1L, 1L), (1L, 1L) }, new[] { (2L, 1L), (1L, 1L) }, new[] { (1L, 2L), (1L, 2L) }, new[] { (1L, 4L), (1L, 4L) },
        }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void StageStridesDilationsAndShortcuts_AreChecked_WhenSetAndWhenBuilt()
    {
        Action zeroStride = () => ResNet.Builder().WithStageStrides(1, 0, 1, 1);
        zeroStride.Should().Throw<ArgumentException>().WithMessage("*one stride from 1 to 4 per stage*[1, 0, 1, 1]*");
        Action hugeDilation = () => ResNet.Builder().WithStageDilations(1, 1, 2, 32);
        hugeDilation.Should().Throw<ArgumentException>().WithMessage("*one dilation from 1 to 16 per stage*");
        Action count = () => ResNet.Builder().WithDepth(18).WithStageStrides(1, 2, 2).Build();
        count.Should().Throw<ArgumentException>().WithMessage("*stage strides need 4 strides*[1, 2, 2]*");
        Action both = () => ResNet.Builder().WithDepth(50).ReplaceStrideWithDilation(false, true, true).WithStageDilations(1, 1, 2, 4).Build();
        both.Should().Throw<ArgumentException>().WithMessage("*either replace_stride_with_dilation or stage strides and dilations*");
        Action shrinking = () => ResNet.Builder().WithDepth(18).WithWidths(8, 16, 8, 32).WithShortcut(ResidualShortcut.ZeroPadding).Build();
        shrinking.Should().Throw<ArgumentException>().WithMessage("*zero-padding shortcut can only add channels*layer3 goes from 16 to 8*");
        Action unknown = () => ResNet.Builder().WithShortcut((ResidualShortcut)7);
        unknown.Should().Throw<ArgumentException>();

        var builder = ResNet.Builder().WithDepth(18);
        using (builder.Build()) { }
        Action reused = () => builder.ReplaceStrideWithDilation(false, false, true);
        reused.Should().Throw<InvalidOperationException>();

        // The depths MONAI and MedicalNet add to torchvision's, through the ordinary builder.
        using var r10 = ResNet.Builder().WithDepth(10).Build();
        r10.Options.Layers.Should().Equal(1, 1, 1, 1);
        ResNetOptions.StandardDepth(200).Layers.Should().Equal(3, 24, 36, 3);
        Action depth = () => ResNet.Builder().WithDepth(12);
        depth.Should().Throw<ArgumentException>().WithMessage("*10, 18, 34, 50, 101, 152 or 200*");
    }
}
