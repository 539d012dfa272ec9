using System.Diagnostics;
using MedVision.Torch.Distributed;
using MedVision.Torch.Serialization;

namespace MedVision.Torch.Tests.Distributed;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DistributedCollection
{
    public const string Name = "Distributed (multi-process, runs alone)";
}

/// <summary>
/// Two-process tests on loopback: each rank is a DistributedWorker process started through <see cref="LocalLauncher"/>.
/// </summary>
[Collection(DistributedCollection.Name)]
public class DistributedTests
{
    [Fact]
    public void The_shim_is_built_with_gloo_and_offers_nccl_only_with_a_cuda_libtorch()
    {
        // scripts/setup.sh installs libgloo-dev, so the Gloo backend is part of every build made by the README's commands.
        ProcessGroup.IsAvailable(DistributedBackend.Gloo).Should().BeTrue();
        // NCCL comes with a CUDA build of libtorch (libtorch_cuda loaded), whether or not this machine has a GPU — as
        // torch.distributed.is_nccl_available() in PyTorch. With a CPU-only libtorch it cannot be there.
        bool cudaLibtorch = File.ReadAllText("/proc/self/maps").Contains("libtorch_cuda", StringComparison.Ordinal);
        if (!cudaLibtorch) ProcessGroup.IsAvailable(DistributedBackend.Nccl).Should().BeFalse();
        if (Tensors.Cuda.IsAvailable) cudaLibtorch.Should().BeTrue();
    }

    [Fact]
    public async Task Collectives_on_two_ranks_combine_as_torch_distributed_does()
    {
        var (result, lines, all) = await WorkerRunner.Launch(2, 30000, true, "collectives");
        result.Succeeded.Should().BeTrue(all);
        foreach (var rank in new[] { 0, 1 })
        {
            lines[rank].Should().ContainInOrder(
                "sum=3,3,3",            // 1 + 2
                "mean=1.5,1.5",
                "max=1,0",              // (0, -0) and (1, -1)
                "min=0,-1",
                "long=30",              // int64: 10 + 20
                "broadcast=8,8",        // rank 1's 7 + 1
                "gather=0,0,1,1",       // stacked by rank
                "concat=0,0,1,1,1,1",   // 1 row from rank 0, 2 rows from rank 1
                "barrier=ok",
                "autograd=3,3;3,3");    // y = x0 + x1; d/dx of Σ_k (k+1)·y = 1 + 2
        }
    }

    [Theory]
    [InlineData("plain")]   // no batch norm: equals one process on the concatenated batch
    [InlineData("syncbn")]  // synchronised batch norm: equals it too
    public async Task Data_parallel_training_keeps_ranks_bit_identical_and_equals_one_process_on_the_whole_batch(string model)
    {
        var dir = Directory.CreateTempSubdirectory("mvt-ddp-").FullName;
        try
        {
            var (result, lines, all) = await WorkerRunner.Launch(2, 30000, true, "train", "--model", model, "--steps", "6", "--out", dir);
            result.Succeeded.Should().BeTrue(all);
            var stats = lines[0].Single(l => l.StartsWith("stats ", StringComparison.Ordinal)).Split(' ').Skip(1)
                .Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => long.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture));
            stats["steps"].Should().Be(6, "every step's gradients were reduced");
            stats["buckets"].Should().BeGreaterThan(1, "a 600-byte bucket cap splits this model's gradients");
            stats["early"].Should().BeGreaterThan(0, "buckets whose gradients are ready are reduced while backward goes on");
            var single = await WorkerRunner.Launch(1, 30000, true, "train", "--model", model, "--steps", "6", "--single", "--as-world", "2", "--out", dir);
            single.Result.Succeeded.Should().BeTrue(single.All);

