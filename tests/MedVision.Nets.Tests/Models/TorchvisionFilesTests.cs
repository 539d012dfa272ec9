using MedVision.Nets.Data.Download;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Models;

/// <summary>
/// Full-size torchvision checkpoints written by PyTorch (Fixtures/make_torchvision_files.py; 240 MB, so not committed):
/// read without Python into this library's networks, they compute torchvision's logits. Run where
/// <c>MEDVISION_TORCHVISION_FILES</c> names the folder the script wrote; skipped elsewhere (CI).
/// </summary>
public sealed class TorchvisionFilesTests
{
    private static string File(string name) => Path.Combine(Environment.GetEnvironmentVariable(TorchvisionFilesFactAttribute.Variable)!, name);

    [TorchvisionFilesFact]
    public void Resnet50_FromTorchSave_GivesTorchvisionsLogits()
    {
        using var weights = PyTorchFile.LoadStateDict(File("resnet50.pth"));
        using var io = PyTorchFile.LoadStateDict(File("resnet50_io.pth"));
        using var model = ResNet.Builder().WithDepth(50).ForInput(3).WithImageNetStem().WithClasses(1000).Build();
        model.LoadStateDict(weights, strict: true).IsExactMatch.Should().BeTrue();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var scale = Math.Max(1.0, io["y"].Abs().Max().Item());
        (model.Call(io["x"]) - io["y"]).Abs().Max().Item().Should().BeLessThan(1e-4 * scale, "float32 sums in another order: within 1e-4 of the largest logit");
    }

    [TorchvisionFilesFact]
    public async Task R3D18_ThroughPretrainedWeights_GivesTorchvisionsLogits()
    {
        var file = Directory.GetFiles(Environment.GetEnvironmentVariable(TorchvisionFilesFactAttribute.Variable)!, "r3d_18-*.pth").Single();
        var prefix = Path.GetFileNameWithoutExtension(file)["r3d_18-".Length..];
        var mirrored = PretrainedWeights.R3D18Kinetics400V1 with { Source = new Uri(file), Checksum = FileChecksum.Sha256(prefix) };
        var cache = Directory.CreateTempSubdirectory("mvn-r3d-").FullName;
        try
        {
            using var model = await mirrored.CreateModelAsync(cache);
            using var io = PyTorchFile.LoadStateDict(File("r3d_18_io.pth"));
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            (model.Call(io["x"]) - io["y"]).Abs().Max().Item().Should().BeLessThan(1e-5);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }
}

/// <summary>A fact that runs only when MEDVISION_TORCHVISION_FILES names a folder written by make_torchvision_files.py.</summary>
public sealed class TorchvisionFilesFactAttribute : FactAttribute
{
    /// <summary>The environment variable naming the folder.</summary>
    public const string Variable = "MEDVISION_TORCHVISION_FILES";

    /// <summary>Skips the test unless the folder is given and exists.</summary>
    public TorchvisionFilesFactAttribute()
    {
        var folder = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder))
            Skip = $"needs {Variable}: the folder written by tests/MedVision.Nets.Tests/Fixtures/make_torchvision_files.py (240 MB of torchvision checkpoints)";
    }
}
