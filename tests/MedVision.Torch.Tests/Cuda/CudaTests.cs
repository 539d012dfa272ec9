using MedVision.Torch.Autograd;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Cuda;

/// <summary>
/// The op table in float32 against float64 on the CPU. It keeps the table honest on machines without a GPU (every entry
/// runs and is numerically sound), so that the CUDA comparison below fails only for device reasons.
/// </summary>
public class OpTableTests
{
    [Theory]
    [MemberData(nameof(OpTable.Names), MemberType = typeof(OpTable))]
    public void Float32_AgreesWithFloat64_OnTheCpu(string op)
    {
        var single = OpTable.Run(op, ScalarType.Float32, Device.Cpu);
        var dbl = OpTable.Run(op, ScalarType.Float64, Device.Cpu);
        single.Shape.Should().Equal(dbl.Shape);
        H.Close(single.Values, dbl.Values, 1e-4, 1e-4, op);
    }
}

/// <summary>
/// Issue #2 item 7 (every op works on CUDA tensors; seeds reproduce on CUDA), run where a CUDA libtorch and a GPU are
/// present and skipped elsewhere. cuDNN may use TF32 for float32 convolutions on Ampere and newer GPUs, hence the
/// 1e-2 tolerance against the CPU.
/// </summary>
[Collection(SerialCollection.Name)]
public class CudaTests
{
    [CudaTheory]
    [MemberData(nameof(OpTable.Names), MemberType = typeof(OpTable))]
    public void Op_OnCuda_MatchesTheCpu(string op)
    {
        var cpu = OpTable.Run(op, ScalarType.Float32, Device.Cpu);
        var cuda = OpTable.Run(op, ScalarType.Float32, Device.Cuda());
        cuda.Shape.Should().Equal(cpu.Shape);
        H.Close(cuda.Values, cpu.Values, 1e-2, 1e-2, op);
    }

    [CudaFact]
    public void Devices_AreReported_AndABadIndexIsAClearError()
    {
        Tensors.Cuda.DeviceCount.Should().BeGreaterThan(0);
        Tensors.Cuda.Synchronize();
        using var t = Tensors.Ones(3).Cuda();
        t.Device.Should().Be(Device.Cuda(0));
        t.Cpu().ToArray<float>().Should().Equal(1, 1, 1);
        var bad = Device.Cuda(Tensors.Cuda.DeviceCount);
        ((Action)(() => Tensors.Ones(new long[] { 2 }, device: bad).Dispose())).Should().Throw<Exception>().Which.Message.Should().ContainEquivalentOf("device");
    }

    [CudaFact]
    public void TheProfiler_RecordsCudaOperators_WithTheirShapes()
    {
        ProfileResult profile;
        using (var profiler = AutogradProfiler.Start(recordShapes: true))
        {
            using var scope = Tensors.NewDisposeScope();
            var x = Tensors.Randn(new long[] { 64, 64 }, device: Device.Cuda());
            _ = x.MatMul(x).Sum().Item();
            Tensors.Cuda.Synchronize();
            profile = profiler.Stop();
        }
        profile.Events.Should().Contain(e => e.Name == "aten::mm" && e.InputShapes == "[[64, 64], [64, 64]]");
        profile.Events.Should().OnlyContain(e => e.SelfDurationMicroseconds >= 0 && e.SelfDurationMicroseconds <= e.DurationMicroseconds);
    }

