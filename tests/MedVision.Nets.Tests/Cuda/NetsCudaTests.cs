using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Cuda;

/// <summary>
/// The CUDA paths of the data loader (pinned staging, issue #4 item 6), the trainer (issue #6), the predictor
/// (issue #9 item 2) and the models, against the same work on the CPU. Run where a CUDA libtorch and a GPU are
/// present; skipped elsewhere.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class NetsCudaTests : IDisposable
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-cuda-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DataLoader Loader(MedMnistSplitData split, Device device, bool shuffle) => new(
        new MedMnistImageSource(split),
        new DataLoaderOptions
        {
            BatchSize = 32, Shuffle = shuffle, Seed = 11, Device = device,
            Transform = TransformPipeline.Create().RandomHorizontalFlip().Normalize(0.5f, 0.5f).Build(),
        });

    [CudaFact]
    public void DataLoader_OnCuda_GivesTheCpuBatches()
    {
        var cpu = Loader(Retina.Value.Validation, Device.Cpu, shuffle: true).Epoch(0).ToList();
        var cuda = Loader(Retina.Value.Validation, Device.Cuda(), shuffle: true).Epoch(0).ToList();
        try
        {
            cuda.Should().HaveCount(cpu.Count);
            for (int b = 0; b < cpu.Count; b++)
            {
                cuda[b].Images.Device.IsCuda.Should().BeTrue();
                cuda[b].Labels.Device.IsCuda.Should().BeTrue();
                cuda[b].Indices.Should().Equal(cpu[b].Indices);
                cuda[b].Images.Cpu().ToArray<float>().Should().Equal(cpu[b].Images.ToArray<float>(), "batch {0}: the same pixels after the same seeded augmentation", b);
                cuda[b].Labels.Cpu().ToArray<long>().Should().Equal(cpu[b].Labels.ToArray<long>());
            }
        }
        finally
        {
            foreach (var batch in cpu.Concat(cuda)) batch.Dispose();
        }
    }

    [CudaFact]
    public void Trainer_OnCuda_TrainsSelectsAndSavesLoadableCheckpoints()
    {
        Tensors.ManualSeed(3);
        using var model = new Sequential(new Conv2d(3, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(inPlace: true), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 5));
        var cuda = Device.Cuda();
        // Class weights made on the CPU serve the model the trainer moves to CUDA.
        using var weights = Tensors.FromArray(ClassWeights.Balanced([0, 0, 1, 2, 2, 3, 4], 5));
        var result = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression, weights))
            .TrainOn(Loader(Retina.Value.Train, cuda, shuffle: true))
            .ValidateOn(Loader(Retina.Value.Validation, cuda, shuffle: false))
            .TestOn(Loader(Retina.Value.Test, cuda, shuffle: false))
            .UseAdam(1e-2)
            .ForEpochs(2)
            .OnDevice(cuda)
            .SaveTo(_dir)
            .Build()
            .Run();
        result.History.Should().HaveCount(2).And.OnlyContain(h => double.IsFinite(h.TrainLoss));
        result.Test.Auc.Should().BeInRange(0, 1);
        model.Parameters().Should().OnlyContain(p => p.Device.IsCuda);
        using var file = SafeTensors.Load(Path.Combine(_dir, "best.safetensors"));
        file.Values.Should().OnlyContain(t => t.Device.Type == DeviceType.Cpu && t.ToArray<float>().All(float.IsFinite));
    }

    [CudaFact]
    public void Predictor_OnCuda_MatchesTheCpuPredictor_FromManyThreads()
    {
        Tensors.ManualSeed(4);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = new() { 28, 28 }, Channels = 3, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" },
            new[] { "0", "1", "2", "3", "4" }, MedMnistTask.OrdinalRegression, new Dictionary<string, double>());
        var path = Path.Combine(_dir, "model.safetensors");
        ModelFile.Save(path, model, card);
        using var onCpu = Predictor.Load(path);
        using var onCuda = Predictor.Load(path, Device.Cuda());
        onCuda.Device.IsCuda.Should().BeTrue();

        var split = Retina.Value.Test;
        var images = Enumerable.Range(0, 16).Select(i => split.GetImage(i).ToArray()).ToArray();
        var serial = images.Select(p => onCuda.PredictPixels(p, 28, 28, 3)).ToArray();
        for (int i = 0; i < images.Length; i++)
        {
            var cpu = onCpu.PredictPixels(images[i], 28, 28, 3);
            serial[i].Probabilities.Select(v => (double)v).Should().Equal(cpu.Probabilities.Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-3, "image {0}", i);
        }
        var concurrent = new Prediction[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
            concurrent[t] = Enumerable.Range(0, 25).SelectMany(_ => images.Select(p => onCuda.PredictPixels(p, 28, 28, 3))).ToArray());
        foreach (var run in concurrent)
            for (int k = 0; k < run.Length; k++)
                run[k].Probabilities.Should().Equal(serial[k % images.Length].Probabilities, "concurrent calls on one CUDA predictor give the serial result");
    }

    [CudaFact]
    public void Models_OnCuda_GiveTheCpuOutputs()
    {
        void Compare(Module<Tensor, Tensor> model, long[] shape, string what)
        {
            Tensors.ManualSeed(6);
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            model.Eval();
            var x = Tensors.Randn(shape);
            var cpu = model.Call(x).ToArray<float>();
            model.To(Device.Cuda());
            var cuda = model.Call(x.Cuda()).Cpu().ToArray<float>();
            cuda.Select(v => (double)v).Should().Equal(cpu.Select(v => (double)v), (a, b) => Math.Abs(a - b) <= 1e-2 + 1e-2 * Math.Abs(b), what);
        }
        using var r18 = ResNet.Builder().WithDepth(18).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
        Compare(r18, new long[] { 2, 3, 28, 28 }, "ResNet-18, 28×28");
        using var r50 = ResNet.Builder().WithDepth(50).ForInput(3).WithImageNetStem().WithClasses(5).Build();
        Compare(r50, new long[] { 1, 3, 64, 64 }, "ResNet-50, ImageNet stem");
        using var r3d = ResNet.Builder().WithDepth(18).WithWidths(8, 16, 32, 64).ForInput(1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        Compare(r3d, new long[] { 1, 1, 16, 16, 16 }, "3D ResNet-18");
    }

    [CudaFact]
    public void OnnxExport_OfACudaModel_IsTheCpuExport()
    {
        Tensors.ManualSeed(8);
        using var model = ResNet.Builder().WithDepth(18).ForInput(3).WithSmallInputStem().WithClasses(5).Build();
        var shape = new long[] { 1, 3, 28, 28 };
        var cpu = new MedVision.Onnx.OnnxExporter().ExportToBytes(model, shape);
        model.To(Device.Cuda());
        // The example runs on the GPU (the graph is checked against the model's CUDA forward); the weights come back to the file.
        var cuda = new MedVision.Onnx.OnnxExporter().ExportToBytes(model, shape);
        cuda.Should().Equal(cpu, "the same weights and the same graph make the same file");
        model.Parameters().Should().OnlyContain(p => p.Device.IsCuda, "exporting leaves the model where it was");
    }
}
