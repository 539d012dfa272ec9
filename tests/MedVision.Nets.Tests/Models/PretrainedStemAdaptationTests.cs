using System.Security.Cryptography;
using MedVision.Nets.Data.Download;
using MedVision.Nets.Models;
using MedVision.Nets.Tests.Data;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Nets.Tests.Models;

/// <summary>
/// Pretrained RGB weights for grey (or multi-channel) inputs: <see cref="PretrainedWeights.AdaptInputChannels"/> adapts a
/// stem's kernels as timm's <c>adapt_input_conv</c>, and <c>ForInputChannels</c> makes the weights load (and their
/// network build) for that many channels — a grey image then gets exactly what the RGB network gave it repeated in R,
/// G and B.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class PretrainedStemAdaptationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-stem-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Tensor Values(params long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        return (Tensors.Arange(0, n, 1, ScalarType.Float32) * 0.37).Sin().Reshape(shape);
    }

    private static Tensor Repeated(Tensor grey, int times) => Tensors.Cat(Enumerable.Repeat(grey, times).ToArray(), 1);

    [Fact]
    public void AdaptInputChannels_RepeatsOneChannelKernelsOverTheChannels_ScaledByTheirCount()
    {
        using var scope = Tensors.NewDisposeScope();
        var w = Values(4, 1, 3, 5, 5); // a one-channel 3-D stem, as MedicalNet's
        var volume = Values(2, 1, 6, 8, 8).Cos();
        foreach (int c in new[] { 2, 3, 4 })
        {
            var adapted = PretrainedWeights.AdaptInputChannels(w, c);
            adapted.Shape.Should().Equal(4, c, 3, 5, 5);
            for (int i = 0; i < c; i++) adapted.Select(1, i).AllClose(w.Select(1, 0) / c, 1e-6, 0).Should().BeTrue($"channel {i} of {c}");
            F.Conv3d(Repeated(volume, c), adapted).AllClose(F.Conv3d(volume, w), 1e-5, 1e-5).Should().BeTrue($"one volume in each of {c} channels gets the one-channel response");
            // Different modalities: the response to their mean.
            var modalities = Tensors.Cat(Enumerable.Range(0, c).Select(i => volume * (i + 1.0)).ToArray(), 1);
            F.Conv3d(modalities, adapted).AllClose(F.Conv3d(volume * ((c + 1) / 2.0), w), 1e-4, 1e-5).Should().BeTrue($"the mean of {c} channels");
        }
        var same = PretrainedWeights.AdaptInputChannels(w, 1);
        same.AllClose(w, 0, 0).Should().BeTrue();
        same.AddInPlace(1);
        w.AllClose(Values(4, 1, 3, 5, 5), 0, 0).Should().BeTrue("one channel to one: a copy");
    }

    [Fact]
    public void AdaptInputChannels_SumsRgbForOneChannel_CyclesAndScalesForOthers_AsTimm()
    {
        using var scope = Tensors.NewDisposeScope();
        var w = Values(8, 3, 5, 5);
        var grey = Values(2, 1, 9, 9).Cos();

        var one = PretrainedWeights.AdaptInputChannels(w, 1);
        one.Shape.Should().Equal(8, 1, 5, 5);
        one.AllClose(w.Sum([1L], keepDim: true), 0, 0).Should().BeTrue("the kernels summed over R, G and B");
        F.Conv2d(grey, one).AllClose(F.Conv2d(Repeated(grey, 3), w), 1e-5, 1e-5).Should().BeTrue("a grey image gets what the RGB layer gave it in three channels");

        // timm: repeat the RGB kernels, keep the first C, scale by 3 / C
        var two = PretrainedWeights.AdaptInputChannels(w, 2);
        two.Shape.Should().Equal(8, 2, 5, 5);
        two.Select(1, 0).AllClose(w.Select(1, 0) * 1.5, 0, 0).Should().BeTrue();
        two.Select(1, 1).AllClose(w.Select(1, 1) * 1.5, 0, 0).Should().BeTrue();
        var six = PretrainedWeights.AdaptInputChannels(w, 6);
        for (int c = 0; c < 6; c++) six.Select(1, c).AllClose(w.Select(1, c % 3) * 0.5, 0, 0).Should().BeTrue($"channel {c}");
        F.Conv2d(Repeated(grey, 6), six).AllClose(F.Conv2d(Repeated(grey, 3), w), 1e-5, 1e-5).Should().BeTrue("a multiple of 3: the same response to grey in every channel");

        var three = PretrainedWeights.AdaptInputChannels(w, 3);
        three.AllClose(w, 0, 0).Should().BeTrue();
        three.AddInPlace(1);
        w.AllClose(Values(8, 3, 5, 5), 0, 0).Should().BeTrue("the result is a copy: the source is not changed");

        // 3-D stems (R3D-18's 3×7×7 kernels) too
        var w3 = Values(4, 3, 3, 7, 7);
        var volume = Values(1, 1, 5, 9, 9);
        F.Conv3d(volume, PretrainedWeights.AdaptInputChannels(w3, 1)).AllClose(F.Conv3d(Repeated(volume, 3), w3), 1e-5, 1e-5).Should().BeTrue();

        FluentActions.Invoking(() => PretrainedWeights.AdaptInputChannels(Values(8, 2, 3, 3), 3)).Should().Throw<ArgumentException>()
            .WithMessage("*(out, 3, k…)*(out, 1, k…)*got [8, 2, 3, 3]*").Which.ParamName.Should().Be("weight");
        FluentActions.Invoking(() => PretrainedWeights.AdaptInputChannels(Values(8, 3), 1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("weight");
        FluentActions.Invoking(() => PretrainedWeights.AdaptInputChannels(w, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("channels");
        FluentActions.Invoking(() => PretrainedWeights.AdaptInputChannels(null!, 1)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void InputStatistics_AreRgbsForThree_TheirMeansForOne_AndCycledForMore()
    {
        var rgb = PretrainedWeights.ResNet50ImageNet1KV2;
        rgb.InputMean.Should().Equal(rgb.Mean);
        rgb.InputStd.Should().Equal(rgb.Std);
        var grey = rgb.ForInputChannels(1);
        grey.InputMean.Should().ContainSingle().Which.Should().BeApproximately(0.449f, 5e-4f, "ImageNet's grey mean, (0.485 + 0.456 + 0.406) / 3");
        grey.InputStd.Should().ContainSingle().Which.Should().BeApproximately(0.226f, 5e-4f, "(0.229 + 0.224 + 0.225) / 3");
        grey.Mean.Should().Equal(rgb.Mean, "the weights' own statistics stay RGB");
        rgb.ForInputChannels(4).InputMean.Should().Equal(rgb.Mean[0], rgb.Mean[1], rgb.Mean[2], rgb.Mean[0]);
        grey.ForInputChannels(3).InputStd.Should().Equal(rgb.Std, "back to RGB");
        // Kinetics-400's for the video network; statistics of another count are left as given.
        var video = PretrainedWeights.R3D18Kinetics400V1.ForInputChannels(1);
        video.InputMean.Single().Should().BeApproximately((0.43216f + 0.394666f + 0.37645f) / 3, 1e-6f);
        (rgb with { Mean = new[] { 0.5f } }).ForInputChannels(1).InputMean.Should().Equal(0.5f);
        var vit = PretrainedVisionTransformerWeights.VitB16ImageNet1KV1.ForInputChannels(1);
        vit.InputMean.Single().Should().BeApproximately(0.449f, 5e-4f);
        vit.InputStd.Single().Should().BeApproximately(0.226f, 5e-4f);
        PretrainedVisionTransformerWeights.VitB32ImageNet1KV1.InputStd.Should().Equal(PretrainedVisionTransformerWeights.VitB32ImageNet1KV1.Std);
    }

    [Fact]
    public async Task ResNetWeights_ForOneChannel_LoadIntoAGreyNetwork_ThatAnswersAsTheRgbOneOnRepeatedGrey()
    {
        // A ResNet-18 (ImageNet stem, 1000 classes) written as torch.save writes it, standing in for torchvision's file.
        using var original = ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(1000).Build();
        original.Eval();
        var file = Path.Combine(_folder, "source.pth");
        PyTorchFile.SaveStateDict(file, original.StateDict());
        var prefix = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))[..8].ToLowerInvariant();
        var mirrored = PretrainedWeights.ResNet18ImageNet1KV1 with { Source = new Uri(file), Checksum = FileChecksum.Sha256(prefix) };
        var cache = Path.Combine(_folder, "cache");

        var grey = mirrored.ForInputChannels(1);
        grey.InputChannels.Should().Be(1);
        mirrored.InputChannels.Should().Be(3, "ForInputChannels returns new weights; the table's stay RGB");
        grey.ToString().Should().EndWith(", for 1 input channel(s))");
        using (var weights = await grey.LoadStateDictAsync(cache))
        using (var scope = Tensors.NewDisposeScope())
        {
            weights["conv1.weight"].Shape.Should().Equal(64, 1, 7, 7);
            weights["conv1.weight"].AllClose(original.StateDict()["conv1.weight"].Sum([1L], keepDim: true), 0, 0).Should().BeTrue();
            weights["layer1.0.conv1.weight"].AllClose(original.StateDict()["layer1.0.conv1.weight"], 0, 0).Should().BeTrue("only the stem changes");
            // Transfer learning to two classes: only the classifier is left out, the stem fits.
            using var two = grey.CreateBuilder().WithClasses(2).Build();
            two.LoadStateDict(weights, strict: false).ShapeMismatches.Select(m => m[..m.IndexOf(':')]).Should().BeEquivalentTo("fc.weight", "fc.bias");
        }
        using (var model = await grey.CreateModelAsync(cache))
        using (var scope = Tensors.NewDisposeScope())
        using (Tensors.NoGrad())
        {
            var image = Values(2, 1, 64, 64);
            model.Call(image).AllClose(original.Call(Repeated(image, 3)), 1e-4, 1e-4).Should().BeTrue("the grey network is the RGB one on the grey image repeated");
        }
        // Four channels (e.g. four MRI contrasts): the stem is (64, 4, 7, 7), everything else as trained.
        using (var weights = await mirrored.ForInputChannels(4).LoadStateDictAsync(cache))
            weights["conv1.weight"].Shape.Should().Equal(64, 4, 7, 7);

        FluentActions.Invoking(() => mirrored.ForInputChannels(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("channels");
        FluentActions.Invoking(() => mirrored with { InputChannels = -1 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("InputChannels");
        // A file without an RGB stem cannot be adapted: the file is named, nothing is left open.
        var noStem = Path.Combine(_folder, "nostem.pth");
        using (var scope = Tensors.NewDisposeScope())
            PyTorchFile.SaveStateDict(noStem, original.StateDict().Where(kv => kv.Key != "conv1.weight").ToDictionary(kv => kv.Key, kv => kv.Value));
        var noStemPrefix = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(noStem)))[..8].ToLowerInvariant();
        var broken = grey with { Source = new Uri(noStem), Checksum = FileChecksum.Sha256(noStemPrefix) };
        (await FluentActions.Awaiting(() => broken.LoadStateDictAsync(Path.Combine(_folder, "c2"))).Should().ThrowAsync<PyTorchFormatException>())
            .WithMessage("*has no RGB stem 'conv1.weight'*1 input channel(s)*ResNet18_Weights.IMAGENET1K_V1*");
    }

    [Fact]
    public async Task VisionTransformerWeights_ForOneChannel_AdaptThePatchProjection()
    {
        // torchvision's VisionTransformer(28, patch 7, 2 layers, 2 heads, E 16, MLP 32, 5 classes) as in
        // PretrainedVisionTransformerWeightsTests, served from a file.
        using var reference = SafeTensors.Load(TestFixtures.PathOf("vit_reference.safetensors"));
        var source = Path.Combine(_folder, "vit.pth");
        PyTorchFile.SaveStateDict(source, reference.Where(kv => kv.Key.StartsWith("state.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[6..], kv => kv.Value));
        var prefix = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(source)))[..8].ToLowerInvariant();
        var mirrored = PretrainedVisionTransformerWeights.VitB16ImageNet1KV1 with
        {
            Source = new Uri(source),
            Checksum = FileChecksum.Sha256(prefix),
            PatchSize = 7, ImageSize = 28, HiddenSize = 16, NumLayers = 2, NumHeads = 2, MlpDim = 32, NumClasses = 5,
        };
        var cache = Path.Combine(_folder, "vit-cache");
        using var rgb = await mirrored.CreateModelAsync(cacheDirectory: cache);
        var grey = mirrored.ForInputChannels(1);
        grey.ToString().Should().EndWith(", for 1 input channel(s))");
        using (var model = await grey.CreateModelAsync(imageSize: 42, cacheDirectory: cache))
            model.Options.InChannels.Should().Be(1, "the resized and adapted weights load strictly");
        using (var model = await grey.CreateModelAsync(cacheDirectory: cache))
        using (var scope = Tensors.NewDisposeScope())
        using (Tensors.NoGrad())
        {
            model.StateDict()["conv_proj.weight"].Shape.Should().Equal(16, 1, 7, 7);
            var image = Values(2, 1, 28, 28);
            model.Call(image).AllClose(rgb.Call(Repeated(image, 3)), 1e-4, 1e-5).Should().BeTrue("the grey network is the RGB one on the grey image repeated");
        }
        FluentActions.Invoking(() => mirrored.ForInputChannels(0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
