using System.Globalization;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Npy;
using MedVision.Nets.Inference;

namespace MedVision.Samples.Tests;

/// <summary>
/// The MedMnist sample on a 3-D dataset: a small file in NoduleMNIST3D's layout (28³ volumes, binary labels; a bright
/// cube marks label 1), trained for one epoch, then evaluated and used for prediction from a NIfTI file.
/// </summary>
public sealed class MedMnist3DSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string WriteNoduleMnist3D()
    {
        var path = _folder["nodulemnist3d.npz"];
        var random = new Random(5);
        var arrays = new Dictionary<string, NpyArray>();
        foreach (var (split, count) in new[] { ("train", 12), ("val", 6), ("test", 6) })
        {
            var voxels = new byte[count * 28 * 28 * 28];
            var labels = new byte[count];
            for (int i = 0; i < count; i++)
            {
                labels[i] = (byte)(i % 2);
                for (int v = 0; v < 28 * 28 * 28; v++)
                {
                    int z = v / 784, y = v / 28 % 28, x = v % 28;
                    bool cube = labels[i] == 1 && z is >= 10 and < 18 && y is >= 10 and < 18 && x is >= 10 and < 18;
                    voxels[i * 28 * 28 * 28 + v] = (byte)(cube ? 200 + random.Next(56) : random.Next(80));
                }
            }
            arrays[split + "_images"] = NpyArray.FromBytes(voxels, count, 28, 28, 28);
            arrays[split + "_labels"] = NpyArray.FromBytes(labels, count, 1);
        }
        NpzArchive.Write(path, arrays);
        return path;
    }

    [Fact]
    public async Task ThreeDimensionalDatasets_TrainA3DResNet_ThatEvaluateAndPredictUse()
    {
        var data = WriteNoduleMnist3D();
        var run = _folder["run"];
        var train = await SampleApp.RunAsync("medmnist", _folder.Path,
            "train", "--data-file", data, "--epochs", "1", "--batch", "4", "--threads", "2", "--output", run);
        train.ExitCode.Should().Be(0, train.ToString());
        train.Text.Should().Contain("3-D, small-input stem, 28³ volumes").And.Contain("train 12, val 6, test 6");
        var result = train.Lines().Should().ContainSingle().Subject;
        result["#1"].Should().Be("nodulemnist3d");
        var testAuc = result["test_auc"];

        var card = ModelFile.ReadCard(Path.Combine(run, "model.safetensors"));
        card.ResNet!.SpatialDims.Should().Be(3);
        card.ResNet.Stem.Should().Be("small_input");
        card.Preprocessing.InputSize.Should().Equal(28, 28, 28);
        card.Preprocessing.Mean.Should().Equal(0f);
        card.Preprocessing.Std.Should().Equal(1f);
        File.Exists(Path.Combine(run, "test-gradcam.png")).Should().BeFalse("Grad-CAM grids are drawn for 2-D images");

        // evaluate runs the model file through the predictor: the same test AUC as training's in-memory evaluation.
        var evaluate = await SampleApp.RunAsync("medmnist", _folder.Path,
            "evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data-file", data, "--threads", "2", "--output", _folder["evaluation"]);
        evaluate.ExitCode.Should().Be(0, evaluate.ToString());
        evaluate.Lines("EVALUATION").Should().ContainSingle().Subject["test_auc"].Should().Be(testAuc);

        // predict takes NIfTI volumes for a 3-D model.
        var dataset = MedMnistDataset.Load(data, new MedMnistLoadOptions { Info = MedMnistCatalog.Get("nodulemnist3d") });
        var volume = _folder["volume.nii.gz"];
        NiftiWriter.Write(volume, new NiftiImage(dataset.Test.GetImage(1).ToArray().Select(b => (float)b).ToArray(), new[] { 28, 28, 28 }));
        var predict = await SampleApp.RunAsync("medmnist", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), volume);
        predict.ExitCode.Should().Be(0, predict.ToString());
        predict.Text.Should().Contain("input 28×28×28");
        using var predictor = Predictor.Load(Path.Combine(run, "model.safetensors"));
        var expected = predictor.PredictFile(volume);
        predict.Output.Split('\n').Should().ContainSingle(r => r.Contains("volume.nii.gz")).Which.Should()
            .Contain($"{expected.Label}: {expected.LabelName}").And.Contain(expected.Probabilities[expected.Label].ToString("F3", CultureInfo.InvariantCulture));

        // find-lr sweeps the same network and preprocessing.
        var findLr = await SampleApp.RunAsync("medmnist", _folder.Path,
            "find-lr", "--data-file", data, "--batch", "2", "--steps", "3", "--threads", "2", "--output", _folder["find-lr"]);
        findLr.ExitCode.Should().Be(0, findLr.ToString());
        findLr.Lines().Should().ContainSingle().Which["#2"].Should().Be("nodulemnist3d");

        // Options that do not apply to volumes are refused by name.
        var resolution = await SampleApp.RunAsync("medmnist", _folder.Path, "train", "--data-file", data, "--epochs", "1", "--resolution", "224", "--output", _folder["r224"]);
        resolution.ExitCode.Should().Be(2, resolution.ToString());
        resolution.Error.Should().Contain("holds 28³ volumes").And.Contain("--resolution 224 applies to 2-D images");
        var imagenet = await SampleApp.RunAsync("medmnist", _folder.Path, "train", "--data-file", data, "--epochs", "1", "--init-weights", "imagenet", "--output", _folder["imagenet"]);
        imagenet.ExitCode.Should().Be(2, imagenet.ToString());
        imagenet.Error.Should().Contain("torchvision's 2-D weights");
        var vitBase = await SampleApp.RunAsync("medmnist", _folder.Path, "train", "--data-file", data, "--model", "vit-b16", "--epochs", "1", "--output", _folder["vit-b16"]);
        vitBase.ExitCode.Should().Be(2, vitBase.ToString());
        vitBase.Error.Should().Contain("--model vit-b16 is torchvision's 2-D ViT-B/16; nodulemnist3d holds volumes: use vit-tiny or vit-small");
        var heatmaps = await SampleApp.RunAsync("medmnist", _folder.Path, "predict", "--model", Path.Combine(run, "model.safetensors"), "--heatmaps", _folder["maps"], volume);
        heatmaps.ExitCode.Should().Be(2, heatmaps.ToString());
        heatmaps.Error.Should().Contain("--heatmaps");
    }
}
