using System.Security.Cryptography;
using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Download;
using MedVision.Nets.Models;
using MedVision.Nets.Tests.Data;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Models;

/// <summary>
/// torchvision's ImageNet vision-transformer weights: the table against torchvision's own metadata
/// (Fixtures/torchvision_vit_weights.json), and the download-verify-rename-resize path on a small torchvision
/// VisionTransformer served like download.pytorch.org (its weights and the reference of its position embeddings
/// resized by torchvision's interpolate_embeddings: Fixtures/make_vit_fixture.py).
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class PretrainedVisionTransformerWeightsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-vit-weights-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed record TorchvisionRow(string name, string url, long num_params, int patch, int image_size, int num_classes, double acc1, double acc5, int resize, int crop,
        int hidden, int layers, int heads, int mlp);

    [Fact]
    public void TheTable_IsTorchvisionsMetadata_AndEachNetworkHasThatManyParameters()
    {
        var rows = JsonSerializer.Deserialize<List<TorchvisionRow>>(File.ReadAllText(TestFixtures.PathOf("torchvision_vit_weights.json")))!;
        PretrainedVisionTransformerWeights.All.Select(w => w.Name).Should().Equal(rows.Select(r => r.name));
        foreach (var (weights, row) in PretrainedVisionTransformerWeights.All.Zip(rows))
        {
            weights.Source.ToString().Should().Be(row.url);
            (weights.ParameterCount, weights.PatchSize, weights.ImageSize, weights.NumClasses).Should().Be((row.num_params, row.patch, row.image_size, row.num_classes));
            (weights.Top1Accuracy, weights.Top5Accuracy, weights.ResizeSize).Should().Be((row.acc1, row.acc5, row.resize));
            (weights.HiddenSize, weights.NumLayers, weights.NumHeads, weights.MlpDim).Should().Be((row.hidden, row.layers, row.heads, row.mlp), weights.Name);
            row.crop.Should().Be(weights.ImageSize, "evaluated on centre crops of the training size");
            weights.FileName.Should().EndWith($"-{weights.Checksum.Expected}.pth");
            weights.Checksum.Algorithm.Should().Be("SHA-256");
            if (weights.HiddenSize <= 768)
            {
                // (ViT-L's 304 M parameters are checked on the smaller grid below only, to keep the test light.)
                using var model = weights.CreateBuilder().Build();
                model.ParameterCount().Should().Be(weights.ParameterCount, weights.Name);
            }
            using var smaller = weights.CreateBuilder(imageSize: 4 * weights.PatchSize).Build();
            if (weights == PretrainedVisionTransformerWeights.VitL32ImageNet1KV1)
            {
                // The builder's ViT-L preset is the same network.
                using var large = VisionTransformer.Builder().Large().WithImageSize(4 * weights.PatchSize).WithPatchSize(weights.PatchSize).WithClasses(1000).Build();
                large.ParameterCount().Should().Be(smaller.ParameterCount());
                (large.Options.HiddenSize, large.Options.NumLayers, large.Options.NumHeads, large.Options.MlpDim).Should().Be((1024, 24, 16, 4096));
            }
            smaller.ParameterCount().Should().Be(weights.ParameterCount - (weights.ImageSize * weights.ImageSize / (weights.PatchSize * weights.PatchSize) - 16) * (long)weights.HiddenSize,
                "a smaller grid has fewer position embeddings, nothing else changes");
        }
        FluentActions.Invoking(() => PretrainedVisionTransformerWeights.VitB16ImageNet1KV1.CreateBuilder(imageSize: 100))
            .Should().Throw<ArgumentException>().WithMessage("*16 × 16 patches*multiple of 16, not 100*").Which.ParamName.Should().Be("imageSize");
    }

    [Fact]
    public async Task Weights_DownloadIntoTheCache_TakeThisLibrarysNames_AndResizeTheirPositionEmbeddingsAsTorchvision()
    {
        // torchvision's VisionTransformer(28, patch 7, 2 layers, 2 heads, E 16, MLP 32, 5 classes), saved as torch.save
        // saves its state dict and served under torchvision's file-name pattern.
        using var reference = SafeTensors.Load(TestFixtures.PathOf("vit_reference.safetensors"));
        var source = Path.Combine(_folder, "source.pth");
        PyTorchFile.SaveStateDict(source, reference.Where(kv => kv.Key.StartsWith("state.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[6..], kv => kv.Value));
        var bytes = File.ReadAllBytes(source);
        var prefix = Convert.ToHexString(SHA256.HashData(bytes))[..8].ToLowerInvariant();
        using var server = new LocalHttpServer();
        server.Files[$"vit_tiny-{prefix}.pth"] = bytes;
        var mirrored = PretrainedVisionTransformerWeights.VitB16ImageNet1KV1 with
        {
            Source = new Uri(server.BaseUri, $"vit_tiny-{prefix}.pth"),
            Checksum = FileChecksum.Sha256(prefix),
            PatchSize = 7, ImageSize = 28, HiddenSize = 16, NumLayers = 2, NumHeads = 2, MlpDim = 32, NumClasses = 5,
        };
        var cache = Path.Combine(_folder, "cache");

        // At the training size: torchvision's logits.
        using (var model = await mirrored.CreateModelAsync(cacheDirectory: cache))
        using (var scope = Tensors.NewDisposeScope())
        {
            model.Training.Should().BeFalse();
            model.Call(reference["input"]).AllClose(reference["logits"], 1e-4, 1e-5).Should().BeTrue("the renamed weights are torchvision's network");
        }
        Directory.GetFiles(cache).Select(Path.GetFileName).Should().Equal($"vit_tiny-{prefix}.pth");

        // At 42 × 42 (a 6 × 6 grid instead of 4 × 4): interpolate_embeddings' position embeddings and that network's logits.
        int requests = server.RequestCount;
        using (var resized = await mirrored.LoadStateDictAsync(imageSize: 42, cacheDirectory: cache))
        using (var scope = Tensors.NewDisposeScope())
        {
            server.RequestCount.Should().Be(requests, "the cached file is used");
            resized["pos_embedding"].AllClose(reference["interp.pos_embedding"], 1e-5, 1e-6).Should().BeTrue(
                $"bicubic with corners aligned, as torchvision (largest difference {(resized["pos_embedding"] - reference["interp.pos_embedding"]).Abs().Max().Item():E2})");
            using var model = mirrored.CreateBuilder(imageSize: 42).Build();
            model.LoadStateDict(resized, strict: true);
            model.Eval();
            model.Call(reference["interp.input"]).AllClose(reference["interp.logits"], 1e-4, 1e-5).Should().BeTrue();
        }
        using (var model = await mirrored.CreateModelAsync(imageSize: 42, cacheDirectory: cache)) model.Options.PatchGrid.Should().Equal(6, 6);

        // Transfer learning: a 2-class head is reported, not copied.
        using (var weights = await mirrored.LoadStateDictAsync(cacheDirectory: cache))
        using (var two = mirrored.CreateBuilder().WithClasses(2).Build())
            two.LoadStateDict(weights, strict: false).ShapeMismatches.Select(m => m[..m.IndexOf(':')]).Should().BeEquivalentTo("head.weight", "head.bias");
        // ... or in one call: 2 classes at 42 × 42, a new zero head, training mode, every other tensor the file's.
        using (var tuned = await mirrored.CreateModelAsync(numClasses: 2, imageSize: 42, cacheDirectory: cache))
        using (var resized = await mirrored.LoadStateDictAsync(imageSize: 42, cacheDirectory: cache))
        using (var scope = Tensors.NewDisposeScope())
        {
            tuned.Training.Should().BeTrue();
            tuned.NumClasses.Should().Be(2);
            var state = tuned.StateDict();
            foreach (var (key, tensor) in resized.Where(kv => !kv.Key.StartsWith("head.", StringComparison.Ordinal)))
                state[key].AllClose(tensor, 0, 0).Should().BeTrue(key);
            tuned.Head.Weight.Abs().Sum().Item().Should().Be(0, "a new head starts at zero, as torchvision's");
        }
        using (var same = await mirrored.CreateModelAsync(numClasses: 5, imageSize: 28, cacheDirectory: cache))
            same.Head.Weight.Abs().Sum().Item().Should().Be(0, "the file's class count still gets a new head");
        await FluentActions.Awaiting(() => mirrored.CreateModelAsync(numClasses: 0, imageSize: 28, cacheDirectory: cache)).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => mirrored.CreateModelAsync(numClasses: 2, imageSize: 30, cacheDirectory: cache)).Should().ThrowAsync<ArgumentException>().WithMessage("*multiple of 7*");

        // Refusals: another file under the name, a size the patches do not divide, a file of another network.
        var wrong = mirrored with { Checksum = FileChecksum.Sha256(prefix == "00000000" ? "11111111" : "00000000") };
        var other = Path.Combine(_folder, "other-cache");
        (await FluentActions.Awaiting(() => wrong.DownloadAsync(other)).Should().ThrowAsync<ChecksumMismatchException>()).Which.Algorithm.Should().Be("SHA-256");
        (Directory.Exists(other) ? Directory.GetFiles(other) : []).Should().BeEmpty();
        await FluentActions.Awaiting(() => mirrored.LoadStateDictAsync(imageSize: 30, cacheDirectory: cache)).Should().ThrowAsync<ArgumentException>().WithMessage("*multiple of 7, not 30*");
        var resnetFile = Path.Combine(_folder, "resnet.pth");
        using (var resnet = ResNet.Builder().WithDepth(18).ForInput(3).WithClasses(5).Build()) PyTorchFile.SaveStateDict(resnetFile, resnet.StateDict());
        var resnetPrefix = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(resnetFile)))[..8].ToLowerInvariant();
        var notVit = mirrored with { Source = new Uri(resnetFile), Checksum = FileChecksum.Sha256(resnetPrefix) };
        (await FluentActions.Awaiting(() => notVit.LoadStateDictAsync(cacheDirectory: Path.Combine(_folder, "c3"))).Should().ThrowAsync<PyTorchFormatException>())
            .WithMessage("*is not torchvision's ViT_B_16_Weights.IMAGENET1K_V1 state dict: 'conv1.weight' is not a key*");
    }

    [Fact]
    public void ResizePositionEmbedding_KeepsTheClassToken_ResizesVolumeGridsTrilinearly_AndRefusesShapesThatDoNotFit()
    {
        using var scope = Tensors.NewDisposeScope();
        var embedding = Tensors.Randn(1, 1 + 2 * 2 * 2, 4);
        var resized = VisionTransformer.ResizePositionEmbedding(embedding, [2, 2, 2], [3, 4, 2]);
        resized.Shape.Should().Equal(1, 1 + 3 * 4 * 2, 4);
        resized.Narrow(1, 0, 1).AllClose(embedding.Narrow(1, 0, 1), 0, 0).Should().BeTrue("the class token's embedding is not a grid position");
        var corners = resized.Narrow(1, 1, 24).Reshape(3, 4, 2, 4);
        var original = embedding.Narrow(1, 1, 8).Reshape(2, 2, 2, 4);
        corners.Select(0, 2).Select(0, 3).AllClose(original.Select(0, 1).Select(0, 1), 1e-6, 1e-6).Should().BeTrue("with corners aligned the grid's corners keep their values");
        VisionTransformer.ResizePositionEmbedding(embedding, [2, 2, 2], [2, 2, 2]).AllClose(embedding, 0, 0).Should().BeTrue();
        FluentActions.Invoking(() => VisionTransformer.ResizePositionEmbedding(embedding, [2, 2], [3, 3])).Should().Throw<ArgumentException>().WithMessage("*2×2 patch grid are (1, 5, E)*not [1, 9, 4]*");
        FluentActions.Invoking(() => VisionTransformer.ResizePositionEmbedding(embedding, [2, 2, 2], [3, 3])).Should().Throw<ArgumentException>().WithMessage("*both be 2-D or both 3-D*");
        FluentActions.Invoking(() => VisionTransformer.ResizePositionEmbedding(embedding, [2, 2, 2], [3, 0, 3])).Should().Throw<ArgumentException>().WithMessage("*at least 1*");
    }
}
