using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Tensors;

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

    [Fact]
    public void Cuda_IsUnavailableOnThisCpuBuild_AndAskingForItThrows()
    {
        Torch.Cuda.IsAvailable.Should().BeFalse();
        Torch.Cuda.DeviceCount.Should().Be(0);
        Device.Cuda(1).IsCuda.Should().BeTrue();
        Device.Cuda(1).ToString().Should().Be("cuda:1");
        using var t = Torch.Ones(2);
        ((Action)(() => t.To(Device.Cuda()).Dispose())).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        ((Action)(() => t.Cuda().Dispose())).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        ((Action)(() => Torch.Cuda.Synchronize())).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        ((Action)(() => Torch.Zeros(new long[] { 2 }, device: Device.Cuda()).Dispose())).Should().Throw<TorchException>().WithMessage("*CUDA*");
        t.ToArray<float>().Should().Equal(1, 1);
    }

    [Fact]
    public void LibraryInformation()
    {
        Torch.Version.Should().MatchRegex(@"^\d+\.\d+\.\d+$");
        _ = Torch.HasOneDnn; // readable
    }
}

[Collection(SerialCollection.Name)]
public class ThreadAndSeedTests
{
    [Fact]
    public void NumThreads_RoundTrips()
    {
        var saved = Torch.NumThreads;
        saved.Should().BeGreaterThan(0);
        try
        {
            Torch.NumThreads = 1;
            Torch.NumThreads.Should().Be(1);
            Torch.NumThreads = 2;
            Torch.NumThreads.Should().Be(2);
            ((Action)(() => Torch.NumThreads = 0)).Should().Throw<ArgumentOutOfRangeException>();
        }
        finally { Torch.NumThreads = saved; }
        Torch.NumThreads.Should().Be(saved);
    }

    [Fact]
    public void NumThreads_AppliesToThreadsThatAlreadyRanParallelWork()
    {
        var saved = Torch.NumThreads;
        var wanted = saved == 2 ? 3 : 2;
        int seenByWorker = 0;
        using var warmedUp = new ManualResetEventSlim();
        using var proceed = new ManualResetEventSlim();
        var worker = new Thread(() =>
        {
            using (var s = Torch.NewDisposeScope()) Torch.Randn(256, 256).MatMul(Torch.Randn(256, 256)).Sum().Item();
            warmedUp.Set();
            proceed.Wait();
            using (var s = Torch.NewDisposeScope()) Torch.Ones(2).Sum().Item();
            seenByWorker = Torch.NumThreads;
        });
        worker.Start();
        warmedUp.Wait();
        try
        {
            Torch.NumThreads = wanted; // set on this thread, after the worker already ran libtorch code
            proceed.Set();
            worker.Join();
            seenByWorker.Should().Be(wanted, "the setting is process-wide, not per OpenMP thread");
        }
        finally
        {
            proceed.Set();
            Torch.NumThreads = saved;
        }
    }

    [Fact]
    public void ManualSeed_ReproducesRandomSequences()
    {
        using var scope = Torch.NewDisposeScope();
        Torch.ManualSeed(1234);
        var a1 = Torch.Randn(50).ToArray<float>();
        var a2 = Torch.Rand(7).ToArray<float>();
        Torch.ManualSeed(1234);
        var b1 = Torch.Randn(50).ToArray<float>();
        var b2 = Torch.Rand(7).ToArray<float>();
        b1.Should().Equal(a1);
        b2.Should().Equal(a2);
        Torch.ManualSeed(1235);
        Torch.Randn(50).ToArray<float>().Should().NotEqual(a1);
    }

    [Fact]
    public void RngState_ReplaysTheSequence()
    {
        using var scope = Torch.NewDisposeScope();
        Torch.ManualSeed(7);
        _ = Torch.Randn(13);
        var state = Torch.GetRngState();
        state.Should().NotBeEmpty();
        var first = Torch.Randn(20).ToArray<float>();
        var firstInts = Torch.RandInt(0, 1000, new long[] { 10 }).ToArray<long>();
        Torch.SetRngState(state);
        Torch.Randn(20).ToArray<float>().Should().Equal(first);
        Torch.RandInt(0, 1000, new long[] { 10 }).ToArray<long>().Should().Equal(firstInts);
        ((Action)(() => Torch.SetRngState(new byte[] { 1, 2, 3 }))).Should().Throw<ArgumentException>();
        Torch.Randn(2).NumElements.Should().Be(2);
    }
}
