using System.Text.RegularExpressions;
using MedVision.Nets.Blocks;
using MedVision.Nets.Data.Dicom;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Quality;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Metrics.Conformal;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Nets.Metrics.Selective;
using MedVision.Nets.Models;
using MedVision.Nets.Plotting;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.TensorBoard;

namespace MedVision.Nets.Tests.Docs;

/// <summary>
/// The complete code examples of docs/guide.md. Each example is the region between <c>// snippet: name</c> and
/// <c>// end snippet</c> below; <see cref="GuideHoldsEverySnippetVerbatim"/> checks that the guide contains each one
/// exactly (after removing the indentation), so the guide cannot drift from code that compiles and runs.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class GuideExamplesTests
{
    [Fact]
    public void ResNetBuilderExample()
    {
        // snippet: resnet-builder
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(0);
        using var resnet = ResNet.Builder()
            .WithDepth(18)                 // 18, 34, 50, 101 or 152
            .ForInput(channels: 3)         // spatialDims: 3 for volumes (N, C, D, H, W)
            .WithSmallInputStem()          // 3×3 stem without max pool, for 28×28 images
            .WithClasses(5)
            .Build();
        var logits = resnet.Call(Tensors.Randn(2, 3, 28, 28));
        Console.WriteLine($"{resnet.ParameterCount():N0} parameters, logits [{string.Join(", ", logits.Shape)}]");
        // end snippet
        logits.Shape.Should().Equal(2, 5);
    }

    [Fact]
    public void CoralHeadExample()
    {
        var output = Directory.CreateTempSubdirectory("mvn-guide-coral-").FullName;
        try
        {
            // snippet: coral-head
            var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
            var scale = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build();
            var train = new DataLoader(new SubsetSource(new MedMnistImageSource(data.Train), Enumerable.Range(0, 256).ToArray()),
                new DataLoaderOptions { BatchSize = 64, Shuffle = true, Seed = 0, Transform = scale });
            var validation = new DataLoader(new MedMnistImageSource(data.Validation), new DataLoaderOptions { BatchSize = 64, Transform = scale });

            Tensors.ManualSeed(0);
            using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(3).WithSmallInputStem()
                .WithClasses(5)                // five grades …
                .WithCoralHead()               // … ranked by one score and 4 ordered thresholds: logits (N, 4)
                .Build();
            var result = Trainer.Create(new CoralTask(model))   // CORAL loss; validated on the grades' probabilities
                .TrainOn(train).ValidateOn(validation).UseAdam(3e-3).ForEpochs(2).Build().Run();

            var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = [28, 28], Channels = 3, Mean = [0.5f], Std = [0.5f] },
                data.Info!.ClassNames, MedMnistTask.OrdinalRegression);
            ModelFile.Save(Path.Combine(output, "coral.safetensors"), model, card);   // "head": "coral", card format 9
            using var predictor = Predictor.Load(Path.Combine(output, "coral.safetensors"));
            var prediction = predictor.PredictPixels(data.Test.GetImage(0).ToArray(), 28, 28, 3);
            Console.WriteLine($"val AUC {result.Validation.Auc:F3}; grade {prediction.Grade}, expected grade {prediction.ExpectedGrade:F2}, "
                + $"P = [{string.Join(", ", prediction.Probabilities.Select(p => p.ToString("F3")))}]");
            // end snippet
            prediction.Probabilities.Should().HaveCount(5);
            prediction.Probabilities.Sum().Should().BeApproximately(1f, 1e-5f);
            prediction.Grade.Should().Be(prediction.Label);
            card.FormatVersion.Should().Be(9);
            result.Validation.Auc.Should().BeInRange(0, 1);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void MedicalNetExample()
    {
        // A small checkpoint written as MedicalNet's training writes them (Fixtures/make_medicalnet_fixture.py).
        var medicalNetFile = MedVision.Nets.Tests.Models.TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth");
        // snippet: medicalnet
        using var scope = Tensors.NewDisposeScope();
        // resnet_18_23dataset.pth and the others from MedicalNet's release; depth, widths and shortcut come from the file.
        using var model = MedicalNet.CreateModel(medicalNetFile, numClasses: 2);
        Console.WriteLine(model.Summary(1, 1, 32, 32, 32));
        // Or the architecture alone, e.g. to train from scratch with MedicalNet's layout:
        using var fresh = MedicalNet.CreateBuilder(depth: 50).WithClasses(2).Build();
        // Four co-registered modalities (T1, T1ce, T2, FLAIR), one per channel: the one-channel stem is adapted.
        using var multiModal = MedicalNet.CreateModel(medicalNetFile, numClasses: 2, inputChannels: 4);
        // end snippet
        model.Options.Shortcut.Should().Be(ResidualShortcut.ZeroPadding);
        fresh.Options.StageDilations.Should().Equal(1, 1, 2, 4);
        multiModal.Options.InChannels.Should().Be(4);
    }

    [Fact]
    public void MedicalNetPreparationExample()
    {
        // Class folders of the library's brain phantoms without noise (a zero background outside the head).
        var output = Directory.CreateTempSubdirectory("mvn-guide-volumes-").FullName;
        try
        {
            var volumeFolder = Path.Combine(output, "volumes");
            foreach (var subject in new PhantomGenerator(size: 24, seed: 1, noise: 0).Generate(0, 4))
            {
                var folder = Directory.CreateDirectory(Path.Combine(volumeFolder, subject.Label == 1 ? "lesion" : "healthy")).FullName;
                NiftiWriter.Write(Path.Combine(folder, $"s{subject.Index}.nii.gz"), new NiftiImage(subject.Mri, new[] { 24, 24, 24 }));
            }
            var medicalNetFile = MedVision.Nets.Tests.Models.TestFixtures.PathOf("medicalnet_tiny_resnet18a.pth");
            var modelPath = Path.Combine(output, "model.safetensors");
            // snippet: medicalnet-preparation
            // Each volume cropped to its non-zero voxels, resampled to 32³ and mapped to [0, 1], then normalised over its
            // non-zero voxels: MedicalNet's preparation of its training volumes.
            var source = VolumeFolderSource.FromSubfolders(volumeFolder, 32, 32, 32, cropForeground: new CropForeground(threshold: 0));
            var normalize = TransformPipeline.Create().NormalizeIntensity(nonZero: true).Build();
            var loader = new DataLoader(source, new DataLoaderOptions { BatchSize = 2, Shuffle = true, Transform = normalize });
            using var model = MedicalNet.CreateModel(medicalNetFile, numClasses: source.ClassNames.Count);
            // … fine-tune with Trainer.Create(new ClassificationTask(model, MedMnistTask.Binary)).TrainOn(loader) …
            // The source's size, orientation and crop, with the transform's normalisation: the predictor prepares scans alike.
            var preprocessing = source.DescribePreprocessing(mean: [0f], std: [1f],
                intensityNormalization: new IntensityNormalizationCard { NonZero = true });
            ModelFile.Save(modelPath, model, ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary));
            using var predictor = Predictor.Load(modelPath);                  // prepares scans as training did
            var prediction = predictor.PredictFile(source.Samples[0].Path);   // a .nii.gz file or a DICOM series folder
            // end snippet
            ModelFile.ReadCard(modelPath).FormatVersion.Should().Be(3);
            loader.Options.BatchSize.Should().Be(2);
            var box = new CropForeground(0).FindBox(source.ReadVolume(0).ToFloatImage())!.Value;
            Enumerable.Range(0, 3).Select(axis => box.End[axis] - box.Start[axis]).Should().Contain(n => n < 24, "the phantom's zero background is cropped away");
            var (image, _) = source.Load(0);
            image.Shape.Should().Equal(1, 32, 32, 32);
            model.Eval();
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var expected = model.Call(Tensors.FromArray(normalize.Apply(image, new Random(0)).Data, 1, 1, 32, 32, 32)).Softmax(1).ToArray<float>();
            prediction.Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-5);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void ImageFolderModelExample()
    {
        var output = Directory.CreateTempSubdirectory("mvn-guide-photos-").FullName;
        try
        {
            // Two classes of 90×70 noisy photographs (brighter ones are class "b").
            var photoFolder = Path.Combine(output, "photos");
            var rng = new Random(5);
            for (int i = 0; i < 4; i++)
            {
                var folder = Directory.CreateDirectory(Path.Combine(photoFolder, i % 2 == 0 ? "a" : "b")).FullName;
                var pixels = new byte[90 * 70 * 3];
                for (int j = 0; j < pixels.Length; j++) pixels[j] = (byte)Math.Clamp(rng.Next(0, 160) + (i % 2 * 90), 0, 255);
                ImageCodec.Save(Path.Combine(folder, $"eye{i}.png"), new RasterImage(90, 70, 3, pixels));
            }
            var modelPath = Path.Combine(output, "model.safetensors");
            Tensors.ManualSeed(2);
            // snippet: image-folder-model
            // Photographs in class folders, decoded and resized to 64×64; ImageNet's normalisation after that.
            var dataset = ImageFolderDataset.FromSubfolders(photoFolder);
            var source = new ImageFolderSource(dataset, width: 64, height: 64);
            float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
            var loader = new DataLoader(source, new DataLoaderOptions { BatchSize = 16, Shuffle = true, Transform = TransformPipeline.Create().Normalize(mean, std).Build() });
            using var model = ResNet.Builder().WithDepth(18).ForInput(channels: 3).WithImageNetStem().WithClasses(dataset.ClassNames.Count).Build();
            // … Trainer.Create(new ClassificationTask(model, MedMnistTask.Binary)).TrainOn(loader) …
            // The source's size, channels and 8-bit resizing, with the pipeline's normalisation: the predictor prepares photographs alike.
            ModelFile.Save(modelPath, model, ModelFile.Describe(model, source.DescribePreprocessing(mean, std), dataset.ClassNames, MedMnistTask.Binary));
            using var predictor = Predictor.Load(modelPath);
            var prediction = predictor.PredictFile(dataset.Samples[0].FilePath);   // the probability its training copy gets
            // end snippet
            dataset.ClassNames.Should().Equal("a", "b");
            loader.Options.BatchSize.Should().Be(16);
            // The network on the training copy: the source's image, normalised as the loader's transform normalises it.
            var (image, _) = source.Load(0);
            var normalized = new Normalize(mean, std).Apply(image, new Random(0));
            model.Eval();
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            var expected = model.Call(Tensors.FromArray(normalized.Data, 1, 3, 64, 64)).Softmax(1).ToArray<float>();
            prediction.Probabilities.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void VolumeExplanationExample()
    {
        var output = Directory.CreateTempSubdirectory("mvn-guide-cam-").FullName;
        try
        {
            var subject = new PhantomGenerator(size: 16, seed: 4).Generate(0, 1)[0];
            var affine = new NiftiAffine(new double[,] { { -1.5, 0, 0, 12 }, { 0, -1.5, 0, 12 }, { 0, 0, 1.5, -12 } });
            var scanPath = Path.Combine(output, "sub-01.nii.gz");
            NiftiWriter.Write(scanPath, new NiftiImage(subject.Mri, new[] { 16, 16, 16 }, null, NiftiDataType.Float32, affine));
            Tensors.ManualSeed(1);
            var modelPath = Path.Combine(output, "model.safetensors");
            using (var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(channels: 1, spatialDims: 3).WithClasses(2).Build())
                ModelFile.Save(modelPath, model, ModelFile.Describe(model, new PreprocessingCard { InputSize = [8, 8, 8], Channels = 1, Mean = [0.5f], Std = [0.5f], Orientation = "RAS" }, ["CN", "AD"], MedMnistTask.Binary));
            using var predictor = Predictor.Load(modelPath);
            // snippet: volume-explanation
            var explanation = predictor.ExplainFile(scanPath);   // a 3-D model's prediction and Grad-CAM of the predicted class
            var map = explanation.ToSourceVolume();              // on the scan's own grid (shape and affine), values in [0, 1]
            NiftiWriter.Write(Path.Combine(output, "sub-01.cam.nii.gz"), map);   // overlay it on the scan in a viewer
            // end snippet
            var written = NiftiReader.Read(Path.Combine(output, "sub-01.cam.nii.gz"));
            written.Shape.Should().Equal(16, 16, 16);
            written.Affine.Should().Be(NiftiReader.Read(scanPath).Affine);
            written.Orientation.Should().Be("LPS", "the map lies on the scan's grid, not on the RAS input's");
            explanation.ToInputVolume().Orientation.Should().Be("RAS");
            written.Voxels.Should().OnlyContain(v => v >= 0 && v <= 1.000001f);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void PhysicalScaleExample()
    {
        // Subject folders whose two modalities lie on different grids: a 1 mm T1 and a 2 mm PET over twice the field of view.
        var output = Directory.CreateTempSubdirectory("mvn-guide-spacing-").FullName;
        try
        {
            var root = Path.Combine(output, "subjects");
            var t1Affine = new NiftiAffine(new double[,] { { 1, 0, 0, -7.5 }, { 0, 1, 0, -7.5 }, { 0, 0, 1, -7.5 } });
            var petAffine = new NiftiAffine(new double[,] { { 2, 0, 0, -15 }, { 0, 2, 0, -15 }, { 0, 0, 2, -15 } });
            foreach (var subject in new PhantomGenerator(size: 16, seed: 3).Generate(0, 4))
            {
                string name = $"sub-{subject.Index:D2}", label = subject.Label == 1 ? "AD" : "CN";
                var folder = Directory.CreateDirectory(Path.Combine(root, label, name)).FullName;
                NiftiWriter.Write(Path.Combine(folder, "t1.nii.gz"), new NiftiImage(subject.Mri, new[] { 16, 16, 16 }, null, NiftiDataType.Float32, t1Affine));
                NiftiWriter.Write(Path.Combine(folder, "pet.nii.gz"), new NiftiImage(subject.Pet, new[] { 16, 16, 16 }, null, NiftiDataType.Float32, petAffine));
            }
            // snippet: physical-scale
            // Reoriented to RAS (the default), 1.5 mm voxels, the PET resampled onto the T1's grid, center-cropped or padded
            // to 12³ (no stretching); FromSubfolders(root, 12, 12, 12, modalities: …, spacing: …) takes the same options.
            var source = VolumeFolderSource.Builder(root)
                .WithModalities("t1", "pet")
                .ResampleToSpacing(1.5f, 1.5f, 1.5f)
                .AlignModalities()
                .CropOrPadTo(12, 12, 12)
                .Build();
            var preprocessing = source.DescribePreprocessing(mean: [0.5f], std: [0.5f]);   // spacing, alignment and fit included
            // The same steps by hand, on volumes in memory:
            var t1 = NiftiReader.Read(Path.Combine(source.Samples[0].Path, "t1.nii.gz")).Reorient("RAS").Resample([1.5f, 1.5f, 1.5f]);
            var pet = NiftiReader.Read(Path.Combine(source.Samples[0].Path, "pet.nii.gz")).Reorient("RAS").ResampleTo(t1);
            // end snippet
            pet.Shape.Should().Equal(t1.Shape);
            t1.Shape.Should().Equal(11, 11, 11);
            var (image, _) = source.Load(0);
            image.Shape.Should().Equal(2, 12, 12, 12);
            var expected = new ResizeWithPadOrCrop(12, 12, 12).Apply(new FloatImage(t1.Voxels.Concat(pet.Voxels).ToArray(), 2, 11, 11, 11), new Random(0));
            float lo = expected.Data.Min(), hi = expected.Data.Max();
            image.Data.Should().Equal(expected.Data.Select(v => (v - lo) / (hi - lo)), (a, e) => Math.Abs(a - e) < 1e-5);
            Tensors.ManualSeed(0);
            using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(channels: 2, spatialDims: 3).WithClasses(2).Build();
            var card = ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary);
            card.FormatVersion.Should().Be(5);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void SubjectFoldersExample()
    {
        // BraTS-like subject folders of the library's brain phantoms: <class>/<subject>/<subject>_<modality>.nii.gz.
        var output = Directory.CreateTempSubdirectory("mvn-guide-subjects-").FullName;
        try
        {
            var root = Path.Combine(output, "subjects");
            foreach (var subject in new PhantomGenerator(size: 16, seed: 2).Generate(0, 4))
            {
                string name = $"BraTS_{subject.Index:D3}", label = subject.Label == 1 ? "hgg" : "lgg";
                var folder = Directory.CreateDirectory(Path.Combine(root, label, name)).FullName;
                NiftiWriter.Write(Path.Combine(folder, $"{name}_flair.nii.gz"), new NiftiImage(subject.Mri, new[] { 16, 16, 16 }));
                NiftiWriter.Write(Path.Combine(folder, $"{name}_t1.nii.gz"), new NiftiImage(subject.Pet, new[] { 16, 16, 16 }));
            }
            var modelPath = Path.Combine(output, "model.safetensors");
            // snippet: subject-folders
            // One sample per subject folder, one channel per modality (a file or DICOM series each), in this order.
            var source = VolumeFolderSource.FromSubfolders(root, 16, 16, 16, modalities: new[] { "flair", "t1" });
            using var model = ResNet.Builder().WithDepth(18).ForInput(channels: source.Channels, spatialDims: 3)
                .WithClasses(source.ClassNames.Count).Build();
            // … train on new DataLoader(source, …) …
            var preprocessing = source.DescribePreprocessing(mean: [0.5f, 0.5f], std: [0.5f, 0.5f]);   // size, orientation, modalities (the channels' order)
            ModelFile.Save(modelPath, model, ModelFile.Describe(model, preprocessing, source.ClassNames, MedMnistTask.Binary));
            using var predictor = Predictor.Load(modelPath);
            var prediction = predictor.PredictFile(source.Samples[0].Path);   // a subject folder
            // end snippet
            source.Channels.Should().Be(2);
            ModelFile.ReadCard(modelPath).FormatVersion.Should().Be(4);
            var (image, _) = source.Load(0);
            image.Shape.Should().Equal(2, 16, 16, 16);
            prediction.Probabilities.Should().Equal(predictor.Predict(image).Probabilities, (a, e) => Math.Abs(a - e) < 1e-5);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void MtcsnnBuilderExample()
    {
        // snippet: mtcsnn-builder
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(0);
        using var mtcsnn = Mtcsnn.Builder()
            .WithBackbone(b => b.WithDepth(18).ForInput(channels: 3).WithSmallInputStem())
            .WithClasses(5)
            .WithDifferenceWeight(0.5)     // λ of the pair-difference term
            .Build();
        var images = Tensors.Randn(4, 3, 28, 28);
        var grades = Tensors.FromArray(new long[] { 0, 2, 4, 1 });
        var loss = mtcsnn.ComputeLoss(images, grades);     // image i is paired with image i + 2
        loss.Total.Backward();
        Console.WriteLine($"cross-entropy {loss.Classification.Item():F3} + 0.5 × difference MSE {loss.Difference.Item():F3}");
        // end snippet
        loss.PairCount.Should().Be(2);
        loss.Total.Item().Should().BeApproximately(loss.Classification.Item() + 0.5 * loss.Difference.Item(), 1e-4);
    }

    [Fact]
    public void CdsfBuilderExample()
    {
        // snippet: cdsf-builder
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(0);
        using var cdsf = Cdsf.Builder()
            .ForVolume(36, 36, 36)         // each axis divisible by 4 and at least 33
            .WithClasses(2)
            .WithResidualBlocks(2)         // the paper uses 6
            .Build();
        using var trainer = CdsfTrainer.For(cdsf)
            .WithLearningRates(synthesis: 2e-4, diagnosis: 1e-3)
            .WithLossWeights(voxel: 1, feature: 1, classification: 0.1)
            .Build();

        // Two seeded phantoms (label 0 and 1), intensities mapped from [0, 1] to the ISM's tanh range [−1, 1].
        var phantoms = new PhantomGenerator(size: 36, seed: 0).Generate(0, 2);
        Tensor Volumes(Func<PhantomSubject, float[]> modality) =>
            Tensors.FromArray(phantoms.SelectMany(modality).Select(v => v * 2 - 1).ToArray(), 2, 1, 36, 36, 36);
        var mri = Volumes(p => p.Mri);
        var pet = Volumes(p => p.Pet);
        var labels = Tensors.FromArray(phantoms.Select(p => (long)p.Label).ToArray());

        var losses = trainer.Step(mri, pet, labels);       // updates the MDM, then the ISM
        cdsf.Eval();
        using var noGrad = Tensors.NoGrad();
        var withPet = cdsf.Diagnose(mri, pet);             // (N, 2) probabilities
        var withoutPet = cdsf.Diagnose(mri);               // PET missing: synthesised first
        Console.WriteLine($"voxel L1 {losses.Voxel:F3}; P(lesion) {withPet[1, 1].Item():F3} with PET, {withoutPet[1, 1].Item():F3} without");
        // end snippet
        withPet.Shape.Should().Equal(2, 2);
        withoutPet.Shape.Should().Equal(2, 2);
        double.IsFinite(losses.SynthesisTotal).Should().BeTrue();
    }

    [Fact]
    public void TransformPipelineExample()
    {
        // snippet: transform-pipeline
        var augment = TransformPipeline.Create()
            .RandomHorizontalFlip()
            .RandomRotation(15)            // degrees
            .ColorJitter(brightness: 0.2, contrast: 0.2)
            .Normalize(0.5f, 0.5f)         // [0, 1] → [−1, 1]
            .Build();
        var image = new FloatImage(new float[3 * 28 * 28], 3, 28, 28);   // channels-first, values in [0, 1]
        var augmented = augment.Apply(image, new Random(42));
        // end snippet
        augmented.Shape.Should().Equal(3, 28, 28);
    }

    [Fact]
    public void MriAugmentationExample()
    {
        // snippet: mri-augmentation
        var mriAugment = TransformPipeline.Create()
            .RandomAffine(degrees: 10, scale: 0.1, probability: 0.5)
            .RandomBiasField()                          // degree 3, coefficients from [0, 0.1], probability 0.1
            .RandomAdjustContrast(gammaMin: 0.7, gammaMax: 1.5)
            .RandomGaussianSmooth()
            .RandomIntensityShift(0.1)
            .RandomRicianNoise(std: 0.05)               // magnitude MR images have Rician, not Gaussian, noise
            .RandomGibbsNoise(alphaMax: 0.6)            // ringing of a truncated k-space
            .RandomSimulateLowResolution()              // thicker slices: shrunk by 0.5–1, brought back
            .Build();
        // end snippet
        mriAugment.Steps.Should().HaveCount(8);
        var volume = new FloatImage(Enumerable.Range(0, 8 * 8 * 8).Select(i => (i % 13) / 13f).ToArray(), 1, 8, 8, 8);
        int changed = Enumerable.Range(0, 50).Count(i => !mriAugment.Apply(volume.Clone(), i, epoch: 0, index: 0).Data.SequenceEqual(volume.Data));
        changed.Should().BeGreaterThan(25, "the affine step alone applies half of the time");
    }

    [Fact]
    public void LossCompositeExample()
    {
        // snippet: loss-composite
        using var scope = Tensors.NewDisposeScope();
        var loss = LossComposite.For<(Tensor Logits, Tensor Labels, Tensor Scores, Tensor Targets)>()
            .Add("cross_entropy", o => Functional.CrossEntropy(o.Logits, o.Labels))
            .AddWithWarmUp("mse", o => Functional.MseLoss(o.Scores, o.Targets), weight: 0.5, warmUpEpochs: 4)
            .Build();
        loss.Epoch = 1;                    // the 2nd of 4 warm-up epochs: the mse weight is 0.5 × 2/4 = 0.25
        var value = loss.Compute((
            Tensors.FromArray(new float[] { 2, 0, 0, 1 }, 2, 2),
            Tensors.FromArray(new long[] { 0, 1 }),
            Tensors.FromArray(new float[] { 0.5f, 1.5f }),
            Tensors.FromArray(new float[] { 0, 2 })));
        Console.WriteLine($"total {value.Total.Item():F4} = {string.Join(" + ", value.Terms.Select(t => $"{value.Weights[t.Key]} × {t.Key} {t.Value:F4}"))}");
        // end snippet
        value.Terms["mse"].Should().BeApproximately(0.25, 1e-6);
        value.Weights["mse"].Should().Be(0.25);
        value.Total.Item().Should().BeApproximately(value.Terms["cross_entropy"] + value.Weights["mse"] * 0.25, 1e-5);
    }

    [Fact]
    public void AutocastExample()
    {
        // snippet: autocast
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(0);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        using var optimizer = new Adam(model.Parameters(), 1e-3);
        var images = Tensors.Randn(16, 3, 28, 28);
        var labels = Tensors.RandInt(0, 5, new long[] { 16 });
        Tensor loss;
        using (Tensors.Autocast())         // bfloat16 on the CPU; Tensors.Autocast(DeviceType.Cuda) on a GPU
            loss = Functional.CrossEntropy(model.Call(images), labels);
        loss.Backward();                   // after the region; gradients are float32, like the weights
        optimizer.Step();
        Console.WriteLine($"loss {loss.Item():F3} ({loss.ScalarType}); weights {model.Parameters().First().ScalarType}");
        // end snippet
        loss.ScalarType.Should().Be(ScalarType.Float32);
        double.IsFinite(loss.Item()).Should().BeTrue();
        model.Parameters().Should().OnlyContain(p => p.ScalarType == ScalarType.Float32);
        Tensors.AutocastState().Enabled.Should().BeFalse();
    }

    [Fact]
    public void VisionTransformerExample()
    {
        var modelPath = Path.Combine(Path.GetTempPath(), "mvn-guide-vit-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            // snippet: vit
            Tensors.ManualSeed(0);
            using var model = VisionTransformer.Builder()
                .ForInput(channels: 3)
                .WithImageSize(28).WithPatchSize(4)     // 49 patches and a class token
                .WithHiddenSize(64).WithLayers(4).WithHeads(4).WithMlpDim(128)   // or .Tiny(), .Small(), .Base()
                .WithClasses(5)
                .Build();
            Console.WriteLine(model.Summary(1, 3, 28, 28));   // layers, parameters, multiply-adds (attention included)
            using var scope = Tensors.NewDisposeScope();
            var logits = model.Call(Tensors.Randn(8, 3, 28, 28));               // (8, 5)
            var tokens = model.Tokens(Tensors.Randn(2, 3, 28, 28));              // (2, 50, 64)
            model.Eval();
            using var maps = new AttentionRollout(model).Compute(Tensors.Randn(2, 3, 28, 28)); // (2, 1, 28, 28) in [0, 1]
            using var perClass = new GradientAttentionRollout(model).Compute(Tensors.Randn(2, 3, 28, 28), [1, 4]); // classes 1, 4
            var preprocessing = new PreprocessingCard { InputSize = [28, 28], Channels = 3, Mean = [0.5f], Std = [0.5f] };
            ModelFile.Save(modelPath, model, ModelFile.Describe(model, preprocessing, ["0", "1", "2", "3", "4"], MedMnistTask.OrdinalRegression));
            using var predictor = Predictor.Load(modelPath);                    // rebuilt from the card ("vit")
            var explanation = predictor.Explain(new FloatImage(new float[3 * 28 * 28], 3, 28, 28), CamMethod.AttentionRollout);
            // end snippet
            logits.Shape.Should().Equal(8, 5);
            tokens.Shape.Should().Equal(2, 50, 64);
            maps.Maps.Shape.Should().Equal(2, 1, 28, 28);
            perClass.Maps.Shape.Should().Equal(2, 1, 28, 28);
            perClass.TargetClasses.Should().Equal(1L, 4L);
            explanation.MapShape.Should().Equal(28, 28);
            predictor.Card.Architecture.Should().Be("vit");
        }
        finally
        {
            File.Delete(modelPath);
        }
    }

    [Fact]
    public void AttentionExample()
    {
        // snippet: attention
        Tensors.ManualSeed(0);
        // 28×28 images in 4×4 patches: 49 tokens of 64 features, a pre-norm transformer encoder, a linear head
        using var patches = new Conv2d(3, 64, kernelSize: 4, stride: 4);
        using var encoder = new TransformerEncoder(
            new TransformerEncoderLayer(64, nHead: 4, dimFeedforward: 128, activation: TransformerActivation.Gelu, batchFirst: true, normFirst: true),
            numLayers: 2, norm: new LayerNorm(64));
        using var head = new Linear(64, 5);
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Randn(8, 3, 28, 28);
        var tokens = patches.Call(images).Flatten(2).Transpose(1, 2);          // (8, 49, 64)
        var logits = head.Call(encoder.Call(tokens).Mean(new long[] { 1 }));  // mean over the tokens → (8, 5)
        using var attention = new MultiheadAttention(64, numHeads: 4, batchFirst: true);
        var (output, weights) = attention.Call(tokens, tokens, tokens);       // weights (8, 49, 49), averaged over the heads
        // end snippet
        logits.Shape.Should().Equal(8, 5);
        output.Shape.Should().Equal(8, 49, 64);
        weights!.Shape.Should().Equal(8, 49, 49);
        encoder.StateDict().Keys.Should().Contain("layers.1.self_attn.in_proj_weight");
    }

    [Fact]
    public void ProfilerExample()
    {
        var trace = Path.Combine(Path.GetTempPath(), "mvn-guide-trace-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            // snippet: profiler
            Tensors.ManualSeed(0);
            using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
            using var optimizer = new Adam(model.Parameters(), 1e-3);
            ProfileResult profile;
            using (var profiler = AutogradProfiler.Start(recordShapes: true))
            {
                using var scope = Tensors.NewDisposeScope();
                var images = Tensors.Randn(16, 3, 28, 28);
                var labels = Tensors.RandInt(0, 5, new long[] { 16 });
                Tensor loss;
                using (AutogradProfiler.RecordFunction("forward"))
                    loss = Functional.CrossEntropy(model.Call(images), labels);
                using (AutogradProfiler.RecordFunction("backward"))
                    loss.Backward();
                optimizer.Step();
                profile = profiler.Stop();
            }
            Console.WriteLine(profile.Table(ProfilerSortKey.SelfCpuTime, rowLimit: 10));
            var convolutions = profile.KeyAverages().Where(a => a.Name.Contains("convolution", StringComparison.OrdinalIgnoreCase));
            Console.WriteLine($"convolutions: {convolutions.Sum(a => a.SelfCpuTimeTotalMicroseconds) / profile.SelfCpuTimeTotalMicroseconds:P0} of the step");
            profile.ExportChromeTrace(trace);   // open in chrome://tracing or https://ui.perfetto.dev
            // end snippet
            profile.KeyAverages().Select(a => a.Name).Should().Contain(["forward", "backward", "aten::native_batch_norm"]);
            convolutions.Should().NotBeEmpty();
            File.Exists(trace).Should().BeTrue();
        }
        finally
        {
            File.Delete(trace);
        }
    }

    [Fact]
    public void TrainerExample()
    {
        var output = Path.Combine(Path.GetTempPath(), "mvn-guide-" + Guid.NewGuid().ToString("N"));
        try
        {
            // snippet: trainer
            var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
            var scale = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build();
            DataLoader Loader(MedMnistSplitData split, bool shuffle) => new(new MedMnistImageSource(split),
                new DataLoaderOptions { BatchSize = 64, Shuffle = shuffle, Seed = 0, Transform = scale });

            Tensors.ManualSeed(0);
            using var model = Mtcsnn.Builder()
                .WithBackbone(b => b.WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).ForInput(3).WithSmallInputStem())
                .WithClasses(5)
                .Build();
            var result = Trainer.Create(new MtcsnnTask(model, MedMnistTask.OrdinalRegression))
                .TrainOn(Loader(data.Train, shuffle: true))
                .ValidateOn(Loader(data.Validation, shuffle: false))
                .UseAdam(1e-3)
                .ForEpochs(1)
                .SaveTo(output)            // best.safetensors, last.safetensors, history.csv/json
                .Build()
                .Run();
            var epoch = result.History[0];
            Console.WriteLine($"loss {epoch.TrainLoss:F3} ({string.Join(", ", epoch.TrainLossTerms.Select(t => $"{t.Key} {t.Value:F3}"))}), val AUC {result.Validation.Auc:F3}");
            // end snippet
            epoch.TrainLossTerms.Should().ContainKeys(MtcsnnTask.ClassificationTerm, MtcsnnTask.DifferenceTerm);
            File.Exists(Path.Combine(output, "best.safetensors")).Should().BeTrue();
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void TensorBoardExample()
    {
        var output = Path.Combine(Path.GetTempPath(), "mvn-guide-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            // snippet: tensorboard
            var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
            var scale = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build();
            var train = new DataLoader(new MedMnistImageSource(data.Train), new DataLoaderOptions { BatchSize = 64, Shuffle = true, Transform = scale });
            var validation = new DataLoader(new MedMnistImageSource(data.Validation), new DataLoaderOptions { BatchSize = 64, Transform = scale });

            Tensors.ManualSeed(0);
            using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
            using var writer = new SummaryWriter(Path.Combine(output, "resnet-lr1e-3"));   // tensorboard --logdir <output>
            writer.AddText("notes", "two stages of one basic block, widths 8 and 16, Adam 1e-3");
            var result = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
                .TrainOn(train)
                .ValidateOn(validation)
                .UseAdam(1e-3)
                .ForEpochs(2)
                .WriteTensorBoardTo(writer, parameterHistograms: true)
                .Build()
                .Run();
            writer.AddHyperparameters(
                new Dictionary<string, object?> { ["lr"] = 1e-3, ["widths"] = "8,16" },
                new Dictionary<string, double> { ["hparam/val_auc"] = result.Validation.Auc });
            writer.Flush();
            foreach (var point in EventFileReader.ReadScalars(writer.LogDirectory).Where(p => p.Tag == "validation/auc"))
                Console.WriteLine($"epoch {point.Step}: validation AUC {point.Value:F3}");
            // end snippet
            var scalars = EventFileReader.ReadScalars(writer.LogDirectory);
            scalars.Where(p => p.Tag == "validation/auc").Select(p => p.Value).Should().Equal(result.History.Select(e => (double)(float)e.Validation.Auc));
            Directory.GetDirectories(writer.LogDirectory).Should().ContainSingle("the hyperparameters' run");
            EventFileReader.ReadScalars(Directory.GetDirectories(writer.LogDirectory)[0]).Single().Value.Should().Be((float)result.Validation.Auc);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void LearningRateFinderExample()
    {
        // snippet: lr-finder
        var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        var train = new DataLoader(new MedMnistImageSource(data.Train), new DataLoaderOptions
        {
            BatchSize = 64, Shuffle = true, Seed = 0, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build(),
        });
        Tensors.ManualSeed(0);
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16)
            .ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        var task = new ClassificationTask(model, MedMnistTask.OrdinalRegression);

        // Train a few dozen steps while the learning rate grows from 1e-5 to 10; the model is restored afterwards.
        var sweep = LearningRateFinder.Run(task, train, p => new Sgd(p, 1e-3, momentum: 0.9),
            new LearningRateFinderOptions { StartLearningRate = 1e-5, EndLearningRate = 10, Steps = 40 });
        double peak = sweep.SuggestedLearningRate ?? sweep.MinimumLossLearningRate / 10;
        File.WriteAllText("lr-finder.svg", sweep.ToChart().ToSvg());

        // Then train with the 1cycle policy up to that rate.
        var result = Trainer.Create(task).TrainOn(train)
            .UseSgd(peak, momentum: 0.9)
            .WithOneCycleSchedule(peak)
            .ForEpochs(1)
            .Build()
            .Run();
        Console.WriteLine($"peak {peak:G2}: loss {result.History[0].TrainLoss:F3}");
        // end snippet
        File.Delete("lr-finder.svg");
        sweep.LearningRates.Should().Contain(peak == sweep.SuggestedLearningRate ? peak : sweep.MinimumLossLearningRate);
        double.IsFinite(result.History[0].TrainLoss).Should().BeTrue();
    }

    [Fact]
    public void WarmRestartsExample()
    {
        // snippet: warm-restarts
        using var scope = Tensors.NewDisposeScope();
        var weight = Tensors.Randn(10, 3).RequiresGradInPlace();
        using var optimizer = new Sgd([weight], learningRate: 0.1, momentum: 0.9);
        var schedule = new CosineAnnealingWarmRestarts(optimizer, t0: 2, tMult: 2, etaMin: 1e-4);
        int batchesPerEpoch = 5;
        for (int epoch = 0; epoch < 6; epoch++)
        {
            for (int i = 0; i < batchesPerEpoch; i++)
            {
                optimizer.ZeroGrad();
                (weight * weight).Sum().Backward();
                optimizer.Step();
                schedule.Step(epoch + i / (double)batchesPerEpoch);   // PyTorch: scheduler.step(epoch + i / iters)
            }
        }
        // The trainer does the same with .WithWarmRestartsSchedule(firstCycleEpochs: 2, cycleMultiplier: 2).
        // end snippet
        schedule.LastEpoch.Should().Be(5);
        // Epoch 5.8 lies in the second cycle (epochs 2–6), 3.8 of its 4 epochs in.
        optimizer.ParameterGroups[0].LearningRate.Should().BeApproximately(1e-4 + (0.1 - 1e-4) * (1 + Math.Cos(Math.PI * 3.8 / 4)) / 2, 1e-12);
    }

    [Fact]
    public void StochasticWeightAveragingExample()
    {
        // snippet: swa
        var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        var train = new DataLoader(new MedMnistImageSource(data.Train), new DataLoaderOptions
        {
            BatchSize = 64, Shuffle = true, Seed = 0, Transform = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build(),
        });
        Tensors.ManualSeed(0);
        using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16)
            .ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();

        // With the trainer: from half of the epochs on, anneal to lr 5e-4 and average the weights of every epoch.
        var result = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
            .TrainOn(train)
            .UseAdam(1e-3)
            .ForEpochs(2)
            .WithStochasticWeightAveraging(swaLearningRate: 5e-4, startFraction: 0.5, annealEpochs: 1)
            .Build()
            .Run();

        // By hand, as with torch.optim.swa_utils: average, SWA schedule, then batch-norm statistics for the average.
        using var optimizer = new Adam(model.Parameters(), 1e-3);
        using var swa = new StochasticWeightAverage(model);
        var swaSchedule = new SwaLR(optimizer, swaLearningRate: 5e-4, annealEpochs: 1);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            foreach (var batch in train.Epoch(epoch))
            {
                using var scope = Tensors.NewDisposeScope();
                using var owner = batch;
                optimizer.ZeroGrad();
                Functional.CrossEntropy(model.Call(batch.Images), batch.Labels).Backward();
                optimizer.Step();
            }
            swa.Update(model);
            swaSchedule.Step();
        }
        swa.CopyTo(model);
        StochasticWeightAverage.UpdateBatchNorm(model, train.Epoch(0), batch => { using (batch) model.Call(batch.Images); });
        Console.WriteLine($"{swa.Updates} epochs averaged; lr now {optimizer.ParameterGroups[0].LearningRate:G2}");
        // end snippet
        result.History.Select(h => h.LearningRate).Should().Equal(1e-3, 1e-3);
        swa.Updates.Should().Be(2);
        optimizer.ParameterGroups[0].LearningRate.Should().BeApproximately(5e-4, 1e-15);
    }

    [Fact]
    public void DistributedTrainerExample()
    {
        var output = Path.Combine(Path.GetTempPath(), "mvn-guide-ddp-" + Guid.NewGuid().ToString("N"));
        try
        {
            // snippet: distributed-trainer
            // Every process runs this same code; the launcher (samples/Launch) sets WORLD_SIZE, RANK, MASTER_ADDR and
            // MASTER_PORT. Run alone, it is a group of one (which then needs no fixed port).
            var options = DistributedOptions.FromEnvironment();
            using var group = ProcessGroup.Initialize(options.IsDistributed ? options : options with { MasterPort = LocalLauncher.FreePort() });

            var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
            var scale = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build();
            DataLoader Loader(MedMnistSplitData split, bool shuffle) => new(new MedMnistImageSource(split),
                new DataLoaderOptions { BatchSize = 64 / group.WorldSize, Shuffle = shuffle, Seed = 0, Transform = scale });

            Tensors.ManualSeed(0);
            using var model = ResNet.Builder().WithBlocks(ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16)
                .ForInput(3).WithSmallInputStem().WithClasses(5).Build();
            var result = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
                .TrainOn(Loader(data.Train, shuffle: true))        // each rank gets a disjoint shard of every epoch
                .ValidateOn(Loader(data.Validation, shuffle: false))  // predictions of all ranks are gathered
                .UseAdam(1e-3)
                .ForEpochs(1)
                .SaveTo(output)                                    // written by rank 0 only
                .DistributeOver(group, new DataParallelOptions { SyncBatchNorm = true })
                .Build()
                .Run();
            Console.WriteLine($"rank {group.Rank} of {group.WorldSize}: val AUC {result.Validation.Auc:F3}");
            // end snippet
            File.Exists(Path.Combine(output, "best.safetensors")).Should().BeTrue();
            result.Validation.Auc.Should().BeInRange(0, 1);
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void EvaluationPlotsExample()
    {
        var output = Path.Combine(Path.GetTempPath(), "mvn-guide-plots-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(output);
        try
        {
            // snippet: evaluation-plots
            int[] labels = { 0, 0, 1, 2, 2, 1 };                  // true grades
            double[,] scores =                                    // predicted probabilities, N × K
            {
                { 0.8, 0.1, 0.1 }, { 0.4, 0.5, 0.1 }, { 0.2, 0.7, 0.1 },
                { 0.1, 0.2, 0.7 }, { 0.3, 0.3, 0.4 }, { 0.6, 0.3, 0.1 },
            };
            string[] grades = { "no DR", "mild", "moderate" };
            var roc = TrainingPlots.RocCurves(labels, scores, grades, "Test ROC");
            roc.Save(Path.Combine(output, "roc.svg"));             // atomic; TrySavePng writes a PNG with rsvg-convert
            var confusion = TrainingPlots.ConfusionMatrix(MedMnistTask.OrdinalRegression, labels, scores, grades);
            confusion.Save(Path.Combine(output, "confusion.svg"));
            Console.WriteLine($"ACC {confusion.Matrix.Accuracy:F3}, 'mild' sensitivity {confusion.RowShare(1, 1):P0}");
            // end snippet
            confusion.Matrix.Accuracy.Should().Be(MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores));
            confusion.RowShare(1, 1).Should().Be(0.5);
            roc.Series.Should().HaveCount(4, "three classes and the chance line");
            File.ReadAllText(Path.Combine(output, "confusion.svg")).Should().StartWith("<svg").And.Contain("moderate");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void GradCamExample()
    {
        var output = Path.Combine(Path.GetTempPath(), "mvn-guide-gradcam-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(output);
        try
        {
            // snippet: grad-cam
            using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64)
                .ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
            model.Eval();                                         // required: batch norm with running statistics
            using var scope = Tensors.NewDisposeScope();
            var images = Tensors.Rand(2, 3, 28, 28) * 2 - 1;      // a preprocessed batch
            var gradCam = GradCam.ForResNet(model);               // the last stage; new GradCam(model, layer) for another
            using var maps = gradCam.Compute(images);             // (2, 1, 28, 28) in [0, 1], predicted classes
            using var plusPlus = GradCam.ForResNet(model, CamMethod.GradCamPlusPlus)
                .Compute(images, targetClasses: new long[] { 4, 4 }); // explain grade 4 for both
            var photo = new RasterImage(28, 28, 3, new byte[28 * 28 * 3]);
            ImageCodec.Save(Path.Combine(output, "cam.png"), Heatmap.Overlay(photo, maps.ToArray(0), 28, 28, alpha: 0.5));
            Console.WriteLine($"sample 0 explains class {maps.TargetClasses[0]} (logit {maps.Scores[0]:F3})");
            // end snippet
            maps.Maps.Shape.Should().Equal(2, 1, 28, 28);
            plusPlus.TargetClasses.Should().Equal(4, 4);
            File.ReadAllBytes(Path.Combine(output, "cam.png")).Take(4).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void GradientAttributionExample()
    {
        // snippet: gradient-attributions
        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64)
            .ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Rand(2, 3, 28, 28) * 2 - 1;      // a preprocessed batch
        using var attributions = new IntegratedGradients(model, steps: 64).Compute(images);   // zero baseline
        foreach (var (delta, i) in attributions.ConvergenceDeltas!.Select((d, i) => (d, i)))
            Console.WriteLine($"sample {i}: class {attributions.TargetClasses[i]}, completeness error {delta:F4}");
        using var smooth = new SmoothGrad(model, samples: 25, noiseLevel: 0.15, seed: 1).Compute(images);
        using var saliency = new Saliency(model).Compute(images, targetClasses: new long[] { 4, 4 });
        using var maps = attributions.ToMaps(AttributionSign.Positive);   // evidence for the class, (2, 1, 28, 28) in [0, 1]
        var deletion = Faithfulness.Deletion(model, images.Narrow(0, 0, 1), maps.ToArray(0), maps.TargetClasses[0]);
        Console.WriteLine($"deletion AUC {deletion.Area:F3}: lower when the map finds what the model relies on");
        // end snippet
        attributions.Values.Shape.Should().Equal(2, 3, 28, 28);
        maps.Maps.Shape.Should().Equal(2, 1, 28, 28);
        smooth.Values.Shape.Should().Equal(2, 3, 28, 28);
        saliency.TargetClasses.Should().Equal(4, 4);
        attributions.ConvergenceDeltas.Should().HaveCount(2);
        deletion.Probabilities.Should().HaveCount(51);
        deletion.Area.Should().BeInRange(0, 1);
    }

    [Fact]
    public void SanityCheckExample()
    {
        // snippet: sanity-check
        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64)
            .ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Rand(4, 3, 28, 28) * 2 - 1;      // a preprocessed batch
        var integrated = new IntegratedGradients(model, steps: 16);
        var check = ParameterRandomization.Run(model, images, (x, targets) =>
        {
            using var attributions = integrated.Compute(x, targets);
            return attributions.ToMaps();
        }, blockDepth: 1);                                    // stem, stages and head; null: one layer per step
        foreach (var step in check.Steps)                     // fc, layer4, …, conv1: the weights restored afterwards
            Console.WriteLine($"randomised down to {step.Block}: rank correlation {step.MeanRankCorrelation:F2}, SSIM {step.MeanStructuralSimilarity:F2}");
        var first = images.Narrow(0, 0, 1);
        using var map = GradCam.ForResNet(model).Compute(first);
        var insertion = Faithfulness.Insertion(model, first, map.ToArray(0), map.TargetClasses[0],
            Faithfulness.Blur(first));                        // RISE: insert into the blurred image, not into zeros
        Console.WriteLine($"insertion AUC {insertion.Area:F3} from the blurred image");
        // end snippet
        check.Steps.Select(s => s.Block).Should().Equal("fc", "layer4", "layer3", "layer2", "layer1", "bn1", "conv1");
        check.Steps.Should().OnlyContain(s => s.RankCorrelations.Count == 4);
        insertion.Probabilities.Should().HaveCount(51);
        insertion.Area.Should().BeInRange(0, 1);
    }

    [Fact]
    public void GuidedBackpropExample()
    {
        // snippet: guided-backprop
        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64)
            .ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Rand(2, 3, 28, 28) * 2 - 1;      // a preprocessed batch
        using var guided = new GuidedBackprop(model).Compute(images);          // signed, (2, 3, 28, 28)
        using var guidedGradCam = GuidedGradCam.ForResNet(model).Compute(images); // × Grad-CAM of layer4, nearest
        using var maps = guidedGradCam.ToMaps();              // for display, as Captum shows it
        var x = images.Detach().RequiresGradInPlace();        // the rule itself, for any gradient
        Tensor score;
        using (var relus = ReluGradientScope.Begin(ReluGradient.Deconvolution))
        {
            score = model.Call(x).Select(1, 4).Sum();
            Console.WriteLine($"{relus.Overrides} ReLUs pass back only positive gradients");
        }
        var deconvolution = Gradients.Compute(score, x);      // Zeiler and Fergus's map of grade 4
        // end snippet
        guided.Values.Shape.Should().Equal(2, 3, 28, 28);
        guidedGradCam.TargetClasses.Should().Equal(guided.TargetClasses);
        maps.Maps.Shape.Should().Equal(2, 1, 28, 28);
        using var expected = new Deconvolution(model).Compute(images, new long[] { 4, 4 });
        deconvolution.AllClose(expected.Values, 1e-5, 1e-7).Should().BeTrue();
    }

    [Fact]
    public void DeepLiftExample()
    {
        // snippet: deeplift
        Tensors.ManualSeed(3);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64)
            .ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Rand(2, 3, 28, 28) * 2 - 1;      // a preprocessed batch
        using var deepLift = new DeepLift(model).Compute(images); // from zeros: one forward and backward pass
        foreach (var delta in deepLift.ConvergenceDeltas!)
            Console.WriteLine($"attributions' sum − logit change: {delta:E1}"); // ≈ 0: linear layers, ReLUs, max pooling
        var references = Tensors.Rand(16, 3, 28, 28) * 2 - 1; // e.g. preprocessed training images
        using var shap = new DeepLiftShap(model).Compute(images, references); // the mean over the 16 references
        using var maps = shap.ToMaps();                       // for display, as Captum shows it
        // end snippet
        deepLift.Values.Shape.Should().Equal(2, 3, 28, 28);
        deepLift.ConvergenceDeltas.Should().OnlyContain(d => Math.Abs(d) < 1e-3);
        shap.ConvergenceDeltas.Should().OnlyContain(d => Math.Abs(d) < 1e-3);
        maps.Maps.Shape.Should().Equal(2, 1, 28, 28);
    }

    [Fact]
    public void DicomExample()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "series");
        var output = Directory.CreateTempSubdirectory("mvn-guide-dicom-").FullName;
        try
        {
            // snippet: dicom
            var series = DicomSeries.ReadFolder(folder)[0];              // the largest series; Read(folder, uid) for another
            var (x, y, z) = series.Size;
            Console.WriteLine($"{series.SeriesInstanceUid}: {x}×{y}×{z} voxels, spacing {string.Join(" × ", series.Spacing.Select(s => s.ToString("F2")))} mm");
            var volume = series.ToVolume();                                 // modality values (CT: Hounsfield units), x-fastest
            NiftiWriter.Write(Path.Combine(output, "ct.nii.gz"), volume);   // DICOM → NIfTI, as dcm2niix does
            Console.WriteLine($"{volume.Orientation}: {volume.Affine}");  // "LPS" (DICOM's patient axes); the voxel → RAS+ mm affine
            var ras = NiftiReader.Read(Path.Combine(output, "ct.nii.gz")).Reorient("RAS");   // x right, y anterior, z superior
            var slice = series.Slices[0].ToFloatImage(window: (40, 400));   // a soft-tissue window as a [0, 1] image
            // end snippet
            NiftiReader.Read(Path.Combine(output, "ct.nii.gz")).Voxels.Should().Equal(volume.Voxels);
            slice.Shape.Should().Equal(1, 3, 5);
            volume.Orientation.Should().Be("LPS");
            ras.Orientation.Should().Be("RAS");
            ras.Voxels.Should().NotEqual(volume.Voxels, "x and y were reversed");
            (x, y, z).Should().Be((5, 3, 4));
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void EnhancedDicomExample()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "dicom", "enhanced", "enhanced_mr.dcm"); // 2 time points × 3 slices
        // snippet: enhanced-dicom
        var file = DicomFile.Read(path);                                // an Enhanced MR file: 2 time points × 30 slices
        var first = Enumerable.Range(0, file.NumberOfFrames).Where(f => file.GetFrameInfo(f).TemporalPositionIndex == 1);
        var volume = DicomSeries.FromFrames(file, first).ToVolume();    // 30 slices in spatial order, with their affine
        // end snippet
        volume.Shape.Should().Equal(5, 3, 3);
        volume.Spacing.Should().Equal(1.5f, 1.25f, 3.5f);
        var slice0 = Enumerable.Range(0, file.NumberOfFrames).Single(f => file.GetFrameInfo(f).TemporalPositionIndex == 1 && file.GetFrameInfo(f).InStackPositionNumber == 1);
        volume.Voxels.Take(15).Should().Equal(file.GetFrame(slice0), "the first slice of the volume is the first in space");
    }

    [Fact]
    public void EnsembleExample()
    {
        var output = Directory.CreateTempSubdirectory("mvn-guide-ensemble-").FullName;
        try
        {
            var foldPaths = new List<string>();
            for (int fold = 0; fold < 3; fold++)
            {
                Tensors.ManualSeed((ulong)fold);
                using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
                foldPaths.Add(Path.Combine(output, $"fold{fold}.safetensors"));
                ModelFile.Save(foldPaths[^1], model, ModelFile.Describe(model, new PreprocessingCard { InputSize = [28, 28], Channels = 3, Mean = [0.5f], Std = [0.5f] }, ["0", "1", "2", "3", "4"], MedMnistTask.OrdinalRegression));
            }
            var imagePath = Path.Combine(output, "fundus.png");
            ImageCodec.Save(imagePath, new RasterImage(28, 28, 3, MedMnistDataset.LoadEmbeddedRetinaMnist().Test.GetImage(3).ToArray()));
            // snippet: ensemble
            // The models of a 3-fold cross-validation (DataSplits.StratifiedKFold), each saved by ModelFile.Save.
            using var ensemble = EnsemblePredictor.Load(foldPaths);   // optional weights, e.g. each fold's validation AUC
            var p = ensemble.PredictFile(imagePath);                  // each model prepares the image as its card says
            Console.WriteLine($"grade {p.Grade}, expected {p.ExpectedGrade:F2}; {p.Agreement:P0} of the models agree ({string.Join(", ", p.Members.Select(m => m.Grade))})");
            if (p.Agreement < 1) Console.WriteLine("the models disagree: a case for a second look");
            // end snippet
            p.Members.Should().HaveCount(3);
            using var fold1 = Predictor.Load(foldPaths[1]);
            p.Members[1].Probabilities.Should().Equal(fold1.PredictFile(imagePath).Probabilities);
            p.Probabilities.Should().Equal(Enumerable.Range(0, 5).Select(k => p.Members.Average(m => m.Probabilities[k])), (a, e) => Math.Abs(a - e) < 1e-6);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void CrossValidationExample()
    {
        var root = Directory.CreateTempSubdirectory("mvn-guide-cv-").FullName;
        try
        {
            var output = Path.Combine(root, "cv");
            var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
            ResNet NewResNet() => ResNet.Builder().WithDepth(18).WithWidths(4, 8, 8, 8).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
            // snippet: cross-validation
            var pool = new ConcatSource(new MedMnistImageSource(data.Train), new MedMnistImageSource(data.Validation));
            var labels = Enumerable.Range(0, data.Train.Count).Select(i => data.Train.Labels[i, 0]).Concat(Enumerable.Range(0, data.Validation.Count).Select(i => data.Validation.Labels[i, 0])).ToArray();
            var preprocess = TransformPipeline.Create().Normalize(0.5f, 0.5f).Build();
            var card = new PreprocessingCard { InputSize = [28, 28], Channels = 3, Mean = [0.5f], Std = [0.5f] };
            var result = CrossValidation.Create(pool, MedMnistTask.OrdinalRegression)
                .WithFolds(3)
                .StratifyBy(labels)                              // or GroupBy(patientIds): a patient's images in one fold
                .TrainWith(new DataLoaderOptions { BatchSize = 32, Shuffle = true, Transform = TransformPipeline.Create().RandomHorizontalFlip().Normalize(0.5f, 0.5f).Build() })
                .EvaluateWith(new DataLoaderOptions { BatchSize = 64, Transform = preprocess })
                .TestOn(new MedMnistImageSource(data.Test))
                .SaveTo(output)                                  // fold-1 … fold-3, folds.json, cross-validation.json, out-of-fold.csv
                .OnFoldTrained((fold, task) => ModelFile.Save(Path.Combine(fold.Directory!, "model.safetensors"), (ResNet)task.Model,
                    ModelFile.Describe((ResNet)task.Model, card, ["0", "1", "2", "3", "4"], MedMnistTask.OrdinalRegression)))
                .Run(split =>
                {
                    Tensors.ManualSeed((ulong)split.Index);      // a fresh model per fold (the cross-validation disposes it)
                    return Trainer.Create(new ClassificationTask(NewResNet(), MedMnistTask.OrdinalRegression))
                        .UseAdam(1e-3).WithMultiStepSchedule().ForEpochs(2).WithSeed(split.Index);   // the recipe: 100 epochs
                });
            Console.WriteLine($"validation AUC {result.ValidationAuc} over the folds, out of fold {result.OutOfFold.Auc:F4}, ensemble on test {result.EnsembleTest.Auc:F4}");
            EnsemblePredictor.SaveManifest(Path.Combine(output, "ensemble.json"), result.Folds.Select(f => Path.Combine(f.Directory!, "model.safetensors")).ToList());
            // end snippet
            result.Folds.Should().HaveCount(3);
            result.Folds.Sum(f => f.Split.ValidationIndices.Count).Should().Be(1200);
            result.ValidationAuc.Mean.Should().BeApproximately(result.Folds.Average(f => f.Validation.Auc), 1e-12);
            using var ensemble = EnsemblePredictor.LoadManifest(Path.Combine(output, "ensemble.json"));
            var test = new MedMnistImageSource(data.Test);
            var predictions = ensemble.Predict(Enumerable.Range(0, test.Count).Select(i => test.Load(i).Image).ToList());
            var (testLabels, scores) = result.GetEnsembleTestPredictions();
            for (int i = 0; i < test.Count; i++)
                for (int k = 0; k < 5; k++) ((double)predictions[i].Probabilities[k]).Should().BeApproximately(scores[i, k], 1e-5, "the manifest's ensemble is the folds' average");
            testLabels[5, 0].Should().Be(data.Test.Labels[5, 0]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void SplitAuditExample()
    {
        var root = Directory.CreateTempSubdirectory("mvn-guide-audit-").FullName;
        try
        {
            var output = root;
            var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
            var labels = Enumerable.Range(0, data.Train.Count).Select(i => data.Train.Labels[i, 0]).Concat(Enumerable.Range(0, data.Validation.Count).Select(i => data.Validation.Labels[i, 0])).ToArray();
            // snippet: split-audit
            var audit = SplitAudit.Create()
                .AddSplit("train", new MedMnistImageSource(data.Train))    // AddSplit(name, source, patientIds) also checks patients
                .AddSplit("val", new MedMnistImageSource(data.Validation))
                .AddSplit("test", new MedMnistImageSource(data.Test))
                .WithMaxDifference(NearDuplicates.DefaultMaxDifference)    // mean absolute difference of pixels in [0, 1]
                .Run();
            Console.WriteLine(audit);                                      // pairs within and between splits, label conflicts
            audit.WriteCsv(Path.Combine(output, "near-duplicates.csv"));
            var nearest = NearDuplicates.Nearest(new MedMnistImageSource(data.Test), new MedMnistImageSource(data.Train));
            Console.WriteLine($"closest test image to the training split: {nearest.Min(n => n.Difference):F4}");

            // Folds of the pooled splits with near-copies in one fold, stratified as far as the groups allow:
            var pool = new ConcatSource(new MedMnistImageSource(data.Train), new MedMnistImageSource(data.Validation));
            string[] groups = NearDuplicates.Groups(pool);                 // "near-duplicates-K", or "image-I" for the rest
            var folds = DataSplits.StratifiedGroupKFold(labels, groups, folds: 5, seed: 0);   // CrossValidation: StratifyBy(labels).GroupBy(groups)
            var (train, validation) = DataSplits.StratifiedGroupHoldout(labels, groups, validationFraction: 0.2);  // or by patient
            // end snippet
            audit.Duplicates.Should().HaveCount(26);
            audit.CrossSplit.Should().BeEmpty();
            audit.LabelConflicts.Should().BeEmpty();
            File.ReadAllLines(Path.Combine(output, "near-duplicates.csv")).Should().HaveCount(27);
            nearest.Min(n => n.Difference).Should().BeGreaterThan(NearDuplicates.DefaultMaxDifference);
            groups.Where(g => g.StartsWith("near-duplicates-", StringComparison.Ordinal)).Should().HaveCount(2 * 23, "the 17 pairs of train and 6 of val");
            foreach (var (foldTrain, foldValidation) in folds)
                foldValidation.Select(i => groups[i]).Intersect(foldTrain.Select(i => groups[i])).Should().BeEmpty();
            validation.Select(i => groups[i]).Intersect(train.Select(i => groups[i])).Should().BeEmpty();
            ((double)validation.Length).Should().BeApproximately(240, 10);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ModelComparisonExample()
    {
        var root = Directory.CreateTempSubdirectory("mvn-guide-compare-").FullName;
        try
        {
            // Two models' probabilities on the 400 test images (in the guide, from Predictor.Predict), and two
            // cross-validations' out-of-fold files on 1,200 images in 5 folds, simulated: model A sees the grade better.
            var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
            var random = new Random(5);
            double[,] Probabilities(int[,] truth, double signal)
            {
                var p = new double[truth.GetLength(0), 5];
                for (int i = 0; i < p.GetLength(0); i++)
                {
                    double sum = 0;
                    for (int k = 0; k < 5; k++) sum += p[i, k] = Math.Exp((truth[i, 0] == k ? signal : 0) + random.NextDouble());
                    for (int k = 0; k < 5; k++) p[i, k] /= sum;
                }
                return p;
            }
            var scoresA = Probabilities(data.Test.Labels, 1.5);
            var scoresB = Probabilities(data.Test.Labels, 0.5);
            var pooled = new int[1200, 1];
            for (int i = 0; i < 1200; i++) pooled[i, 0] = i < 1080 ? data.Train.Labels[i, 0] : data.Validation.Labels[i - 1080, 0];
            string WriteOutOfFold(string name, double signal)
            {
                var p = Probabilities(pooled, signal);
                var lines = new List<string> { "index,fold,label,score_0,score_1,score_2,score_3,score_4" };
                for (int i = 0; i < 1200; i++)
                    lines.Add(string.Join(",", new[] { i.ToString(System.Globalization.CultureInfo.InvariantCulture), (i % 5 + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), pooled[i, 0].ToString(System.Globalization.CultureInfo.InvariantCulture) }
                        .Concat(Enumerable.Range(0, 5).Select(k => p[i, k].ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
                Directory.CreateDirectory(Path.Combine(root, name));
                File.WriteAllLines(Path.Combine(root, name, "out-of-fold.csv"), lines);
                return Path.Combine(root, name);
            }
            string cvPlain = WriteOutOfFold("cv-plain", 0.5), cvSwa = WriteOutOfFold("cv-swa", 1.0);
            // snippet: model-comparison
            var labels = data.Test.Labels;                   // the same test images for both models
            DeLongComparison auc = DeLong.Compare(MedMnistTask.OrdinalRegression, labels, scoresA, scoresB);
            Console.WriteLine(auc);                          // mean of 5 AUCs: AUC … vs …, difference … [95% interval], z, p
            foreach (var grade in auc.PerClass) Console.WriteLine($"  {grade}");
            McNemarComparison acc = McNemar.Compare(MedMnistTask.OrdinalRegression, labels, scoresA, scoresB);
            Console.WriteLine(acc);                          // ACC … vs … (only A right: b, only B right: c), p
            AucEstimate a = DeLong.Estimate(MedMnistTask.OrdinalRegression, labels, scoresA);
            Console.WriteLine($"model A: AUC {a.Value:F4}, 95% CI {a.Interval}");

            // Two recipes, cross-validated on the same folds (the same --seed and --folds), from their out-of-fold files:
            var plain = CrossValidationResult.ReadOutOfFoldCsv(Path.Combine(cvPlain, "out-of-fold.csv"));
            var swa = CrossValidationResult.ReadOutOfFoldCsv(Path.Combine(cvSwa, "out-of-fold.csv"));
            var recipes = CrossValidationComparison.FromOutOfFold(MedMnistTask.OrdinalRegression, plain.Labels, plain.Scores, plain.Folds, swa.Scores, swa.Folds);
            Console.WriteLine($"fold AUC: {recipes.Auc}");  // corrected resampled t-test, t(4), p
            Console.WriteLine($"pooled out-of-fold: {recipes.OutOfFold}");
            // end snippet
            auc.IsSignificant().Should().BeTrue("A's signal is three times B's");
            auc.AucA.Should().Be(MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, labels, scoresA).Value);
            acc.Difference.Should().BeGreaterThan(0);
            a.Interval.Contains(a.Value).Should().BeTrue();
            recipes.Auc.Differences.Should().HaveCount(5).And.OnlyContain(d => d < 0, "the second recipe's signal is twice the first's");
            recipes.TestToTrainRatio.Should().Be(0.25);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void SlidingWindowExample()
    {
        // snippet: sliding-window
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(0);
        using var cdsf = Cdsf.Builder().ForVolume(36, 36, 36).WithClasses(2).WithResidualBlocks(2).Build();
        cdsf.Eval();
        // A whole MRI volume whose axes the synthesis network cannot take at once (not multiples of 4).
        var mri = Tensors.Rand(1, 1, 45, 50, 41) * 2 - 1;
        var inferer = new SlidingWindowInferer(
            windowSize: new[] { 32, 32, 32 },  // (D, H, W) windows the network takes
            overlap: 0.25,                     // neighbouring windows share a quarter of their width
            windowBatchSize: 4,                // windows per network call
            blending: WindowBlending.Gaussian);
        using var noGrad = Tensors.NoGrad();
        var pet = inferer.Infer(mri, cdsf.Synthesis);  // (1, 1, 45, 50, 41): synthetic PET for the whole volume
        Console.WriteLine($"synthetic PET [{string.Join(", ", pet.Shape)}] from {SlidingWindowInferer.WindowStarts(new[] { 45, 50, 41 }, inferer.WindowSize, 0.25).Count} windows");
        // end snippet
        pet.Shape.Should().Equal(1, 1, 45, 50, 41);
        pet.Max().Item().Should().BeLessThanOrEqualTo(1.0, "the ISM ends in tanh and blending averages");
        pet.Min().Item().Should().BeGreaterThanOrEqualTo(-1.0);
    }

    [Fact]
    public void ConformalExample()
    {
        var root = Directory.CreateTempSubdirectory("mvn-guide-conformal-").FullName;
        try
        {
            // Held-out probabilities of a model that is right about half the time, with labels drawn from them.
            var random = new Random(12);
            (int[] Labels, double[,] Probabilities) Draw(int n)
            {
                var labels = new int[n];
                var p = new double[n, 5];
                for (int i = 0; i < n; i++)
                {
                    int peak = random.Next(5);
                    double sum = 0;
                    for (int k = 0; k < 5; k++) sum += p[i, k] = Math.Exp(-Math.Abs(k - peak) * (0.5 + random.NextDouble()));
                    for (int k = 0; k < 5; k++) p[i, k] /= sum;
                    double u = random.NextDouble(), cumulative = 0;
                    labels[i] = 4;
                    for (int k = 0; k < 4; k++)
                        if (u < (cumulative += p[i, k])) { labels[i] = k; break; }
                }
                return (labels, p);
            }
            var (validationLabels, validationProbabilities) = Draw(120);
            var (testLabels, testProbabilities) = Draw(400);
            Tensors.ManualSeed(1);
            using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 8, 8, 8).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
            var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f } },
                new[] { "0", "1", "2", "3", "4" }, MedMnistTask.OrdinalRegression);
            var path = Path.Combine(root, "model.safetensors");
            var image = new FloatImage(Enumerable.Range(0, 3 * 28 * 28).Select(i => (i % 29) / 29f).ToArray(), 3, 28, 28);
            // snippet: conformal
            var conformal = ConformalClassifier.Create()
                .WithScore(ConformalScore.OrdinalAps)          // intervals of grades; Lac, Aps or Raps for unordered classes
                .WithCoverage(0.9)                             // P(true grade ∈ set) ≥ 0.9
                .Calibrate(validationLabels, validationProbabilities);   // held out from training, as the predictor computes them
            ConformalEvaluation test = conformal.Evaluate(testLabels, testProbabilities);
            Console.WriteLine(test);                           // coverage with its 95% CI, set sizes, per grade, per set size
            Console.WriteLine(conformal.CoverageDistribution(0.9));   // the spread 120 calibration images leave

            card.Conformal = ConformalCard.From(conformal, card.GetTemperatureScaling());   // stored in the model file:
            ModelFile.Save(path, model, card);
            using var predictor = Predictor.Load(path);
            Prediction prediction = predictor.Predict(image);
            Console.WriteLine($"grade {prediction.Grade}; 90% set: grades {string.Join(", ", prediction.ConformalSetNames!)}");
            // end snippet
            test.Count.Should().Be(400);
            test.Coverage.Should().BeInRange(0.85, 0.97);
            test.MeanSetSize.Should().BeInRange(1.5, 4.5);
            conformal.CoverageDistribution(0.9).Lower.Should().BeInRange(0.85, 0.86, "Beta(109, 12)'s 5% quantile");
            prediction.ConformalSet.Should().Equal(conformal.PredictSet(prediction.Probabilities.ToArray().AsSpan()));
            prediction.ConformalSet.Should().Contain(prediction.Label);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void SelectiveExample()
    {
        // A model whose confidence tracks its accuracy: wrong with probability 0.8 (1 − max p).
        var random = new Random(5);
        (int[] Labels, double[,] Probabilities) Draw(int n)
        {
            var labels = new int[n];
            var p = new double[n, 3];
            for (int i = 0; i < n; i++)
            {
                double top = 0.34 + (0.66 * random.NextDouble());
                p[i, 0] = top;
                p[i, 1] = p[i, 2] = (1 - top) / 2;
                labels[i] = random.NextDouble() < 0.8 * (1 - top) ? 1 + random.Next(2) : 0;
            }
            return (labels, p);
        }
        var (validationLabels, validationProbabilities) = Draw(600);
        var (testLabels, testProbabilities) = Draw(2000);
        // snippet: selective
        var curve = RiskCoverageCurve.Compute(testLabels, testProbabilities);   // confidence: the maximum probability
        Console.WriteLine(curve);                                  // AURC, E-AURC, error rate with every image accepted
        Console.WriteLine($"error rate of the most confident half: {curve.RiskAtCoverage(0.5):F3}");

        // A threshold fitted on held-out images: with probability 0.95, at most 15% errors among the images it accepts.
        var control = SelectiveRiskControl.Fit(
            SelectivePrediction.Confidence(validationProbabilities),
            SelectivePrediction.Errors(validationLabels, validationProbabilities),
            targetRisk: 0.15, delta: 0.05);
        SelectiveOutcome test = control.Evaluate(
            SelectivePrediction.Confidence(testProbabilities), SelectivePrediction.Errors(testLabels, testProbabilities));
        Console.WriteLine($"decided {test.Coverage:P0} of the test images with error rate {test.Risk:F3}; deferred the rest");
        // end snippet
        curve.FullCoverageRisk.Should().BeApproximately(0.27, 0.03);
        curve.RiskAtCoverage(0.5).Should().BeLessThan(curve.FullCoverageRisk);
        control.IsFeasible.Should().BeTrue();
        test.Risk.Should().BeLessThan(0.17);
        test.Coverage.Should().BeInRange(0.1, 0.6);
    }

    [Fact]
    public void ReferralExample()
    {
        // Five grades; a model whose probabilities centre on the true grade, blurred.
        var random = new Random(21);
        (int[] Grades, double[,] Probabilities) Draw(int n)
        {
            var grades = new int[n];
            var p = new double[n, 5];
            for (int i = 0; i < n; i++)
            {
                grades[i] = random.Next(5);
                double centre = grades[i] + ((random.NextDouble() - 0.5) * 3), sum = 0;
                for (int k = 0; k < 5; k++) sum += p[i, k] = Math.Exp(-(k - centre) * (k - centre));
                for (int k = 0; k < 5; k++) p[i, k] /= sum;
            }
            return (grades, p);
        }
        var (validationGrades, validationProbabilities) = Draw(300);
        var (testGrades, testProbabilities) = Draw(600);
        // snippet: referral
        // Referable diabetic retinopathy: grade 2 (moderate) or worse; the risk is P(grade ≥ 2).
        var (validationReferable, validationRisk) = Referral.FromGrades(validationGrades, validationProbabilities, referableFrom: 2);
        var (testReferable, testRisk) = Referral.FromGrades(testGrades, testProbabilities, referableFrom: 2);

        var point = OperatingPoint.AtSensitivity(validationReferable, validationRisk, minimum: 0.9);   // or AtSpecificity, Youden
        BinaryOutcome test = point.Evaluate(testReferable, testRisk);
        // Or the point whose sensitivity is at least 0.9 with 95% confidence, not on the validation images alone:
        var shown = OperatingPoint.AtSensitivityBound(validationReferable, validationRisk, minimum: 0.9, delta: 0.05);
        Console.WriteLine($"refer when P ≥ {point.Threshold:F3}: sensitivity {test.Sensitivity:F3} {test.SensitivityInterval}, "
            + $"specificity {test.Specificity:F3} {test.SpecificityInterval}, PPV {test.PositivePredictiveValue:F3}");

        var decision = DecisionCurve.Compute(testReferable, testRisk);   // net benefit at risk thresholds 0.01 … 0.99
        Console.WriteLine($"worth using at {decision.UsefulThresholds.Count} thresholds, e.g. net benefit {decision.NetBenefit[19]:F3} "
            + $"at 0.2 against {decision.ReferAll[19]:F3} for referring everyone");
        // end snippet
        point.Fitted!.Sensitivity.Should().BeGreaterThanOrEqualTo(0.9);
        test.Sensitivity.Should().BeInRange(0.84, 0.97);
        shown.Threshold.Should().BeLessThan(point.Threshold, "showing 0.9 with confidence on 300 images refers more");
        shown.Evaluate(testReferable, testRisk).Sensitivity.Should().BeGreaterThan(test.Sensitivity).And.BeGreaterThanOrEqualTo(0.9);
        decision.Thresholds[19].Should().BeApproximately(0.2, 1e-12);
        decision.NetBenefit[19].Should().BeGreaterThan(decision.ReferAll[19]);
        decision.UsefulThresholds.Should().HaveCountGreaterThan(50);
    }

    [Fact]
    public void SegmentationTrainingExample()
    {
        var runFolder = Path.Combine(Path.GetTempPath(), "mv-guide-seg-" + Guid.NewGuid().ToString("N"));
        try
        {
            // snippet: segmentation-training
            using var scope = Tensors.NewDisposeScope();
            // 3-D lesion segmentation: brain phantoms (MRI + PET, 24³) whose lesions are labelled, made on demand.
            var phantoms = new PhantomGenerator(size: 24, seed: 0);
            var augment = SegmentationPipeline.Create()
                .CropAroundLabels(new[] { 16, 16, 16 }, foregroundProbability: 0.67)  // crops centred on lesions 2 times in 3
                .RandomFlip(SpatialAxis.Width)                                         // image and labels flipped alike
                .Intensity(new RandomGaussianNoise(probability: 0.5, std: 0.02))      // the image only
                .Build();
            var train = new SegmentationLoader(new PhantomSegmentationSource(phantoms, 0, 24, lesionRadiusScale: 1.5),
                new SegmentationLoaderOptions { BatchSize = 4, Shuffle = true, Pipeline = augment });
            var validation = new SegmentationLoader(new PhantomSegmentationSource(phantoms, 100, 8, lesionRadiusScale: 1.5));

            Tensors.ManualSeed(0);
            using var unet = UNet.Builder().ForInput(channels: 2, spatialDims: 3).WithFeatures(8, 16).WithInstanceNorm().WithClasses(2).Build();
            var result = SegmentationTrainer.Create(unet)
                .TrainOn(train)
                .ValidateOn(validation)
                .ValidateWithSlidingWindow(new SlidingWindowInferer(new[] { 16, 16, 16 }, overlap: 0.5))  // whole volumes
                .EvaluateWith(SegmentationEvaluator.ForClasses(2).WithSpacing(1.0, 1.0, 1.0))            // Dice, HD95, ASSD in mm
                .WithLoss((logits, labels) => DiceLoss.WithCrossEntropy(logits, labels))                 // the default
                .UseAdam(3e-3).WithCosineSchedule()
                .ForEpochs(6)
                .SaveTo(runFolder)                                                                       // best.safetensors, history.csv
                .Build()
                .Run();
            var lesion = result.Validation!.Classes[0];
            Console.WriteLine($"best epoch {result.BestEpoch + 1}: lesion Dice {lesion.Dice:F3} ± {lesion.DiceStandardDeviation:F3} over {lesion.Cases} scans, "
                + $"HD95 {lesion.Hausdorff95Median:F1} mm, predicted in {lesion.Spurious} of {lesion.AbsentCases} scans without one");
            // end snippet
            lesion.Cases.Should().Be(validation.Source.Count - lesion.AbsentCases);
            lesion.Dice.Should().BeGreaterThan(0.3, "six epochs on lesions of strong PET contrast");
            File.Exists(Path.Combine(runFolder, SegmentationTrainer.BestModelFile)).Should().BeTrue();
        }
        finally
        {
            if (Directory.Exists(runFolder)) Directory.Delete(runFolder, recursive: true);
        }
    }

    [Fact]
    public void SegmentationMetricsExample()
    {
        // snippet: segmentation-metrics
        // A predicted and a true label map of one scan (D, H, W) = (2, 4, 5) with 2 mm slices of 0.8 mm pixels: class 1 and 2.
        int[] truth =     { 0, 1, 1, 0, 0,   0, 1, 1, 0, 0,   0, 0, 0, 2, 2,   0, 0, 0, 2, 2,
                            0, 1, 1, 0, 0,   0, 1, 1, 0, 0,   0, 0, 0, 2, 2,   0, 0, 0, 0, 0 };
        int[] predicted = { 0, 1, 1, 1, 0,   0, 1, 1, 0, 0,   0, 0, 0, 2, 2,   0, 0, 0, 2, 2,
                            0, 0, 1, 0, 0,   0, 1, 1, 0, 0,   0, 0, 0, 0, 2,   0, 2, 0, 0, 0 };
        var evaluator = SegmentationEvaluator.ForClasses(3).WithSpacing(2.0, 0.8, 0.8).WithSurfaceTolerance(1.0);
        SegmentationCase scan = evaluator.Evaluate(predicted, truth, new[] { 2, 4, 5 });
        foreach (var c in scan.Classes)
            Console.WriteLine($"class {c.Class}: Dice {c.Dice:F3}, IoU {c.Iou:F3}, HD95 {c.Hausdorff95:F2} mm, ASSD {c.AverageSurfaceDistance:F2} mm, surface Dice {c.SurfaceDice:F3}");

        // Post-processing: the stray voxel of class 2 (lower left of slice 2) is a component of its own.
        int[] cleaned = ConnectedComponents.KeepLargestPerClass(predicted, new[] { 2, 4, 5 });
        Console.WriteLine($"after keeping the largest components: class 2 Dice {evaluator.Evaluate(cleaned, truth, new[] { 2, 4, 5 })[2].Dice:F3}");
        // end snippet
        scan[1].Dice.Should().BeApproximately(2.0 * 7 / (8 + 8), 1e-12);
        cleaned[36].Should().Be(0);
        evaluator.Evaluate(cleaned, truth, new[] { 2, 4, 5 })[2].Dice.Should().BeGreaterThan(scan[2].Dice);
    }

    [Fact]
    public void SegmentationNiftiExample()
    {
        // A Decathlon-style task folder of four phantoms (dataset.json, imagesTr/, labelsTr/), as the segmentation sample's --demo writes.
        var taskFolder = Path.Combine(Path.GetTempPath(), "mv-guide-msd-" + Guid.NewGuid().ToString("N"));
        var scanPath = Path.Combine(taskFolder, "imagesTr", "s0.nii.gz");
        try
        {
            Directory.CreateDirectory(Path.Combine(taskFolder, "imagesTr"));
            Directory.CreateDirectory(Path.Combine(taskFolder, "labelsTr"));
            var entries = new List<string>();
            foreach (var subject in new PhantomGenerator(size: 16, seed: 1).Generate(0, 4))
            {
                int[] shape = [16, 16, 16];
                NiftiWriter.WriteVolumes(Path.Combine(taskFolder, "imagesTr", $"s{subject.Index}.nii.gz"), [new NiftiImage(subject.Mri, shape), new NiftiImage(subject.Pet, shape)]);
                NiftiWriter.Write(Path.Combine(taskFolder, "labelsTr", $"s{subject.Index}.nii.gz"), new NiftiImage(subject.LesionMask(1.5).Select(v => v ? 1f : 0f).ToArray(), shape));
                entries.Add($"{{\"image\": \"./imagesTr/s{subject.Index}.nii.gz\", \"label\": \"./labelsTr/s{subject.Index}.nii.gz\"}}");
            }
            File.WriteAllText(Path.Combine(taskFolder, "dataset.json"),
                $"{{\"modality\": {{\"0\": \"MRI\", \"1\": \"PET\"}}, \"labels\": {{\"0\": \"background\", \"1\": \"lesion\"}}, \"training\": [{string.Join(", ", entries)}]}}");
            var outputPath = Path.Combine(taskFolder, "s0.seg.nii.gz");
            var modelPath = Path.Combine(taskFolder, "unet.safetensors");

            // snippet: segmentation-nifti
            using var scope = Tensors.NewDisposeScope();
            var preparation = new NiftiSegmentationOptions
            {
                Orientation = "RAS",                                            // every scan and label map reoriented
                Spacing = new[] { 1f, 1f, 1f },                                 // resampled to 1 mm (labels by nearest neighbour)
                Normalization = new NormalizeIntensity(nonZero: true, channelWise: true),
            };
            var task = NiftiSegmentationSource.FromDecathlon(taskFolder, preparation);   // e.g. Task04_Hippocampus
            Console.WriteLine($"{task.Count} scans of {string.Join(", ", task.Modalities)}; classes {string.Join(", ", task.ClassNames)}");
            var loader = new SegmentationLoader(task, new SegmentationLoaderOptions
            {
                BatchSize = 2, Shuffle = true,
                Pipeline = SegmentationPipeline.Create().CropAroundLabels(new[] { 16, 16, 16 }).Build(),
            });
            using var unet = UNet.Builder().ForInput(channels: task.Modalities.Count, spatialDims: 3).WithFeatures(4, 8).WithClasses(task.ClassNames.Count).Build();
            SegmentationTrainer.Create(unet).TrainOn(loader).ForEpochs(1).Build().Run();

            // A model file: the weights with the classes, the preparation of scans and the window.
            var window = new SlidingWindowInferer(new[] { 16, 16, 16 }, overlap: 0.5);
            SegmentationModelFile.Save(modelPath, unet, SegmentationModelFile.Describe(unet, preparation, task.ClassNames, window, task.Modalities));

            // A new scan: prepared as in training, segmented window by window, the label map put back on the scan's grid.
            using var predictor = SegmentationPredictor.Load(modelPath);
            predictor.KeepLargestComponent = true;                                // each class's largest component only
            NiftiImage labels = predictor.Predict(scanPath);                       // a 4-D file's volumes are the channels
            NiftiWriter.Write(outputPath, labels, new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });   // overlay in ITK-SNAP or 3D Slicer
            // end snippet
            labels.IsOnGridOf(NiftiReader.Read(scanPath, 0)).Should().BeTrue();
            NiftiReader.Read(outputPath).Voxels.Should().Equal(labels.Voxels);
        }
        finally
        {
            if (Directory.Exists(taskFolder)) Directory.Delete(taskFolder, recursive: true);
        }
    }

    [Fact]
    public void SegmentationImagesExample()
    {
        // Fundus-like RGB images (a bright disc on a darker background) with black-and-white disc masks, in two folders.
        var root = Path.Combine(Path.GetTempPath(), "mv-guide-seg2d-" + Guid.NewGuid().ToString("N"));
        var imageFolder = Path.Combine(root, "images");
        var maskFolder = Path.Combine(root, "masks");
        try
        {
            Directory.CreateDirectory(imageFolder);
            Directory.CreateDirectory(maskFolder);
            for (int i = 0; i < 8; i++)
            {
                int cx = 12 + (i % 4) * 3, cy = 14 + (i / 4) * 4;
                var rgb = new byte[40 * 40 * 3];
                var disc = new byte[40 * 40];
                for (int p = 0; p < 40 * 40; p++)
                {
                    bool inside = ((p % 40) - cx) * ((p % 40) - cx) + ((p / 40) - cy) * ((p / 40) - cy) <= 36;
                    rgb[3 * p] = (byte)(inside ? 240 : 120 + (p * 7 % 30));
                    rgb[3 * p + 1] = (byte)(inside ? 200 : 60);
                    disc[p] = (byte)(inside ? 255 : 0);
                }
                ImageCodec.Save(Path.Combine(imageFolder, $"eye{i}.png"), new RasterImage(40, 40, 3, rgb));
                ImageCodec.Save(Path.Combine(maskFolder, $"eye{i}_mask.png"), new RasterImage(40, 40, 1, disc));
            }
            var newImage = Path.Combine(imageFolder, "eye0.png");
            var maskPath = Path.Combine(root, "eye0.mask.png");
            var modelPath = Path.Combine(root, "disc.safetensors");

            // snippet: segmentation-images
            using var scope = Tensors.NewDisposeScope();
            var preparation = new ImageSegmentationOptions
            {
                Channels = 3,                                                    // grey images are converted to RGB
                Size = (32, 32),                                                 // images bilinearly, masks by nearest neighbour
                Normalization = new NormalizeIntensity(channelWise: true),
            };
            var images = ImageMaskFolderSource.FromFolders(imageFolder, maskFolder, new[] { "background", "disc" },
                preparation, MaskEncoding.Binary, maskSuffix: "_mask");         // eye0.png → eye0_mask.png, white = disc
            Tensors.ManualSeed(0);
            using var unet = UNet.Builder().ForInput(channels: 3, spatialDims: 2).WithFeatures(8, 16).WithClasses(2).Build();
            var flips = SegmentationPipeline.Create().RandomFlip(SpatialAxis.Width).RandomFlip(SpatialAxis.Height).Build();
            SegmentationTrainer.Create(unet)
                .TrainOn(new SegmentationLoader(images, new SegmentationLoaderOptions { BatchSize = 4, Shuffle = true, Pipeline = flips }))
                .UseAdam(1e-2).ForEpochs(15).Build().Run();
            var window = new SlidingWindowInferer(new[] { 32, 32 });
            SegmentationModelFile.Save(modelPath, unet, SegmentationModelFile.Describe(unet, preparation, images.ClassNames, window));

            // Deployment: one predictor for every request thread; a map of the image's own size.
            using var predictor = ImageSegmentationPredictor.Load(modelPath);
            predictor.Flips = TestTimeFlips.Horizontal;                          // averaged with the mirrored image
            SegmentationMap map = predictor.Predict(newImage);                   // JPEG or PNG file, stream, or RasterImage
            Console.WriteLine($"disc: {map.PixelCount(1)} pixels, {100 * map.Fraction(1):F1}% of the image");
            map.Save(maskPath, MaskEncoding.Binary);                             // black and white PNG, as the masks came
            var overlay = map.Overlay(ImageCodec.DecodeFile(newImage));          // the disc tinted over the image
            // end snippet
            var truth = ImageCodec.DecodeFile(Path.Combine(maskFolder, "eye0_mask.png")).Pixels.Select(v => v > 127 ? 1 : 0).ToArray();
            var evaluation = SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances().Evaluate(map.Labels.ToArray(), truth, new[] { 40, 40 });
            evaluation[1].Dice.Should().BeGreaterThan(0.8, "fifteen epochs on a disc of strong contrast");
            ImageCodec.DecodeFile(maskPath).Pixels.Should().Equal(map.Labels.ToArray().Select(v => (byte)(255 * v)));
            overlay.Channels.Should().Be(3);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void GuideHoldsEverySnippetVerbatim()
    {
        var root = RepositoryRoot();
        var source = File.ReadAllText(Path.Combine(root, "tests", "MedVision.Nets.Tests", "Docs", "GuideExamplesTests.cs"));
        var guide = File.ReadAllText(Path.Combine(root, "docs", "guide.md")).ReplaceLineEndings("\n");
        var snippets = Regex.Matches(source.ReplaceLineEndings("\n"), @"// snippet: (?<name>[a-z-]+)\n(?<code>.*?)\n[ ]*// end snippet", RegexOptions.Singleline);
        snippets.Should().HaveCount(43);
        foreach (Match snippet in snippets)
        {
            var code = Dedent(snippet.Groups["code"].Value);
            guide.Should().Contain("```csharp\n" + code + "\n```", $"docs/guide.md must hold snippet '{snippet.Groups["name"].Value}' exactly as GuideExamplesTests runs it");
        }
    }

    private static string Dedent(string code)
    {
        var lines = code.Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart(' ').Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart(' ')));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MedVision.Nets.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("The repository root (with MedVision.Nets.sln) was not found above the test binaries.");
    }
}
