using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = MedVision.Torch.Tensor;

namespace MedVision.Onnx.Tests;

/// <summary>What an export refuses, what it records, and what it leaves untouched.</summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class ExportBehaviourTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("medvision-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static ResNet SmallResNet(int channels = 1, int classes = 3)
        => ResNet.Builder().WithBlocks(Nets.Blocks.ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).ForInput(channels).WithSmallInputStem().WithClasses(classes).Build();

    /// <summary>A block this library does not know: y = x · 2 + weight.</summary>
    private sealed class Affine : Module<Tensor, Tensor>
    {
        public Affine(long features) => RegisterParameter("weight", Tensors.FromArray(Enumerable.Range(0, (int)features).Select(i => i * 0.1f).ToArray()));
        public Tensor Weight => NamedParameters(recurse: false).Single().Parameter;
        public override Tensor Forward(Tensor input) => input * 2.0 + Weight;
    }

    [Fact]
    public void Attributes_HoldTheirKindAndValue_DescribeThemselvesInvariantly_AndRefuseBadNames()
    {
        var ints = OnnxAttribute.Ints("kernel_shape", new long[] { 3, 3 });
        ints.Kind.Should().Be(OnnxAttributeKind.Ints);
        ints.IntValues.Should().Equal(3L, 3L);
        ints.ToString().Should().Be("kernel_shape=[3, 3]");
        var floats = OnnxAttribute.Floats("scales", new[] { 1.0, 2.5 });
        floats.Kind.Should().Be(OnnxAttributeKind.Floats);
        floats.FloatValues.Should().Equal(1f, 2.5f);
        floats.ToString().Should().Be("scales=[1, 2.5]");
        OnnxAttribute.Float("epsilon", 1e-5).ToString().Should().Be("epsilon=1E-05");
        OnnxAttribute.String("mode", "linear").ToString().Should().Be("mode='linear'");
        OnnxAttribute.Int("axis", -1).ToString().Should().Be("axis=-1");
        var oldCulture = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            floats.ToString().Should().Be("scales=[1, 2.5]", "a decimal comma would make the description ambiguous");
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = oldCulture;
        }
        FluentActions.Invoking(() => OnnxAttribute.Ints(" ", new long[] { 1 })).Should().Throw<ArgumentException>().WithParameterName("name");
        FluentActions.Invoking(() => OnnxAttribute.Int("", 1)).Should().Throw<ArgumentException>().WithParameterName("name");
        FluentActions.Invoking(() => OnnxAttribute.Floats("scales", null!)).Should().Throw<ArgumentNullException>().WithParameterName("values");
    }

    [Fact]
    public void AModuleWithoutAnExporterIsRefusedByPathAndType_AndARegisteredExporterMakesItWork()
    {
        using var model = new Sequential(new Linear(4, 5), new Affine(5));
        var refuse = () => new OnnxExporter().ExportToBytes(model, new long[] { 1, 4 });
        refuse.Should().Throw<NotSupportedException>().WithMessage("*Affine '1'*no exporter*Register<Affine>*");

        var exporter = new OnnxExporter().Register<Affine>((context, module, x) =>
        {
            var doubled = context.AddNode("Mul", new[] { x, context.Constant("two", new[] { 2f }) }, x.Sample * 2.0);
            return context.AddNode("Add", new[] { doubled, context.Parameter(module, "weight") }, module.Call(x.Sample));
        });
        exporter.CanExport(typeof(Affine)).Should().BeTrue();
        OnnxRuntimeCheck.ExportAndCompare(model, new long[] { 1, 4 }, new long[] { 6, 4 }, exporter: exporter);
    }

    [Fact]
    public void AnExporterThatDoesNotComputeItsModuleIsCaughtByTheVerification()
    {
        using var model = new Sequential(new Linear(4, 5), new Affine(5));
        // Forgets the doubling: the graph's reference evaluation no longer matches the model's forward.
        var exporter = new OnnxExporter().Register<Affine>((context, module, x) =>
            context.AddNode("Add", new[] { x, context.Parameter(module, "weight") }, x.Sample + module.Weight));
        var export = () => exporter.ExportToBytes(model, new long[] { 1, 4 });
        export.Should().Throw<InvalidOperationException>().WithMessage("*differs from the model's forward*");
    }

    [Fact]
    public void WhatOnnxOpset17CannotExpressIsRefusedWithTheReason()
    {
        using var circular = new Conv2d(1, 2, 3, padding: 1, paddingMode: PaddingMode.Circular);
        FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(circular, new long[] { 1, 1, 5, 5 }))
            .Should().Throw<NotSupportedException>().WithMessage("*Conv2d '(model)'*circular*opset 19*");

        using var adaptive = new Sequential(new Conv2d(1, 2, 1), new AdaptiveAvgPool2d(3));
        FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(adaptive, new long[] { 1, 1, 7, 7 }))
            .Should().Throw<NotSupportedException>().WithMessage("*AdaptiveAvgPool2d '1'*[7, 7] to [3, 3]*");

        using var batchStats = new BatchNorm2d(2, trackRunningStats: false);
        FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(batchStats, new long[] { 1, 2, 3, 3 }))
            .Should().Throw<NotSupportedException>().WithMessage("*BatchNorm2d*no running statistics*");
    }

    [Fact]
    public void SeveralGraphOutputsComeFromTheModelsOutput()
    {
        using var model = SmallResNet(channels: 1, classes: 4);
        OnnxRuntimeCheck.Randomise(model);
        var bytes = new OnnxExporter().ExportToBytes(model, new long[] { 1, 1, 28, 28 }, null, (context, logits) => new[]
        {
            ("logits", logits),
            ("probabilities", context.AddNode("Softmax", new[] { logits }, logits.Sample.Softmax(1), OnnxAttribute.Int("axis", 1))),
            ("scores", logits),
        });
        using var session = new InferenceSession(bytes);
        session.OutputMetadata.Keys.Should().Equal("logits", "probabilities", "scores");
        var input = new DenseTensor<float>(Enumerable.Range(0, 2 * 28 * 28).Select(i => (float)Math.Cos(i * 0.1)).ToArray(), new[] { 2, 1, 28, 28 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
        var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
        var probabilities = results.Single(r => r.Name == "probabilities").AsTensor<float>();
        results.Single(r => r.Name == "scores").AsTensor<float>().ToArray().Should().Equal(logits.ToArray(), "one value may be two outputs");
        for (int n = 0; n < 2; n++)
        {
            var row = Enumerable.Range(0, 4).Select(k => Math.Exp(logits[n, k])).ToArray();
            for (int k = 0; k < 4; k++) probabilities[n, k].Should().BeApproximately((float)(row[k] / row.Sum()), 1e-5f);
        }

        FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(model, new long[] { 1, 1, 28, 28 }, null, (_, logits) => new[] { ("fc.weight", logits) }))
            .Should().Throw<ArgumentException>().WithMessage("*'fc.weight' is already the name of a value*");
        FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(model, new long[] { 1, 1, 28, 28 }, null, (_, logits) => new[] { ("a", logits), ("a", logits) }))
            .Should().Throw<ArgumentException>().WithMessage("*distinct names*");
    }

    [Fact]
    public void WeightsBeyondTheProtobufLimitAreRefused()
    {
        var limit = OnnxExportContext.MaxInitializerBytes;
        try
        {
            // The real limit is 2 GiB less 64 MiB; a small stand-in keeps the test light.
            OnnxExportContext.MaxInitializerBytes = 1000;
            using var model = new Sequential(new Linear(10, 20), new Linear(20, 30));
            FluentActions.Invoking(() => new OnnxExporter().ExportToBytes(model, new long[] { 1, 10 }))
                .Should().Throw<NotSupportedException>().WithMessage("*exceed*by '1.weight'*2 GiB*external-data*");
        }
        finally
        {
            OnnxExportContext.MaxInitializerBytes = limit;
        }
    }

    [Fact]
    public void InFloat16_AWeightBeyondItsRangeIsRefusedByName_AndANameClashIsNot()
    {
        using var model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
        using (Tensors.NoGrad()) ((Linear)model[2]).Bias!.FillInPlace(70_000);
        var path = Path.Combine(_folder, "half.onnx");
        FluentActions.Invoking(() => model.ExportOnnx(path, new long[] { 1, 4 }, new OnnxExportOptions { Float16 = true }))
            .Should().Throw<NotSupportedException>().WithMessage("*'2.bias' holds 70000*float16's largest value ±65504*float32*");
        File.Exists(path).Should().BeFalse("nothing is written");
        // In float32 the same weights export.
        new OnnxExporter().ExportToBytes(model, new long[] { 1, 4 }).Should().NotBeEmpty();

        // An output that another node reads (the input passed straight through, too) is cast once and read in float16 inside.
        using (Tensors.NoGrad()) ((Linear)model[2]).Bias!.FillInPlace(0.5);
        var bytes = new OnnxExporter().ExportToBytes(model, new long[] { 1, 4 }, new OnnxExportOptions { Float16 = true }, (context, output) => new[]
        {
            ("logits", output),
            ("probabilities", context.AddNode("Softmax", new[] { output }, output.Sample.Softmax(1), OnnxAttribute.Int("axis", 1))),
        });
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(new[] { 0.3f, -1.2f, 2.0f, 0.7f, -0.4f, 0.1f, 0.9f, -2.2f }).Reshape(2, 4);
        Tensor expected;
        using (Tensors.NoGrad()) expected = model.Call(x);
        using var session = new InferenceSession(bytes);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray<float>(), new[] { 2, 4 })) });
        results.Select(r => r.Name).Should().Equal("logits", "probabilities");
        var logits = results.First(r => r.Name == "logits").AsTensor<float>().ToArray();
        var probabilities = results.First(r => r.Name == "probabilities").AsTensor<float>().ToArray();
        logits.Zip(expected.ToArray<float>()).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-2);
        probabilities.Zip(expected.Softmax(1).ToArray<float>()).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 5e-3);
    }

    [Fact]
    public void BadArgumentsAreRefusedBeforeAnythingIsWritten()
    {
        using var model = SmallResNet();
        var exporter = new OnnxExporter();
        FluentActions.Invoking(() => exporter.ExportToBytes(model, new long[] { 1, 3, 28, 28 }))
            .Should().Throw<ArgumentException>().WithMessage("*ResNet expects input (N, 1, H, W)*");
        FluentActions.Invoking(() => exporter.ExportToBytes(model, new long[] { 1, 1, 0, 28 }))
            .Should().Throw<ArgumentException>().WithMessage("*positive sizes*");
        FluentActions.Invoking(() => exporter.ExportToBytes(model, new long[] { 1, 1, 28, 28 }, new OnnxExportOptions { OutputName = "input" }))
            .Should().Throw<ArgumentException>().WithMessage("*different names*");
        using var doubleModel = new Linear(3, 2);
        doubleModel.To(ScalarType.Float64);
        FluentActions.Invoking(() => exporter.ExportToBytes(doubleModel, new long[] { 1, 3 }))
            .Should().Throw<NotSupportedException>().WithMessage("*Float64*float32*");
    }

    [Fact]
    public void AFailedExportLeavesAnExistingFileUntouchedAndNoTemporaryFile()
    {
        var path = Path.Combine(_folder, "model.onnx");
        File.WriteAllText(path, "previous");
        using var model = new Conv2d(1, 2, 3, padding: 1, paddingMode: PaddingMode.Circular);
        FluentActions.Invoking(() => model.ExportOnnx(path, new long[] { 1, 1, 5, 5 })).Should().Throw<NotSupportedException>();
        File.ReadAllText(path).Should().Be("previous");
        Directory.GetFiles(_folder).Should().Equal(path);

        using var good = SmallResNet();
        good.ExportOnnx(path, new long[] { 1, 1, 28, 28 });
        Directory.GetFiles(_folder).Should().Equal(path);
        using var session = new InferenceSession(path);
        session.OutputMetadata.Keys.Should().Equal("output");
    }

    [Fact]
    public void TheGraphDeclaresNamesADynamicBatchAndTheMetadata()
    {
        using var model = SmallResNet(channels: 3, classes: 4);
        var options = new OnnxExportOptions { InputName = "image", OutputName = "scores", Description = "test model", BatchDimensionName = "n" };
        options.Metadata["owner"] = "radiology";
        var bytes = new OnnxExporter().ExportToBytes(model, new long[] { 1, 3, 28, 28 }, options);
        using var session = new InferenceSession(bytes);
        session.InputMetadata.Keys.Should().Equal("image");
        session.InputMetadata["image"].Dimensions.Should().Equal(-1, 3, 28, 28);
        session.InputMetadata["image"].SymbolicDimensions[0].Should().Be("n");
        session.OutputMetadata["scores"].Dimensions.Should().Equal(-1, 4);
        session.ModelMetadata.ProducerName.Should().Be("MedVision.Onnx");
        session.ModelMetadata.Description.Should().Be("test model");
        session.ModelMetadata.CustomMetadataMap.Should().Contain("owner", "radiology").And.Contain("medvision.example_input_shape", "1,3,28,28");

        var fixedBatch = new OnnxExporter().ExportToBytes(model, new long[] { 2, 3, 28, 28 }, new OnnxExportOptions { DynamicBatch = false });
        using var fixedSession = new InferenceSession(fixedBatch);
        fixedSession.InputMetadata["input"].Dimensions.Should().Equal(2, 3, 28, 28);
    }

    [Fact]
    public void ExportingRestoresTrainingFlags_LeavesTheGlobalGeneratorAlone_AndFreesEveryTensor()
    {
        using var model = SmallResNet();
        model.Train();
        var frozen = OnnxExportContext.RequiredChild(model, "bn1");
        frozen.Eval();
        // A first export lets the convolutions pack their weights for oneDNN (caches the model owns and keeps).
        new OnnxExporter().ExportToBytes(model, new long[] { 1, 1, 28, 28 });
        long live = Tensors.LiveTensors;
        Tensors.ManualSeed(11);
        using var expected = Tensors.Randn(4);
        Tensors.ManualSeed(11);
        new OnnxExporter().ExportToBytes(model, new long[] { 1, 1, 28, 28 });
        using var after = Tensors.Randn(4);
        after.ToArray<float>().Should().Equal(expected.ToArray<float>(), "the export draws its example from a private generator");
        Tensors.LiveTensors.Should().Be(live + 2, "only the two tensors of this test are alive");
        model.Training.Should().BeTrue();
        frozen.Training.Should().BeFalse();
        OnnxExportContext.RequiredChild(model, "layer1").Training.Should().BeTrue();
    }

    [Fact]
    public void AnEnclosingAutocastRegionIsSuspendedWhileExporting()
    {
        using var model = new Sequential(new Linear(4, 5), new Affine(5));
        bool? autocastSeen = null;
        var exporter = new OnnxExporter().Register<Affine>((context, module, x) =>
        {
            autocastSeen = Tensors.AutocastState(DeviceType.Cpu).Enabled;
            var doubled = context.AddNode("Mul", new[] { x, context.Constant("two", new[] { 2f }) }, x.Sample * 2.0);
            return context.AddNode("Add", new[] { doubled, context.Parameter(module, "weight") }, module.Call(x.Sample));
        });
        var plain = exporter.ExportToBytes(model, new long[] { 1, 4 });
        using (Tensors.Autocast(DeviceType.Cpu, ScalarType.BFloat16))
        {
            exporter.ExportToBytes(model, new long[] { 1, 4 }).Should().Equal(plain);
            autocastSeen.Should().BeFalse("the graph and its reference run are float32");
            Tensors.AutocastState(DeviceType.Cpu).Enabled.Should().BeTrue("the caller's region is back after the export");
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void AModelFileExportsWithItsCardAndGivesThePredictorsProbabilities(bool coral, bool cumulative)
    {
        using var model = coral
            ? ResNet.Builder().WithBlocks(Nets.Blocks.ResidualBlockKind.Basic, 1, 1).WithWidths(8, 16).ForInput(3).WithSmallInputStem().WithClasses(5).WithCoralHead().Build()
            : SmallResNet(channels: 3, classes: 5);
        OnnxRuntimeCheck.Randomise(model);
        var preprocessing = new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.25f } };
        var card = ModelFile.Describe(model, preprocessing, new[] { "0", "1", "2", "3", "4" }, MedMnistTask.OrdinalRegression, new Dictionary<string, double> { ["val_auc"] = 0.75 });
        card.Temperature = 1.7;
        // A temperature on the grades' probabilities would move the median grade; one on the cumulative logits keeps it.
        if (cumulative) card.CoralTemperature = CoralTemperature.CumulativeLogits;
        else if (coral) card.OrdinalDecision = OrdinalDecision.MostProbable;
        var modelPath = Path.Combine(_folder, "model.safetensors");
        ModelFile.Save(modelPath, model, card);
        var onnxPath = Path.Combine(_folder, "model.onnx");
        OnnxModelFile.Export(modelPath, onnxPath).ClassNames.Should().HaveCount(5);
        OnnxRuntimeCheck.Dump(File.ReadAllBytes(onnxPath), coral ? cumulative ? "model file with a CORAL head and a temperature on its cumulative logits" : "model file with a CORAL head" : "model file");

        using var session = new InferenceSession(onnxPath);
        session.OutputMetadata.Keys.Should().Equal("logits", "probabilities");
        session.OutputMetadata["logits"].Dimensions[1].Should().Be(coral ? 4 : 5);
        var stored = System.Text.Json.JsonSerializer.Deserialize<ModelCard>(session.ModelMetadata.CustomMetadataMap[ModelFile.MetadataKey])!;
        stored.HasCoralHead.Should().Be(coral);
        stored.Temperature.Should().Be(1.7);
        stored.CoralTemperature.Should().Be(cumulative ? CoralTemperature.CumulativeLogits : CoralTemperature.GradeProbabilities);
        if (coral) stored.FormatVersion.Should().Be(cumulative ? 10 : 9);
        stored.Preprocessing.Std.Should().Equal(0.25f);
        stored.Metrics.Should().Contain("val_auc", 0.75);

        using var scope = Tensors.NewDisposeScope();
        var batch = OnnxRuntimeCheck.RandomInput(new long[] { 3, 3, 28, 28 }, seed: 5);
        using var predictor = Predictor.Load(modelPath);
        var predictions = predictor.PredictTensor(batch);
        var input = new DenseTensor<float>(batch.ToArray<float>(), new[] { 3, 3, 28, 28 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
        var probabilities = results.Single(r => r.Name == "probabilities").AsTensor<float>();
        for (int n = 0; n < 3; n++)
            for (int k = 0; k < 5; k++)
                probabilities[n, k].Should().BeApproximately(predictions[n].Probabilities[k], 1e-5f);
        if (cumulative)
        {
            // The median grade stays CORAL's: the number of cumulative logits above 0.
            var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
            for (int n = 0; n < 3; n++)
                predictions[n].Label.Should().Be(Enumerable.Range(0, 4).Count(k => logits[n, k] > 0), $"image {n}");
        }
    }

    [Fact]
    public void AMultiLabelModelFileGivesSigmoidProbabilities()
    {
        using var model = SmallResNet(channels: 1, classes: 3);
        var card = ModelFile.Describe(model, new PreprocessingCard { Channels = 1 }, new[] { "a", "b", "c" }, MedMnistTask.MultiLabel);
        var modelPath = Path.Combine(_folder, "multilabel.safetensors");
        ModelFile.Save(modelPath, model, card);
        var onnxPath = Path.Combine(_folder, "multilabel.onnx");
        OnnxModelFile.Export(modelPath, onnxPath);
        using var session = new InferenceSession(onnxPath);
        var input = new DenseTensor<float>(Enumerable.Range(0, 2 * 28 * 28).Select(i => (float)Math.Sin(i)).ToArray(), new[] { 2, 1, 28, 28 });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
        var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
        var probabilities = results.Single(r => r.Name == "probabilities").AsTensor<float>();
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < 3; k++)
                probabilities[n, k].Should().BeApproximately((float)(1 / (1 + Math.Exp(-logits[n, k]))), 1e-6f);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeMemoryCollection
{
    public const string Name = "native memory";
}