    [CudaFact]
    public void AttentionLayers_OnCuda_MatchTheCpu()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(3);
        using var layer = new TransformerEncoderLayer(16, 4, dimFeedforward: 32, dropout: 0, batchFirst: true);
        using var embedding = new Embedding(20, 16, paddingIdx: 0);
        var indices = Tensors.FromArray(new long[] { 0, 3, 7, 19, 3, 0, 5, 2 }, 2, 4);
        var padding = Tensors.FromArray(new[] { false, false, false, true, false, false, true, true }, 2, 4);
        var onCpu = layer.Call(embedding.Call(indices), null, padding).ToArray<float>();
        layer.To(Device.Cuda());
        embedding.To(Device.Cuda());
        var onGpu = layer.Call(embedding.Call(indices.Cuda()), null, padding.Cuda()).Cpu().ToArray<float>();
        onGpu.Should().Equal(onCpu, (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [CudaFact]
    public void MixingDevices_IsAClearError()
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Tensors.Ones(2, 2);
        var b = Tensors.Ones(2, 2).Cuda();
        ((Action)(() => _ = a + b)).Should().Throw<TorchException>().Which.Message.Should().ContainAny("cuda", "CUDA", "device");
    }

    [CudaFact]
    public void ManualSeed_ReproducesCudaRandomNumbers()
    {
        float[] Draw()
        {
            Tensors.ManualSeed(123);
            using var scope = Tensors.NewDisposeScope();
            var r = Tensors.Randn(new long[] { 1000 }, device: Device.Cuda());
            var u = Tensors.Rand(new long[] { 1000 }, device: Device.Cuda());
            var d = F.Dropout(Tensors.Ones(new long[] { 1000 }, device: Device.Cuda()), 0.5);
            return r.Cpu().ToArray<float>().Concat(u.Cpu().ToArray<float>()).Concat(d.Cpu().ToArray<float>()).ToArray();
        }
        var first = Draw();
        Draw().Should().Equal(first);
        ((double)first.Take(1000).Average()).Should().BeApproximately(0, 0.15, "standard normal draws");
        first.Skip(2000).Count(v => v == 0).Should().BeInRange(400, 600, "dropout with p = 0.5 drops about half");
    }

    [CudaFact]
    public void Autograd_OnCuda_GivesTheCpuGradients()
    {
        (double[] Gx, double[] Gw) Run(Device device)
        {
            using var inputs = new OpInputs(ScalarType.Float32, device);
            using var scope = Tensors.NewDisposeScope();
            var x = inputs.X.Detach().RequiresGradInPlace();
            var w = inputs.W2.Detach().RequiresGradInPlace();
            var y = F.Conv2d(x, w, inputs.B, padding: 1);
            var loss = F.CrossEntropy(F.AdaptiveAvgPool2d(y, 1, 1).Flatten(1), inputs.Labels.Narrow(0, 0, 2).Clamp(0, 3));
            loss.Backward();
            return (H.ToDoubles(x.Grad!), H.ToDoubles(w.Grad!));
        }
        var cpu = Run(Device.Cpu);
        var cuda = Run(Device.Cuda());
        H.Close(cuda.Gx, cpu.Gx, 1e-3, 1e-2, "input gradient");
        H.Close(cuda.Gw, cpu.Gw, 1e-3, 1e-2, "weight gradient");
    }

    [CudaFact]
    public void ModuleAndOptimizer_OnCuda_TrackTheCpu()
    {
        float[] Train(Device device)
        {
            Tensors.ManualSeed(9);
            using var model = new Sequential(new Conv2d(3, 4, 3, padding: 1), new BatchNorm2d(4), new ReLU(inPlace: true), new Flatten(), new Linear(4 * 36, 5));
            model.To(device);
            model.Parameters().Should().OnlyContain(p => p.Device == device);
            using var optimizer = new Adam(model.Parameters(), 1e-2);
            using var inputs = new OpInputs(ScalarType.Float32, device);
            for (int step = 0; step < 3; step++)
            {
                using var scope = Tensors.NewDisposeScope();
                optimizer.ZeroGrad();
                var x = Tensors.Cat(new[] { inputs.X, inputs.Y, inputs.X * 0.5 }, 0);
                F.CrossEntropy(model.Call(x), inputs.Labels).Backward();
                optimizer.Step();
            }
            model.Eval();
            using var noGrad = Tensors.NoGrad();
            using var evalScope = Tensors.NewDisposeScope();
            return model.Call(inputs.X).Cpu().ToArray<float>();
        }
        var cpu = Train(Device.Cpu);
        var cuda = Train(Device.Cuda());
        H.Close(cuda.Select(v => (double)v).ToArray(), cpu.Select(v => (double)v).ToArray(), 2e-2, 2e-2, "logits after 3 Adam steps");
    }

    [CudaFact]
    public void Convolutions_OnCuda_DoNotUseTheOneDnnCopy()
    {
        using var conv = new Conv2d(3, 4, 3);
        conv.To(Device.Cuda());
        using var noGrad = Tensors.NoGrad();
        using var scope = Tensors.NewDisposeScope();
        conv.Call(Tensors.Randn(new long[] { 1, 3, 8, 8 }, device: Device.Cuda())).Device.IsCuda.Should().BeTrue();
        conv.HoldsPackedWeight.Should().BeFalse();
    }

    [CudaFact]
    public void PinnedMemory_CopiesToTheGpuAsynchronously_WithTheSameValues()
    {
        using var scope = Tensors.NewDisposeScope();
        var host = Tensors.Arange(0, 4096, 1, ScalarType.Float32);
        var pinned = host.PinMemory();
        var device = pinned.To(ScalarType.Float32, Device.Cuda(), nonBlocking: true);
        Tensors.Cuda.Synchronize();
        device.Cpu().ToArray<float>().Should().Equal(host.ToArray<float>());
    }
}
