using System.Diagnostics;
using System.Globalization;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Benchmarks;

/// <summary>
/// Data-parallel training throughput (benchmarks/distributed/run.sh): ResNet-18 (28×28, small stem) training steps with
/// a fixed global batch, in one process or in every process of a group started by the launcher (WORLD_SIZE etc. from
/// the environment). Rank 0 prints "RESULT" lines: global images per second, the time per step spent waiting for
/// gradient all-reduces after backward, gradient bytes per step, and the time of one all-reduce of all gradients.
/// </summary>
public static class DistributedRunner
{
    public static int Run(string[] args)
    {
        int Arg(string name, int fallback) { int i = Array.IndexOf(args, name); return i >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback; }
        int globalBatch = Arg("--batch", 128), steps = Arg("--steps", 10), warmup = Arg("--warmup", 2);
        int threads = Arg("--threads", int.TryParse(Environment.GetEnvironmentVariable("MEDVISION_THREADS"), out var t) ? t : Environment.ProcessorCount);
        Tensors.NumThreads = threads;
        var options = DistributedOptions.FromEnvironment();
        using var group = options.IsDistributed ? ProcessGroup.Initialize(options) : null;
        int world = group?.WorldSize ?? 1, rank = group?.Rank ?? 0;
        if (globalBatch % world != 0) throw new ArgumentException($"--batch {globalBatch} does not split over {world} processes.");
        int local = globalBatch / world;
        Tensors.ManualSeed(0);
        using var model = ResNet.ResNet18(numClasses: 10, inChannels: 3, spatialDims: 2, stem: ResNetStem.SmallInput);
        model.Train();
        using var sync = group is null ? null : new GradientSynchronizer(model, group);
        using var optimizer = new Adam(model.Parameters(), 1e-3);
        Tensors.ManualSeed((ulong)(1 + rank));
        using var images = Tensors.Randn(local, 3, 28, 28);
        using var labels = Tensors.RandInt(0, 10, new long[] { local });
        void Step()
        {
            using var scope = Tensors.NewDisposeScope();
            optimizer.ZeroGrad();
            sync?.PrepareForward();
            var loss = Functional.CrossEntropy(model.Call(images), labels);
            loss.Backward();
            optimizer.Step();
            _ = loss.Item();
        }
        for (int i = 0; i < warmup; i++) Step();
        group?.Barrier();
        var before = sync?.Statistics;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) Step();
        group?.Barrier();
        double seconds = clock.Elapsed.TotalSeconds;
        var inv = CultureInfo.InvariantCulture;
        if (rank == 0)
        {
            Console.WriteLine(string.Create(inv, $"CONFIG processes={world} threads_per_process={threads} global_batch={globalBatch} steps={steps} libtorch={Tensors.Version}"));
            Console.WriteLine(string.Create(inv, $"RESULT images_per_second {globalBatch * steps / seconds:F1}"));
            Console.WriteLine(string.Create(inv, $"RESULT seconds_per_step {seconds / steps:F4}"));
        }
        if (sync is not null && group is not null)
        {
            var after = sync.Statistics;
            double waitPerStep = (after.WaitTime - before!.WaitTime).TotalSeconds / steps;
            long bytesPerStep = (after.BytesReduced - before.BytesReduced) / steps;
            long early = after.BucketsLaunchedDuringBackward - before.BucketsLaunchedDuringBackward;
            // One all-reduce of a buffer as large as all gradients together (no overlap with anything).
            long elements = model.Parameters().Sum(p => p.NumElements);
            using var flat = Tensors.Zeros(new[] { elements });
            group.AllReduce(flat);
            var allReduce = Stopwatch.StartNew();
            for (int i = 0; i < 5; i++) group.AllReduce(flat);
            double allReduceSeconds = allReduce.Elapsed.TotalSeconds / 5;
            if (rank == 0)
            {
                Console.WriteLine(string.Create(inv, $"RESULT gradient_bytes_per_step {bytesPerStep}"));
                Console.WriteLine(string.Create(inv, $"RESULT buckets {after.Buckets} launched_during_backward_per_step {(double)early / steps:F1}"));
                Console.WriteLine(string.Create(inv, $"RESULT allreduce_wait_after_backward_seconds_per_step {waitPerStep:F4}"));
                Console.WriteLine(string.Create(inv, $"RESULT full_gradient_allreduce_seconds {allReduceSeconds:F4} ({elements * 4 / allReduceSeconds / 1e9:F2} GB/s algorithm bandwidth)"));
            }
        }
        return 0;
    }
}