            File.ReadAllBytes(Path.Combine(dir, "rank0.safetensors")).Should().Equal(File.ReadAllBytes(Path.Combine(dir, "rank1.safetensors")), "the replicas must stay bit-identical");
            using var ddp = SafeTensors.Load(Path.Combine(dir, "rank0.safetensors"));
            using var one = SafeTensors.Load(Path.Combine(dir, "single.safetensors"));
            ddp.Keys.Should().BeEquivalentTo(one.Keys);
            foreach (var key in one.Keys)
            {
                var a = ddp[key].To(ScalarType.Float64).Flatten().ToArray<double>();
                var b = one[key].To(ScalarType.Float64).Flatten().ToArray<double>();
                for (int i = 0; i < a.Length; i++) a[i].Should().BeApproximately(b[i], 2e-5, $"{key}[{i}] after 6 steps");
            }
            // The losses logged by each rank average to the single process's loss on the whole batch.
            var loss0 = Losses(lines[0]); var loss1 = Losses(lines[1]); var lossAll = Losses(single.Lines[0]);
            for (int s = 0; s < lossAll.Length; s++) ((loss0[s] + loss1[s]) / 2).Should().BeApproximately(lossAll[s], 1e-5);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Local_batch_norm_keeps_statistics_per_rank_while_parameters_stay_identical()
    {
        var dir = Directory.CreateTempSubdirectory("mvt-ddp-").FullName;
        try
        {
            var (result, _, all) = await WorkerRunner.Launch(2, 30000, true, "train", "--model", "bn", "--steps", "4", "--out", dir);
            result.Succeeded.Should().BeTrue(all);
            using var r0 = SafeTensors.Load(Path.Combine(dir, "rank0.safetensors"));
            using var r1 = SafeTensors.Load(Path.Combine(dir, "rank1.safetensors"));
            foreach (var key in r0.Keys.Where(k => k.EndsWith("weight", StringComparison.Ordinal) || k.EndsWith("bias", StringComparison.Ordinal)))
                r0[key].ToArray<float>().Should().Equal(r1[key].ToArray<float>(), $"parameter {key} must be bit-identical on both ranks");
            // As in PyTorch's DDP: rank 0's running statistics are broadcast before each forward, and each rank then
            // updates them with its own batch, so after the last step they differ.
            r0["1.running_mean"].ToArray<float>().Should().NotEqual(r1["1.running_mean"].ToArray<float>());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task A_rank_that_dies_mid_run_makes_the_other_fail_with_a_clear_error()
    {
        var (result, lines, all) = await WorkerRunner.Launch(2, 20000, false, "train", "--model", "bn", "--steps", "50", "--die-after", "2", "--out", Path.GetTempPath());
        result.ExitCodes[1].Should().Be(3, all);
        result.ExitCodes[0].Should().Be(42, "rank 0 must get a DistributedException, not hang or crash: " + all);
        var error = lines[0].Single(l => l.StartsWith("DistributedException", StringComparison.Ordinal));
        error.Should().Contain("rank 0 of 2").And.Contain("gloo");
        Seconds(error).Should().BeLessThan(20, "the failure must come within the configured timeout");
    }

    [Fact]
    public async Task A_rank_that_stops_responding_makes_the_other_fail_after_the_timeout()
    {
        var (result, lines, all) = await WorkerRunner.Launch(2, 3000, true, "train", "--model", "plain", "--steps", "50", "--stall-after", "2", "--out", Path.GetTempPath());
        result.ExitCodes[0].Should().Be(42, all);
        var error = lines[0].Single(l => l.StartsWith("DistributedException", StringComparison.Ordinal));
        error.Should().Contain("Timed out").And.Contain("rank 0 of 2");
        Seconds(error).Should().BeInRange(2.5, 30);
        // The launcher then stopped the stalled rank instead of leaving it behind.
        result.FirstFailedRank.Should().Be(0);
        result.ExitCode.Should().Be(42);
        result.ExitCodes[1].Should().NotBe(0);
        all.Should().Contain("[launcher] rank 0 exited with code 42; stopping the other processes");
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    public async Task Ranks_started_with_different_world_sizes_are_told_so(int world0, int world1)
    {
        int port = LocalLauncher.FreePort();
        var clock = Stopwatch.StartNew();
        using var r0 = WorkerRunner.StartRank(world0, 0, port, 10000, "collectives");
        using var r1 = WorkerRunner.StartRank(world1, 1, port, 10000, "collectives");
        var a = await WorkerRunner.Finish(r0, clock);
        var b = await WorkerRunner.Finish(r1, clock);
        a.ExitCode.Should().Be(42, a.Output);
        a.Output.Should().Contain($"world size mismatch: rank 0 was started with world size {world0}, rank 1 with {world1}");
        b.ExitCode.Should().Be(42, b.Output);
        b.Output.Should().Contain($"world size mismatch: rank 1 was started with world size {world1}, rank 0 with {world0}");
    }

    [Fact]
    public async Task A_rendezvous_whose_peers_never_come_times_out()
    {
        int port = LocalLauncher.FreePort();
        var clock = Stopwatch.StartNew();
        using var r0 = WorkerRunner.StartRank(2, 0, port, 2000, "collectives");
        var a = await WorkerRunner.Finish(r0, clock);
        a.ExitCode.Should().Be(42, a.Output);
        a.Output.Should().Contain($"rendezvous at 127.0.0.1:{port}: rank 0 of 2 got no answer from rank 1");
        a.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_rank_that_never_joins_makes_the_others_fail_after_the_timeout()
    {
        int port = LocalLauncher.FreePort();
        var clock = Stopwatch.StartNew();
        using var r0 = WorkerRunner.StartRank(3, 0, port, 3000, "collectives");
        using var r1 = WorkerRunner.StartRank(3, 1, port, 3000, "collectives");   // rank 2 never starts
        var a = await WorkerRunner.Finish(r0, clock);
        var b = await WorkerRunner.Finish(r1, clock);
        a.ExitCode.Should().Be(42, a.Output);
        b.ExitCode.Should().Be(42, b.Output);
        a.Output.Should().Contain("rank 0 of 3 could not connect to every other rank (timeout 3000 ms)");
        b.Output.Should().Contain("rank 1 of 3 could not connect to every other rank (timeout 3000 ms)");
        b.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void A_group_of_one_works_in_process()
    {
        using var g = ProcessGroup.Initialize(new DistributedOptions { MasterPort = LocalLauncher.FreePort(), Timeout = TimeSpan.FromSeconds(10) });
        g.IsMaster.Should().BeTrue();
        using var t = Tensors.FromArray(new[] { 1f, 2f }, 2);
        g.AllReduce(t, ReduceOp.Mean).ToArray<float>().Should().Equal(1f, 2f);
        using var gathered = g.AllGatherConcat(t);
        gathered.ToArray<float>().Should().Equal(1f, 2f);
        g.Barrier();
        g.ToString().Should().Contain("rank 0 of 1");
    }

    [Fact]
    public void Bad_calls_get_clear_exceptions()
    {
        using var g = ProcessGroup.Initialize(new DistributedOptions { MasterPort = LocalLauncher.FreePort(), Timeout = TimeSpan.FromSeconds(10) });
        using var t = Tensors.FromArray(new[] { 1f, 2f, 3f, 4f }, 2, 2);
        using var nonContiguous = t.Transpose(0, 1);
        FluentActions.Invoking(() => g.AllReduce(nonContiguous)).Should().Throw<ArgumentException>().WithMessage("*contiguous*");
        FluentActions.Invoking(() => g.Broadcast(t, root: 1)).Should().Throw<ArgumentException>().WithMessage("*root 1*");
        using var ints = Tensors.FromArray(new[] { 1L }, 1);
        FluentActions.Invoking(() => g.AllReduce(ints, ReduceOp.Mean)).Should().Throw<ArgumentException>().WithMessage("*floating-point*");
        FluentActions.Invoking(() => ProcessGroup.Initialize(new DistributedOptions { WorldSize = 2, Rank = 2 })).Should().Throw<ArgumentException>().WithMessage("*Rank 2*");
        FluentActions.Invoking(() => ProcessGroup.Initialize(new DistributedOptions { MasterPort = 70000 })).Should().Throw<ArgumentException>().WithMessage("*70000*");
        g.Dispose();
        FluentActions.Invoking(() => g.Barrier()).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void Options_are_read_from_the_torchrun_environment_variables()
    {
        var o = DistributedOptions.FromEnvironment(new Dictionary<string, string?> { ["WORLD_SIZE"] = "4", ["RANK"] = "3", ["LOCAL_RANK"] = "1", ["MASTER_ADDR"] = "10.0.0.7", ["MASTER_PORT"] = "29600" });
        o.Should().BeEquivalentTo(new { WorldSize = 4, Rank = 3, LocalRank = 1, MasterAddress = "10.0.0.7", MasterPort = 29600, IsDistributed = true });
        DistributedOptions.FromEnvironment(new Dictionary<string, string?>()).Should().BeEquivalentTo(new { WorldSize = 1, Rank = 0, MasterAddress = "127.0.0.1", MasterPort = 29500, IsDistributed = false });
        FluentActions.Invoking(() => DistributedOptions.FromEnvironment(new Dictionary<string, string?> { ["WORLD_SIZE"] = "two" })).Should().Throw<ArgumentException>().WithMessage("*WORLD_SIZE='two'*");
        FluentActions.Invoking(() => DistributedOptions.FromEnvironment(new Dictionary<string, string?> { ["WORLD_SIZE"] = "2", ["RANK"] = "5" })).Should().Throw<ArgumentException>().WithMessage("*Rank 5*");
        FluentActions.Invoking(() => new LaunchOptions { FileName = "x", Nodes = 2, MasterPort = 0 }.Validate()).Should().Throw<ArgumentException>().WithMessage("*single machine*");
        FluentActions.Invoking(() => new LaunchOptions { FileName = "x", Nodes = 2, NodeRank = 2 }.Validate()).Should().Throw<ArgumentException>().WithMessage("*Node rank 2*");
    }

    private static double[] Losses(List<string> lines) => lines.Where(l => l.StartsWith("step ", StringComparison.Ordinal))
        .Select(l => double.Parse(l.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static double Seconds(string error)
    {
        // "DistributedException after 1.0 s: ..."
        var part = error.Split(' ')[2];
        return double.Parse(part, System.Globalization.CultureInfo.InvariantCulture);
    }
}
