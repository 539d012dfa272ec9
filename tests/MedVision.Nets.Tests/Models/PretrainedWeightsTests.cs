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

    private sealed record TorchvisionRow(string name, string url, long num_params, double acc1, double acc5, int resize, int crop, bool @default);

    [Fact]
    public void TheTable_IsTorchvisionsMetadata_AndEachArchitectureHasThatManyParameters()
    {
        var rows = JsonSerializer.Deserialize<List<TorchvisionRow>>(File.ReadAllText(TestFixtures.PathOf("torchvision_weights.json")))!;
        PretrainedWeights.All.Select(w => w.Name).Should().Equal(rows.Select(r => r.name));
        foreach (var (weights, row) in PretrainedWeights.All.Zip(rows))
        {
            weights.Source.ToString().Should().Be(row.url);
            weights.ParameterCount.Should().Be(row.num_params, weights.Name);
            weights.ImageNetTop1.Should().Be(row.acc1);
            weights.ImageNetTop5.Should().Be(row.acc5);
            weights.ResizeSize.Should().Be(row.resize, weights.Name);
            weights.CropSize.Should().Be(row.crop);
            (PretrainedWeights.Default(weights.Depth) == weights).Should().Be(row.@default, $"{weights.Name} is{(row.@default ? "" : " not")} torchvision's DEFAULT");
            // torch.hub checks the SHA-256 prefix that the file name carries.
            weights.Checksum.Algorithm.Should().Be("SHA-256");
            weights.FileName.Should().Be($"resnet{weights.Depth}-{weights.Checksum.Expected}.pth");
        }
        // The architecture the weights belong to has exactly torchvision's parameter count.
        foreach (var depth in new[] { 18, 34, 50, 101, 152 })
        {
            using var model = ResNet.Builder().WithDepth(depth).ForInput(3).WithImageNetStem().WithClasses(1000).Build();
            model.ParameterCount().Should().Be(PretrainedWeights.Default(depth).ParameterCount, $"ResNet-{depth}");
        }
        FluentActions.Invoking(() => PretrainedWeights.Default(20)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("depth");
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
