using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.TensorOps;

public class DeviceTests
{
    [Theory]
    [InlineData("cpu", DeviceType.Cpu, -1)]
    [InlineData(" CPU ", DeviceType.Cpu, -1)]
    [InlineData("cuda", DeviceType.Cuda, 0)]
    [InlineData("cuda:3", DeviceType.Cuda, 3)]
    [InlineData("CUDA:1", DeviceType.Cuda, 1)]
    public void Parse_AcceptsKnownForms(string text, DeviceType type, int index)
    {
        var d = Device.Parse(text);
        d.Type.Should().Be(type);
        d.Index.Should().Be(index);
        Device.Parse(d.ToString()).Should().Be(d);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void Parse_RejectsOtherText(string text)
        => ((Action)(() => Device.Parse(text))).Should().Throw<FormatException>().WithMessage("*cpu, cuda or cuda:N*");

    [CpuBuildFact]
    public void Cuda_IsUnavailableOnThisCpuBuild_AndAskingForItThrows()
    {
        Tensors.Cuda.IsAvailable.Should().BeFalse();
        Tensors.Cuda.DeviceCount.Should().Be(0);
        Device.Cuda(1).IsCuda.Should().BeTrue();
        Device.Cuda(1).ToString().Should().Be("cuda:1");
        using var t = Tensors.Ones(2);
        ((Action)(() => t.To(Device.Cuda()).Dispose())).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        ((Action)(() => t.Cuda().Dispose())).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        ((Action)(() => Tensors.Cuda.Synchronize())).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        ((Action)(() => Tensors.Zeros(new long[] { 2 }, device: Device.Cuda()).Dispose())).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        t.ToArray<float>().Should().Equal(1, 1);
    }

    [CpuBuildFact]
    public void WithoutCuda_TheErrorsSayWhy_ACpuOnlyLibtorchOrNoUsableGpu()
    {
        // Whether libtorch is a CUDA build, told by the library and, independently, by libtorch_cuda being loaded.
        bool cudaLibtorch = File.ReadAllText("/proc/self/maps").Contains("libtorch_cuda", StringComparison.Ordinal);
        Tensors.Cuda.IsBuilt.Should().Be(cudaLibtorch);
        Tensors.Cuda.IsAvailable.Should().BeFalse();
        string reason = Tensors.Cuda.UnavailableReason!;
        if (cudaLibtorch)
        {
            Tensors.Cuda.CompiledVersion.Should().NotBeNull();
            Tensors.Cuda.CompiledVersion!.Major.Should().BeInRange(10, 20);
            reason.Should().Contain($"built with CUDA {Tensors.Cuda.CompiledVersion}").And.Contain("no usable GPU");
        }
        else
        {
            Tensors.Cuda.CompiledVersion.Should().BeNull();
            reason.Should().Contain("CPU-only build").And.Contain("MEDVISION_LIBTORCH");
        }
        reason.Should().Contain(Tensors.Version);
        using var t = Tensors.Ones(2);
        foreach (var act in new Action[]
                 {
                     () => t.To(Device.Cuda()).Dispose(),
                     () => Tensors.Randn(new long[] { 2 }, device: Device.Cuda(1)).Dispose(),
                     () => Tensors.Cuda.Synchronize(),
                 })
        {
            act.Should().Throw<InvalidOperationException>().WithMessage("CUDA was requested (cuda:*) but is not available: " + reason);
        }
        Tensors.Cuda.EnsureUsable(Device.Cpu); // the CPU is always usable
    }

    [Fact]
    public void LibraryInformation()
    {
        Tensors.Version.Should().MatchRegex(@"^\d+\.\d+\.\d+$");
        _ = Tensors.HasOneDnn; // readable
    }
}

[Collection(SerialCollection.Name)]
public class ThreadAndSeedTests
{
    [Fact]
    public void NumThreads_RoundTrips()
    {
        var saved = Tensors.NumThreads;
        saved.Should().BeGreaterThan(0);
        try
        {
            Tensors.NumThreads = 1;
            Tensors.NumThreads.Should().Be(1);
            Tensors.NumThreads = 2;
            Tensors.NumThreads.Should().Be(2);
            ((Action)(() => Tensors.NumThreads = 0)).Should().Throw<ArgumentOutOfRangeException>();
        }
        finally { Tensors.NumThreads = saved; }
        Tensors.NumThreads.Should().Be(saved);
    }

    [Fact]
    public void NumThreads_AppliesToThreadsThatAlreadyRanParallelWork()
    {
        var saved = Tensors.NumThreads;
        var wanted = saved == 2 ? 3 : 2;
        int seenByWorker = 0;
        using var warmedUp = new ManualResetEventSlim();
        using var proceed = new ManualResetEventSlim();
        var worker = new Thread(() =>
        {
            using (var s = Tensors.NewDisposeScope()) Tensors.Randn(256, 256).MatMul(Tensors.Randn(256, 256)).Sum().Item();
            warmedUp.Set();
            proceed.Wait();
            using (var s = Tensors.NewDisposeScope()) Tensors.Ones(2).Sum().Item();
            seenByWorker = Tensors.NumThreads;
        });
        worker.Start();
        warmedUp.Wait();
        try
        {
            Tensors.NumThreads = wanted; // set on this thread, after the worker already ran libtorch code
            proceed.Set();
            worker.Join();
            seenByWorker.Should().Be(wanted, "the setting is process-wide, not per OpenMP thread");
        }
        finally
        {
            proceed.Set();
            Tensors.NumThreads = saved;
        }
    }

    [Fact]
    public void ManualSeed_ReproducesRandomSequences()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(1234);
        var a1 = Tensors.Randn(50).ToArray<float>();
        var a2 = Tensors.Rand(7).ToArray<float>();
        Tensors.ManualSeed(1234);
        var b1 = Tensors.Randn(50).ToArray<float>();
        var b2 = Tensors.Rand(7).ToArray<float>();
        b1.Should().Equal(a1);
        b2.Should().Equal(a2);
        Tensors.ManualSeed(1235);
        Tensors.Randn(50).ToArray<float>().Should().NotEqual(a1);
    }

    [Fact]
    public void RngState_ReplaysTheSequence()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(7);
        _ = Tensors.Randn(13);
        var state = Tensors.GetRngState();
        state.Should().NotBeEmpty();
        var first = Tensors.Randn(20).ToArray<float>();
        var firstInts = Tensors.RandInt(0, 1000, new long[] { 10 }).ToArray<long>();
        Tensors.SetRngState(state);
        Tensors.Randn(20).ToArray<float>().Should().Equal(first);
        Tensors.RandInt(0, 1000, new long[] { 10 }).ToArray<long>().Should().Equal(firstInts);
        ((Action)(() => Tensors.SetRngState(new byte[] { 1, 2, 3 }))).Should().Throw<ArgumentException>();
        Tensors.Randn(2).NumElements.Should().Be(2);
    }
}
