using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Onnx.Runtime.Tests;

/// <summary>Segmentation model files exported to ONNX and served by ONNX Runtime, against the libtorch predictors on the same files.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class OnnxRuntimeSegmentationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-ort-seg-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static RasterImage Image(int seed, int width, int height)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((i / 3 % width) * 255 / width / 2 + random.Next(0, 128));
        return new RasterImage(width, height, 3, pixels);
    }

    [Fact]
    public void An2DModel_ServedByOnnxRuntime_SegmentsImagesAsLibtorchDoes()
    {
        Tensors.ManualSeed(21);
        using var model = UNet.Builder().ForInput(3, 2).WithFeatures(4, 8, 16).WithClasses(3).Build();
        using (Tensors.NoGrad())
            foreach (var (name, buffer) in model.NamedBuffers())
                if (name.EndsWith("running_var", StringComparison.Ordinal)) buffer.FillInPlace(1.5);
        var options = new ImageSegmentationOptions { Channels = 3, Size = (24, 24), Normalization = new Normalize([0.5f, 0.4f, 0.3f], [0.2f, 0.25f, 0.3f]) };
        // An untrained network calls nearly every pixel one class: shift its head's biases so that classes 1 and 2 win
        // about half and a quarter of the first image, and the label maps compared below hold all three.
        using (var direct = new ImageSegmentationPredictor(model, options, new SlidingWindowInferer([16, 16], overlap: 0.5), ["background", "disc", "cup"]))
        {
            var p = direct.PredictProbabilities(Image(1, 30, 20));
            double Quantile(int k, double q)
            {
                var ratios = Enumerable.Range(0, p[0].Length).Select(i => Math.Log(p[0][i]) - Math.Log(p[k][i])).Order().ToArray();
                return ratios[(int)(q * (ratios.Length - 1))];
            }
            using var noGrad = Tensors.NoGrad();
            var bias = model.NamedParameters().Single(n => n.Name == "head.bias").Parameter;
            var values = bias.ToArray<float>();
            values[1] += (float)Quantile(1, 0.5);
            values[2] += (float)Quantile(2, 0.75);
            using var shifted = Tensors.FromArray(values);
            bias.CopyInPlace(shifted);
        }
        var modelFile = Path.Combine(_folder, "image.safetensors");
        SegmentationModelFile.Save(modelFile, model, SegmentationModelFile.Describe(model, options, ["background", "disc", "cup"], new SlidingWindowInferer([16, 16], overlap: 0.5, windowBatchSize: 3)));
        var onnxFile = Path.Combine(_folder, "image.onnx");
        var card = OnnxModelFile.ExportSegmentation(modelFile, onnxFile);
        card.WindowBatchSize.Should().Be(3);

        using var torch = ImageSegmentationPredictor.Load(modelFile);
        using var onnx = OnnxRuntimePredictor.LoadImageSegmentation(onnxFile);
        onnx.ClassNames.Should().Equal("background", "disc", "cup");
        onnx.Card!.ImageSize.Should().Equal(24, 24);
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var image = Image(seed, 30, 20);
            var expected = torch.PredictProbabilities(image);
            var actual = onnx.PredictProbabilities(image);
            for (int k = 0; k < 3; k++) actual[k].Select(v => (double)v).Should().Equal(expected[k].Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-4, $"class {k} of image {seed}");
            // Labels may differ only where two classes' probabilities tie within the engines' rounding.
            var torchLabels = torch.Predict(image).Labels.ToArray();
            var onnxLabels = onnx.Predict(image).Labels.ToArray();
            int differing = torchLabels.Zip(onnxLabels).Count(p => p.First != p.Second);
            differing.Should().BeLessThan(3, "the same network in two engines");
            torchLabels.Distinct().Count().Should().BeGreaterThan(1, "labels of more than one class, so the comparison means something");
        }
        onnx.Flips = TestTimeFlips.Horizontal;
        torch.Flips = TestTimeFlips.Horizontal;
        onnx.PredictProbabilities(Image(4, 30, 20))[1].Select(v => (double)v).Should().Equal(torch.PredictProbabilities(Image(4, 30, 20))[1].Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-4);

        var scans = () => OnnxRuntimePredictor.LoadSegmentation(onnxFile);
        scans.Should().Throw<ModelFormatException>().WithMessage("*holds a 2-D U-Net; segment images with OnnxRuntimePredictor.LoadImageSegmentation*");
        var classifier = () => OnnxRuntimePredictor.Load(onnxFile);
        classifier.Should().Throw<ModelFormatException>().WithMessage("*carries no model card*");
        var fixedBatch = () => OnnxModelFile.ExportSegmentation(modelFile, Path.Combine(_folder, "fixed.onnx"), new OnnxModelFileOptions { DynamicBatch = false });
        fixedBatch.Should().Throw<ArgumentException>().WithMessage("*batches of 3; keep DynamicBatch*");
        File.Exists(Path.Combine(_folder, "fixed.onnx")).Should().BeFalse();

        // The post-processing recorded in the model file travels with the export, and the ONNX predictor applies it.
        SegmentationModelFile.UpdateCard(modelFile, c => c.KeepLargestComponent = [2]);
        var postprocessed = Path.Combine(_folder, "postprocessed.onnx");
        OnnxModelFile.ExportSegmentation(modelFile, postprocessed).KeepLargestComponent.Should().Equal(2);
        using var kept = OnnxRuntimePredictor.LoadImageSegmentation(postprocessed);
        kept.KeepLargestComponentClasses.Should().Equal(2);
        var noisy = new byte[24 * 24 * 3];
        new Random(5).NextBytes(noisy);
        var speckled = new MedVision.Nets.Data.Images.RasterImage(24, 24, 3, noisy);   // noise: the classes come in pieces
        var keptLabels = kept.Predict(speckled).Labels.ToArray();
        kept.KeepLargestComponent = false;
        var raw = kept.Predict(speckled).Labels.ToArray();
        keptLabels.Should().Equal(ConnectedComponents.KeepLargestPerClass(raw, [24, 24], [2], ImageSegmentationPredictor.ComponentConnectivity));
        keptLabels.Should().NotEqual(raw, "the cup is in pieces, so the recorded choice changes the map");

        // The foreground step (format 4) travels too, and is applied first.
        SegmentationModelFile.UpdateCard(modelFile, c => c.KeepLargestForeground = true);
        var foregroundFile = Path.Combine(_folder, "foreground.onnx");
        OnnxModelFile.ExportSegmentation(modelFile, foregroundFile).KeepLargestForeground.Should().BeTrue();
        using var whole = OnnxRuntimePredictor.LoadImageSegmentation(foregroundFile);
        whole.KeepLargestForeground.Should().BeTrue();
        var foreground = ConnectedComponents.KeepLargestForeground(raw, [24, 24], ImageSegmentationPredictor.ComponentConnectivity);
        foreground.Should().NotEqual(raw);
        whole.Predict(speckled).Labels.ToArray().Should().Equal(ConnectedComponents.KeepLargestPerClass(foreground, [24, 24], [2], ImageSegmentationPredictor.ComponentConnectivity));
    }

    [Fact]
    public void A3DSigmoidModel_ServedByOnnxRuntime_SegmentsScansAsLibtorchDoes()
    {
        Tensors.ManualSeed(22);
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithInstanceNorm().WithClasses(1).Build();
        var preparation = new NiftiSegmentationOptions { Orientation = "RAS", Normalization = new NormalizeIntensity(nonZero: true, channelWise: true) };
        var subject = new PhantomGenerator(size: 12, seed: 5).Generate(1);
        NiftiImage[] scan = [new NiftiImage(subject.Mri, [12, 12, 12]), new NiftiImage(subject.Pet, [12, 12, 12])];
        // Centre the untrained network's logits on this scan (bias minus their median), so that both classes occur.
        using (var direct = new SegmentationPredictor(model, preparation, new SlidingWindowInferer([8, 8, 8], overlap: 0.25)))
        {
            var logits = direct.PredictProbabilities(scan)[1].Voxels.ToArray().Select(v => Math.Log(v / (1 - v))).Order().ToArray();
            using var noGrad = Tensors.NoGrad();
            model.NamedParameters().Single(n => n.Name == "head.bias").Parameter.AddInPlace(-(logits[logits.Length / 2 - 1] + logits[logits.Length / 2]) / 2);
        }
        var modelFile = Path.Combine(_folder, "scan.safetensors");
        SegmentationModelFile.Save(modelFile, model, SegmentationModelFile.Describe(model, preparation, ["background", "lesion"], new SlidingWindowInferer([8, 8, 8], overlap: 0.25), ["MRI", "PET"]));
        var onnxFile = Path.Combine(_folder, "scan.onnx");
        OnnxModelFile.ExportSegmentation(modelFile, onnxFile, new OnnxModelFileOptions { DynamicSpatialSize = true });

        using var torch = SegmentationPredictor.Load(modelFile);
        using var onnx = OnnxRuntimePredictor.LoadSegmentation(onnxFile);
        onnx.Classes.Should().Be(2);
        var expected = torch.PredictProbabilities(scan)[1].Voxels.ToArray();
        var actual = onnx.PredictProbabilities(scan)[1].Voxels.ToArray();
        actual.Select(v => (double)v).Should().Equal(expected.Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-4);
        var map = onnx.Predict(scan);
        map.IsOnGridOf(scan[0]).Should().BeTrue();
        map.Voxels.ToArray().Zip(torch.Predict(scan).Voxels.ToArray()).Count(p => p.First != p.Second).Should().BeLessThan(3);
        map.Voxels.ToArray().Distinct().Should().HaveCount(2, "both classes, so the label maps compared mean something");

        var images = () => OnnxRuntimePredictor.LoadImageSegmentation(onnxFile);
        images.Should().Throw<ModelFormatException>().WithMessage("*holds a 3-D U-Net; segment scans with OnnxRuntimePredictor.LoadSegmentation*");
        var missing = () => OnnxRuntimePredictor.LoadSegmentation(Path.Combine(_folder, "none.onnx"));
        missing.Should().Throw<FileNotFoundException>();
    }
}
