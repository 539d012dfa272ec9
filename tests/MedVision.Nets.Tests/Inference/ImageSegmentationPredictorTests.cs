using MedVision.Nets.Data;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class ImageSegmentationPredictorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mv-imgseg-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly ImageSegmentationOptions Options = new()
    {
        Channels = 3,
        Size = (16, 16),
        Normalization = new Normalize([0.5f, 0.4f, 0.3f], [0.2f, 0.25f, 0.3f]),
    };

    private static readonly string[] Classes = ["background", "disc", "cup"];

    // An RGB image of 20×14 pixels: a bright disc with a brighter cup, on a dark red background, with some texture.
    private static RasterImage Fundus(int seed, int width = 20, int height = 14)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        double cx = 6 + (seed % 7), cy = 5 + (seed % 4);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double r = Math.Sqrt(((x - cx) * (x - cx)) + ((y - cy) * (y - cy)));
                int i = 3 * ((y * width) + x);
                pixels[i] = (byte)Math.Clamp((r < 2 ? 250 : r < 4 ? 200 : 120) + random.Next(-20, 20), 0, 255);
                pixels[i + 1] = (byte)Math.Clamp((r < 4 ? 160 : 50) + random.Next(-20, 20), 0, 255);
                pixels[i + 2] = (byte)Math.Clamp(30 + random.Next(0, 30), 0, 255);
            }
        return new RasterImage(width, height, 3, pixels);
    }

    /// <summary>
    /// Shifts a one-output network's head bias by the median logit it gives for <paramref name="input"/>, so that an
    /// untrained network calls about half the input foreground and both sides of the threshold are exercised.
    /// </summary>
    internal static void CentreSigmoid(UNet model, SlidingWindowInferer window, float[] input, params long[] shape)
    {
        model.Eval();
        using var noGrad = Tensors.NoGrad();
        using var scope = Tensors.NewDisposeScope();
        var logits = window.Infer(Tensors.FromArray(input, shape), model).ToArray<float>();
        Array.Sort(logits);
        var bias = model.NamedParameters().Single(p => p.Name == "head.bias").Parameter;
        bias.AddInPlace(-(logits[(logits.Length / 2) - 1] + logits[logits.Length / 2]) / 2);  // between two logits: none lands on the threshold
    }

    private static UNet Network(int classes = 3) =>
        UNet.Builder().ForInput(3, 2).WithFeatures(4, 8).WithInstanceNorm().WithClasses(classes).Build();

    // What the predictor must give: the network on the prepared image, arg-max (sigmoid: logit > 0), back to the image's size by nearest neighbour.
    private static int[] Expected(UNet model, RasterImage image, bool flipHorizontally = false)
    {
        var prepared = Options.Prepare(image);
        model.Eval();
        using var noGrad = Tensors.NoGrad();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.FromArray(prepared.Data, 1, 3, 16, 16);
        var probabilities = model.Call(input).Softmax(1);
        if (flipHorizontally) probabilities = (probabilities + model.Call(input.Flip(3)).Softmax(1).Flip(3)) / 2;
        // Brought back to the image's size (bilinear, half-pixel centres, as F.interpolate with align_corners=False),
        // then the arg-max there.
        var resized = MedVision.Torch.Nn.Functional.Interpolate(probabilities, [image.Height, image.Width], MedVision.Torch.Nn.InterpolationMode.Linear, alignCorners: false);
        return resized.ArgMax(1).To(ScalarType.Int32).ToArray<int>();
    }

    [Fact]
    public void SavedFile_SegmentsFilesStreamsAndPixels_AsTheNetworkOnThePreparedImage()
    {
        Tensors.ManualSeed(11);
        using var model = Network();
        var window = new SlidingWindowInferer([16, 16]);
        var card = SegmentationModelFile.Describe(model, Options, Classes, window, new Dictionary<string, double> { ["val_dice"] = 0.7 });
        card.ImageSize.Should().Equal(16, 16);
        card.Mean.Should().Equal(0.5f, 0.4f, 0.3f);
        card.Std.Should().Equal(0.2f, 0.25f, 0.3f);
        card.FormatVersion.Should().Be(2);
        var path = Path.Combine(_folder, "disc.safetensors");
        SegmentationModelFile.Save(path, model, card);

        var image = Fundus(1);
        var png = Path.Combine(_folder, "fundus.png");
        ImageCodec.Save(png, image);
        var expected = Expected(model, image);
        expected.Distinct().Count().Should().BeGreaterThan(1, "the untrained network still separates classes, so the comparison is not of constants");

        using var predictor = ImageSegmentationPredictor.Load(path);
        predictor.ClassNames.Should().Equal(Classes);
        predictor.Card!.Metrics!["val_dice"].Should().Be(0.7);
        predictor.Preprocessing.Size.Should().Be((16, 16));
        var map = predictor.Predict(png);
        map.Height.Should().Be(14);
        map.Width.Should().Be(20);
        map.Labels.ToArray().Should().Equal(expected);
        using (var stream = File.OpenRead(png)) predictor.Predict(stream).Labels.ToArray().Should().Equal(expected);
        predictor.Predict(image).Labels.ToArray().Should().Equal(expected);
        map.PixelCount(0).Should().Be(expected.Count(v => v == 0));
        (map.Fraction(0) + map.Fraction(1) + map.Fraction(2)).Should().BeApproximately(1, 1e-12);

        // Probabilities on the image's size: they sum to one per pixel.
        var probabilities = predictor.PredictProbabilities(image);
        probabilities.Should().HaveCount(3);
        probabilities[0].Length.Should().Be(20 * 14);
        for (int i = 0; i < 20 * 14; i++) (probabilities[0][i] + probabilities[1][i] + probabilities[2][i]).Should().BeApproximately(1f, 1e-5f);
        // Both from one pass: the same map and the same probabilities (the image resized to 16×16 and back).
        var (both, bothProbabilities) = predictor.PredictWithProbabilities(image);
        both.Labels.ToArray().Should().Equal(expected);
        bothProbabilities.Should().HaveCount(3);
        for (int k = 0; k < 3; k++) bothProbabilities[k].Should().Equal(probabilities[k]);

        // Test-time flips: the mean of the image's and its mirror's probabilities.
        predictor.Flips = TestTimeFlips.Horizontal;
        predictor.Predict(image).Labels.ToArray().Should().Equal(Expected(model, image, flipHorizontally: true));
        var depth = () => predictor.Flips = TestTimeFlips.Depth;
        depth.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Depth needs a 3-D network*");
    }

    [Fact]
    public void ImagesOfTheirOwnSize_RunThroughTheWindow_AndSigmoidNetworksSplitAtHalf()
    {
        Tensors.ManualSeed(12);
        var native = new ImageSegmentationOptions { Channels = 1 };
        using var grey = UNet.Builder().ForInput(1, 2).WithFeatures(4, 8).WithClasses(1).Build();
        var image = Fundus(2, width: 13, height: 11);
        var prepared = native.Prepare(image);
        CentreSigmoid(grey, new SlidingWindowInferer([8, 8], overlap: 0.5), prepared.Data, 1, 1, 11, 13);
        var card = SegmentationModelFile.Describe(grey, native, ["background", "vessel"], new SlidingWindowInferer([8, 8], overlap: 0.5));
        card.Output.Should().Be("sigmoid");
        card.ImageSize.Should().BeNull();
        var path = Path.Combine(_folder, "vessels.safetensors");
        SegmentationModelFile.Save(path, grey, card);
        using var predictor = ImageSegmentationPredictor.Load(path);
        var map = predictor.Predict(image);
        map.Width.Should().Be(13);

        // The same as the sliding window over the grey image by hand, foreground where the logit is positive.
        grey.Eval();
        float[] logits;
        using (var noGrad = Tensors.NoGrad())
        using (var scope = Tensors.NewDisposeScope())
            logits = new SlidingWindowInferer([8, 8], overlap: 0.5).Infer(Tensors.FromArray(prepared.Data, 1, 1, 11, 13), grey).ToArray<float>();
        map.Labels.ToArray().Should().Equal(logits.Select(v => v > 0 ? 1 : 0));
        logits.Should().Contain(v => v > 0).And.Contain(v => v < 0);
    }

    [Fact]
    public void WrongFilesAndInputs_AreRefusedByName()
    {
        using var flat = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8).WithClasses(2).Build();
        var volumePath = Path.Combine(_folder, "volume.safetensors");
        SegmentationModelFile.Save(volumePath, flat, SegmentationModelFile.Describe(flat, new NiftiSegmentationOptions(), ["a", "b"], new SlidingWindowInferer([8, 8, 8])));
        var act = () => ImageSegmentationPredictor.Load(volumePath);
        act.Should().Throw<ModelFormatException>().WithMessage("*volume.safetensors holds a 3-D U-Net; segment scans with SegmentationPredictor.Load*");

        using var model = Network();
        var imagePath = Path.Combine(_folder, "image.safetensors");
        SegmentationModelFile.Save(imagePath, model, SegmentationModelFile.Describe(model, Options, Classes, new SlidingWindowInferer([16, 16])));
        var scans = () => SegmentationPredictor.Load(imagePath);
        scans.Should().Throw<ModelFormatException>().WithMessage("*image.safetensors holds a 2-D U-Net; segment images with ImageSegmentationPredictor.Load*");

        var describe = () => SegmentationModelFile.Describe(model, new ImageSegmentationOptions { Channels = 1 }, Classes, new SlidingWindowInferer([16, 16]));
        describe.Should().Throw<ArgumentException>().WithMessage("*takes 3 channel(s) but the images are prepared with 1*");
        var names = () => new ImageSegmentationPredictor(model, Options, new SlidingWindowInferer([16, 16]), ["background", "disc"]).Predict(Fundus(3));
        names.Should().Throw<ArgumentException>().WithMessage("*gave 3 classes*but 2 class names*");
        var window = () => new ImageSegmentationPredictor(model, Options, new SlidingWindowInferer([16, 16, 16]), Classes);
        window.Should().Throw<ArgumentException>().WithMessage("*window needs two sizes*");
        var options = () => new ImageSegmentationPredictor(model, new ImageSegmentationOptions { Channels = 2 }, new SlidingWindowInferer([16, 16]), Classes);
        options.Should().Throw<ArgumentException>().WithMessage("*1 (grey) or 3 (RGB) channels, not 2*");

        using var predictor = ImageSegmentationPredictor.Load(imagePath);
        var garbage = Path.Combine(_folder, "garbage.png");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5]);
        var decode = () => predictor.Predict(garbage);
        decode.Should().Throw<DataFormatException>().WithMessage("*garbage.png*");
        predictor.Dispose();
        var disposed = () => predictor.Predict(Fundus(3));
        disposed.Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void OnePredictor_ServesManyThreads_WithTheSerialResults()
    {
        Tensors.ManualSeed(13);
        using var model = Network();
        var path = Path.Combine(_folder, "threads.safetensors");
        SegmentationModelFile.Save(path, model, SegmentationModelFile.Describe(model, Options, Classes, new SlidingWindowInferer([16, 16])));
        using var predictor = ImageSegmentationPredictor.Load(path);
        predictor.Flips = TestTimeFlips.Horizontal | TestTimeFlips.Vertical;
        predictor.KeepLargestComponent = true;
        var images = Enumerable.Range(0, 8).Select(i => Fundus(i)).ToArray();
        var serial = images.Select(i => predictor.Predict(i).Labels.ToArray()).ToArray();
        serial.Select(v => string.Join(",", v)).Distinct().Count().Should().BeGreaterThan(4, "different images, so a mix-up between threads would show");

        static long SettledLiveTensors() { NativeHeap.Settle(); return Tensors.LiveTensors; }
        var liveBefore = SettledLiveTensors();
        int mismatches = 0;
        Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, t =>
        {
            for (int i = 0; i < 100; i++)
            {
                int index = (t * 3 + i) % images.Length;
                if (!predictor.Predict(images[index]).Labels.ToArray().SequenceEqual(serial[index])) Interlocked.Increment(ref mismatches);
            }
        });
        mismatches.Should().Be(0);
        SettledLiveTensors().Should().Be(liveBefore);
    }

    [Fact]
    public void Ensembles_AverageTheMembersProbabilities_AndRefuseMembersThatDoNotFit()
    {
        // Two members of different architectures (the ensemble shares preparation, window and classes, not networks).
        var paths = new List<string>();
        foreach (var (seed, features) in new[] { (31, new[] { 4, 8 }), (32, new[] { 6, 12, 24 }) })
        {
            Tensors.ManualSeed((ulong)seed);
            using var member = UNet.Builder().ForInput(3, 2).WithFeatures(features).WithInstanceNorm().WithClasses(3).Build();
            var path = Path.Combine(_folder, $"member{seed}.safetensors");
            SegmentationModelFile.Save(path, member, SegmentationModelFile.Describe(member, Options, Classes, new SlidingWindowInferer([16, 16])));
            paths.Add(path);
        }
        var image = Fundus(5, width: 16, height: 16);   // the prepared size: probabilities and labels on one grid
        using var first = ImageSegmentationPredictor.Load(paths[0]);
        using var second = ImageSegmentationPredictor.Load(paths[1]);
        using var ensemble = ImageSegmentationPredictor.LoadEnsemble(paths);
        ensemble.EnsembleSize.Should().Be(2);
        first.EnsembleSize.Should().Be(1);
        var a = first.PredictProbabilities(image);
        var b = second.PredictProbabilities(image);
        var mean = ensemble.PredictProbabilities(image);
        for (int k = 0; k < 3; k++)
            mean[k].Select(v => (double)v).Should().Equal(a[k].Zip(b[k], (x, y) => (x + y) / 2.0), (x, y) => Math.Abs(x - y) < 1e-5, $"class {k}: the members' mean");
        a[1].Zip(b[1], (x, y) => Math.Abs(x - y)).Max().Should().BeGreaterThan(0.01f, "the members differ, so the mean is not either of them");
        var labels = ensemble.Predict(image).Labels.ToArray();
        labels.Should().Equal(SegmentationInference.ArgMax(mean.ToArray()), "the arg-max of the mean");

        // A member with other classes, another window or a 3-D network is refused by name.
        Tensors.ManualSeed(33);
        using var other = UNet.Builder().ForInput(3, 2).WithFeatures(4, 8).WithClasses(2).Build();
        var otherPath = Path.Combine(_folder, "other.safetensors");
        SegmentationModelFile.Save(otherPath, other, SegmentationModelFile.Describe(other, Options, ["background", "vessel"], new SlidingWindowInferer([8, 8])));
        var act = () => ImageSegmentationPredictor.LoadEnsemble([paths[0], otherPath]);
        act.Should().Throw<ModelFormatException>().WithMessage("*other.safetensors cannot join an ensemble with*member31.safetensors: its class_names, window_size differ*");
        var rescaled = Path.Combine(_folder, "rescaled.safetensors");
        using (var member = UNet.Builder().ForInput(3, 2).WithFeatures(4, 8).WithClasses(3).Build())
            SegmentationModelFile.Save(rescaled, member, SegmentationModelFile.Describe(member, new ImageSegmentationOptions { Size = (16, 16) }, Classes, new SlidingWindowInferer([16, 16])));
        act = () => ImageSegmentationPredictor.LoadEnsemble([paths[0], rescaled]);
        act.Should().Throw<ModelFormatException>().WithMessage("*rescaled.safetensors cannot join*its mean, std differ*");
        act = () => ImageSegmentationPredictor.LoadEnsemble([]);
        act.Should().Throw<ArgumentException>().WithMessage("*at least one model file*");
    }

    [Fact]
    public void Maps_AreWrittenAsMasksTheFolderSourceReadsBack_AndDrawnOverTheirImage()
    {
        int[] labels = [0, 1, 1, 2, 0, 0, 2, 2, 1, 0, 0, 0];
        var map = new SegmentationMap(labels, 3, 4, Classes);
        map[1, 2].Should().Be(2);
        map.PixelCount(2).Should().Be(3);
        map.MaskOf(1).Count(v => v).Should().Be(3);
        var outside = () => map[3, 0];
        outside.Should().Throw<ArgumentOutOfRangeException>();
        var badClass = () => map.PixelCount(3);
        badClass.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Classes are 0 to 2 (background, disc, cup)*");
        var badLabel = () => new SegmentationMap([0, 5], 1, 2, Classes);
        badLabel.Should().Throw<ArgumentException>().WithMessage("*label 5 at pixel (1, 0) is not a class*");

        // Written as class indices and read back by the folder source: the same labels.
        var images = Directory.CreateDirectory(Path.Combine(_folder, "images")).FullName;
        var masks = Directory.CreateDirectory(Path.Combine(_folder, "masks")).FullName;
        ImageCodec.Save(Path.Combine(images, "a.png"), new RasterImage(4, 3, 1, new byte[12]));
        map.Save(Path.Combine(masks, "a.png"));
        ImageMaskFolderSource.FromFolders(images, masks, Classes).Load(0).Labels.Data.Should().Equal(labels.Select(v => (float)v));
        var jpeg = () => map.Save(Path.Combine(masks, "a.jpg"));
        jpeg.Should().Throw<ArgumentException>().WithMessage("*masks are written as .png*");
        var binary = () => map.ToImage(MaskEncoding.Binary);
        binary.Should().Throw<InvalidOperationException>().WithMessage("*two classes; this map has 3*");
        new SegmentationMap([0, 1, 1, 0], 2, 2, ["background", "vessel"]).ToImage(MaskEncoding.Binary).Pixels.Should().Equal(0, 255, 255, 0);

        // The overlay tints structures and leaves the background as it is.
        var grey = new RasterImage(4, 3, 1, Enumerable.Repeat((byte)100, 12).ToArray());
        var overlay = map.Overlay(grey, opacity: 1);
        overlay.Channels.Should().Be(3);
        overlay.Pixels.AsSpan(0, 3).ToArray().Should().Equal(100, 100, 100);
        overlay.Pixels.AsSpan(3, 3).ToArray().Should().Equal(230, 25, 75);
        overlay.Pixels.AsSpan(9, 3).ToArray().Should().Equal(60, 180, 75);
        map.Overlay(grey, opacity: 0.5).Pixels.AsSpan(3, 3).ToArray().Should().Equal(165, 63, 88);
        var size = () => map.Overlay(new RasterImage(3, 4, 1, new byte[12]));
        size.Should().Throw<ArgumentException>().WithMessage("*3×4 pixels; the map 4×3*");
    }

    [Fact]
    public void TheFolderSource_PreparesImagesAsThePredictorDoes()
    {
        var images = Directory.CreateDirectory(Path.Combine(_folder, "images")).FullName;
        var masks = Directory.CreateDirectory(Path.Combine(_folder, "masks")).FullName;
        var image = Fundus(4);
        ImageCodec.Save(Path.Combine(images, "f.png"), image);
        ImageCodec.Save(Path.Combine(masks, "f.png"), new RasterImage(20, 14, 1, new byte[280]));
        var source = ImageMaskFolderSource.FromFolders(images, masks, Classes, Options);
        source.Options.Should().BeSameAs(Options);
        var sample = source.Load(0);
        sample.Image.Data.Should().Equal(Options.Prepare(image).Data);
        sample.Image.Shape.Should().Equal(3, 16, 16);
        sample.Labels.Shape.Should().Equal(1, 16, 16);
        sample.Image.Data.Should().NotEqual(new ImageSegmentationOptions { Channels = 3, Size = (16, 16) }.Prepare(image).Data, "the mean and standard deviation were applied");
        var mismatch = () => ImageMaskFolderSource.FromFolders(images, masks, Classes, new ImageSegmentationOptions { Channels = 1, Normalization = new Normalize([0.5f, 0.5f, 0.5f], [1f, 1f, 1f]) });
        mismatch.Should().Throw<ArgumentException>().WithMessage("*3 means for 1-channel images*");
    }
}
