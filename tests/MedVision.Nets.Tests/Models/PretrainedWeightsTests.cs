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
/// torchvision's ImageNet weights: the table against torchvision's own metadata (Fixtures/torchvision_weights.json,
/// made by make_torchvision_weights_fixture.py), and the download, verification and loading path against a local
/// server (no network: a ResNet-18 state dict written here stands in for download.pytorch.org's file).
/// </summary>
public sealed class PretrainedWeightsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-weights-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed record TorchvisionRow(string name, string url, long num_params, string dataset, int num_classes, double acc1, double acc5, int[] resize, int[] crop, bool @default);

    [Fact]
    public void TheTable_IsTorchvisionsMetadata_AndEachArchitectureHasThatManyParameters()
    {
        var rows = JsonSerializer.Deserialize<List<TorchvisionRow>>(File.ReadAllText(TestFixtures.PathOf("torchvision_weights.json")))!;
        PretrainedWeights.All.Select(w => w.Name).Should().Equal(rows.Select(r => r.name));
        foreach (var (weights, row) in PretrainedWeights.All.Zip(rows))
        {
            weights.Source.ToString().Should().Be(row.url);
            weights.ParameterCount.Should().Be(row.num_params, weights.Name);
            weights.Dataset.Should().Be(row.dataset);
            weights.NumClasses.Should().Be(row.num_classes);
            weights.Top1Accuracy.Should().Be(row.acc1);
            weights.Top5Accuracy.Should().Be(row.acc5);
            weights.ResizeSize.Should().Equal(row.resize, weights.Name);
            weights.CropSize.Should().Equal(row.crop);
            if (weights.SpatialDims == 2)
                (PretrainedWeights.Default(weights.Depth) == weights).Should().Be(row.@default, $"{weights.Name} is{(row.@default ? "" : " not")} torchvision's DEFAULT");
            // torch.hub checks the SHA-256 prefix that the file name carries.
            weights.Checksum.Algorithm.Should().Be("SHA-256");
            weights.FileName.Should().EndWith($"-{weights.Checksum.Expected}.pth");
            // The architecture the weights belong to has exactly torchvision's parameter count.
            using var model = weights.CreateBuilder().Build();
            model.ParameterCount().Should().Be(weights.ParameterCount, weights.Name);
        }
        FluentActions.Invoking(() => PretrainedWeights.Default(20)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("depth");
    }

    [Fact]
    public async Task R3D18Weights_TakeThisLibrarysNames_AndFitTheir3DResNetKeyForKey()
    {
        // torchvision's r3d_18 state dict (keys and shapes from make_torchvision_weights_fixture.py), written as torch.save
        // writes it: stem.0/stem.1 and layer1.0.conv1.0/conv1.1 must become conv1/bn1 and layer1.0.conv1/bn1.
        var rows = File.ReadAllLines(TestFixtures.PathOf("r3d_18_state_dict_shapes.txt")).Select(l => l.Split(' ')).ToList();
        var file = Path.Combine(_folder, "r3d.pth");
        using (var scope = Tensors.NewDisposeScope())
        {
            var random = new Random(3);
            var tensors = rows.ToDictionary(r => r[0], r =>
            {
                var shape = r.Length > 1 && r[1].Length > 0 ? r[1].Split(',').Select(long.Parse).ToArray() : Array.Empty<long>();
                return r[0].EndsWith("num_batches_tracked", StringComparison.Ordinal)
                    ? Tensors.Zeros(shape, ScalarType.Int64)
                    : Tensors.Full(shape, random.NextDouble());
            });
            PyTorchFile.SaveStateDict(file, tensors);
        }
        var prefix = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))[..8].ToLowerInvariant();
        var mirrored = PretrainedWeights.R3D18Kinetics400V1 with { Source = new Uri(file), Checksum = FileChecksum.Sha256(prefix) };
        using var weights = await mirrored.LoadStateDictAsync(Path.Combine(_folder, "cache"));
        weights.Keys.Should().Contain(new[] { "conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.1.bn2.bias", "layer4.0.downsample.1.running_mean", "fc.weight" });
        weights.Keys.Should().NotContain(k => k.StartsWith("stem.", StringComparison.Ordinal) || k.Contains(".conv1.0.", StringComparison.Ordinal) || k.Contains(".conv2.1.", StringComparison.Ordinal));
        using var model = mirrored.CreateBuilder().Build();
        model.LoadStateDict(weights, strict: true).IsExactMatch.Should().BeTrue();
        model.SpatialDims.Should().Be(3);
        // Transfer to one-channel volumes and two classes: everything but the stem and the classifier fits.
        using var mri = mirrored.CreateBuilder().ForInput(1, spatialDims: 3).WithClasses(2).Build();
        mri.LoadStateDict(weights, strict: false).ShapeMismatches.Select(m => m[..m.IndexOf(':')]).Should().BeEquivalentTo("conv1.weight", "fc.weight", "fc.bias");

        // Ready to fine-tune: one-channel volumes and two classes in one call — the stem adapted, a new classifier.
        using (var tuned = await mirrored.ForInputChannels(1).CreateModelAsync(numClasses: 2, cacheDirectory: Path.Combine(_folder, "cache")))
        using (var scope = Tensors.NewDisposeScope())
        {
            tuned.Training.Should().BeTrue();
            tuned.NumClasses.Should().Be(2);
            var state = tuned.StateDict();
            state["conv1.weight"].AllClose(weights["conv1.weight"].Sum([1L], keepDim: true), 0, 0).Should().BeTrue("the RGB kernels summed");
            state["layer4.1.bn2.running_var"].AllClose(weights["layer4.1.bn2.running_var"], 0, 0).Should().BeTrue();
            state["fc.weight"].Shape.Should().Equal(2, 512);
        }
        // The file's own class count still gets a new classifier.
        using (var same = await mirrored.CreateModelAsync(numClasses: 400, cacheDirectory: Path.Combine(_folder, "cache")))
        using (var scope = Tensors.NewDisposeScope())
            same.StateDict()["fc.weight"].AllClose(weights["fc.weight"], 0, 0).Should().BeFalse("re-drawn, not the file's");
        await FluentActions.Awaiting(() => mirrored.CreateModelAsync(numClasses: 0)).Should().ThrowAsync<ArgumentOutOfRangeException>();

        // Ending in a CORAL head for three ordered grades: its one weight row and two biases are new, the body is the file's.
        using (var coral = await mirrored.ForInputChannels(1).CreateModelAsync(3, ClassifierHead.Coral, Path.Combine(_folder, "cache")))
        using (var scope = Tensors.NewDisposeScope())
        {
            coral.ClassifierKind.Should().Be(ClassifierHead.Coral);
            var state = coral.StateDict();
            state["fc.weight"].Shape.Should().Equal(1, 512);
            state["fc.bias"].Shape.Should().Equal(2);
            state["layer4.1.bn2.running_var"].AllClose(weights["layer4.1.bn2.running_var"], 0, 0).Should().BeTrue();
            coral.Eval();
            coral.Call(Tensors.Randn(1, 1, 4, 16, 16)).Shape.Should().Equal(1, 2);
        }
        await FluentActions.Awaiting(() => mirrored.CreateModelAsync(3, (ClassifierHead)7, Path.Combine(_folder, "cache"))).Should().ThrowAsync<ArgumentException>().WithMessage("*Unknown classifier head*");
    }

    [Fact]
    public async Task Weights_DownloadOnceIntoTheCache_AreVerified_AndBuildTheirModel()
    {
        // A ResNet-18 (ImageNet stem, 1000 classes) written as torch.save writes it, served like download.pytorch.org.
        using var original = ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(1000).Build();
        var file = Path.Combine(_folder, "source.pth");
        PyTorchFile.SaveStateDict(file, original.StateDict());
        var bytes = File.ReadAllBytes(file);
        var prefix = Convert.ToHexString(SHA256.HashData(bytes))[..8].ToLowerInvariant();
        using var server = new LocalHttpServer();
        server.Files[$"resnet18-{prefix}.pth"] = bytes;
        var mirrored = PretrainedWeights.ResNet18ImageNet1KV1 with
        {
            Source = new Uri(server.BaseUri, $"resnet18-{prefix}.pth"),
            Checksum = FileChecksum.Sha256(prefix),
        };
        var cache = Path.Combine(_folder, "cache");
        var reports = new List<DownloadProgress>();

        using (var model = await mirrored.CreateModelAsync(cache, new SynchronousProgress(reports.Add)))
        {
            model.Training.Should().BeFalse("a pretrained model comes in evaluation mode");
            using var scope = Tensors.NewDisposeScope();
            foreach (var (key, tensor) in original.StateDict())
                ((model.StateDict()[key].To(ScalarType.Float64) - tensor.To(ScalarType.Float64)).Abs().Max().Item()).Should().Be(0, key);
        }
        reports.Last().BytesReceived.Should().Be(bytes.Length);
        Directory.GetFiles(cache).Select(Path.GetFileName).Should().Equal($"resnet18-{prefix}.pth");

        // Cached: no second request.
        int requests = server.RequestCount;
        using (var weights = await mirrored.LoadStateDictAsync(cache)) weights.Should().HaveCount(original.StateDict().Count);
        server.RequestCount.Should().Be(requests);

        // Another file under the expected name is refused and leaves nothing in the cache.
        var wrong = mirrored with { Checksum = FileChecksum.Sha256(prefix == "00000000" ? "11111111" : "00000000") };
        var other = Path.Combine(_folder, "other-cache");
        var refused = async () => await wrong.DownloadAsync(other);
        (await refused.Should().ThrowAsync<ChecksumMismatchException>()).Which.Algorithm.Should().Be("SHA-256");
        (Directory.Exists(other) ? Directory.GetFiles(other) : Array.Empty<string>()).Should().BeEmpty("a refused download leaves nothing in the cache");

        // Transfer learning: the same file into a 5-class model, non-strictly.
        using var five = ResNet.Builder().WithDepth(18).ForInput(3).WithImageNetStem().WithClasses(5).Build();
        using (var weights = await mirrored.LoadStateDictAsync(cache))
        {
            var result = five.LoadStateDict(weights, strict: false);
            result.ShapeMismatches.Should().HaveCount(2).And.OnlyContain(m => m.StartsWith("fc.", StringComparison.Ordinal));
            result.MissingKeys.Should().BeEmpty();
        }
    }

    [Fact]
    public void Checksums_AreValidated()
    {
        FluentActions.Invoking(() => FileChecksum.Sha256("abc")).Should().Throw<ArgumentException>().WithMessage("*8 to 64 hexadecimal*");
        FluentActions.Invoking(() => FileChecksum.Sha256("zzzzzzzz")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => FileChecksum.Md5("1234")).Should().Throw<ArgumentException>().WithMessage("*32 hexadecimal*");
        FileChecksum.Sha256("F37072FD").Matches("f37072fd" + new string('0', 56)).Should().BeTrue();
        FileChecksum.Sha256("f37072fd").Matches("f37072fe" + new string('0', 56)).Should().BeFalse();
        FluentActions.Invoking(() => PretrainedWeights.ResNet18ImageNet1KV1 with { Source = null! }).Should().Throw<ArgumentNullException>();
    }

    private sealed class SynchronousProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
