// One rank of the distributed tests. Reads WORLD_SIZE/RANK/MASTER_ADDR/MASTER_PORT (set by LocalLauncher) and
// MEDVISION_DIST_TIMEOUT_MS. Commands:
//   cpu-memory                       prints how the CPU caching allocator was configured (no process group)
//   collectives                      prints the results of each collective, one "name=values" line each
//   train --model plain|bn|syncbn --steps N --out DIR [--single] [--die-after K] [--stall-after K]
//                                    trains a small CNN data-parallel on a fixed global batch and saves the parameters
//                                    to DIR/rank{R}.safetensors (--single: one process on the whole batch, no group)
// Exit codes: 0 success, 42 DistributedException (message printed), 43 other failure.
using System.Diagnostics;
using System.Globalization;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;

var inv = CultureInfo.InvariantCulture;
string Arg(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
bool Flag(string name) => Array.IndexOf(args, name) >= 0;

Tensors.NumThreads = 1;
if (args.FirstOrDefault() == "onednn")
{
    // Not distributed: reports the oneDNN self-check and state of this process (ConvolutionRoutingTests), after a
    // convolution (which triggers the check when nothing asked for it before). With --time: how long the check takes
    // and then a first 16×6×8×8 convolution forward and backward (docs/troubleshooting.md).
    if (args.Contains("--time"))
    {
        using (var warm = Tensors.Ones(2, 2)) { }  // libtorch and the shim loaded
        var timer = System.Diagnostics.Stopwatch.StartNew();
        var result = Tensors.OneDnnSelfCheck;
        double checkMs = timer.Elapsed.TotalMilliseconds;
        timer.Restart();
        using (var scope = Tensors.NewDisposeScope())
        {
            var x = Tensors.Randn(16, 6, 8, 8).RequiresGradInPlace();
            var w = Tensors.Randn(6, 6, 3, 3).RequiresGradInPlace();
            MedVision.Torch.Nn.Functional.Convolution(x, w, null, 2, null, new long[] { 1 }).Sum().Backward();
        }
        Console.WriteLine(string.Create(inv, $"check={result} check_ms={checkMs:F1} first_conv_ms={timer.Elapsed.TotalMilliseconds:F1} threads={Tensors.NumThreads}"));
        return 0;
    }
    using (var x = Tensors.Ones(1, 2, 5, 5))
    using (var w = Tensors.Ones(3, 2, 3, 3))
    using (var y = MedVision.Torch.Nn.Functional.Convolution(x, w, null, 2)) { }
    Console.WriteLine($"check={Tensors.OneDnnSelfCheck} enabled={Tensors.OneDnnEnabled}");
    return 0;
}

if (args.FirstOrDefault() == "cpu-memory")
{
    // Not distributed: reports how the CPU allocator was set up from this process's environment (CpuMemoryTests).
    using (var t = Tensors.Ones(1 << 19)) { }  // one 2 MiB tensor through the allocator
    var stats = CpuMemory.GetStatistics();
    // Requests just under 1 MiB while an 8 MiB tensor is alive: the large-bytes-in-use count must not drift (with
    // MALLOC_MMAP_THRESHOLD_=131072 malloc serves them with page-rounded mappings of more than 1 MiB).
    long drift;
    using (var live = Tensors.Ones(1 << 21))
    {
        var before = CpuMemory.GetStatistics().LargeBytesInUse;
        for (long bytes = (1 << 20) - 128; bytes < 1 << 20; bytes += 4)
            using (var small = Tensors.Empty([bytes / 4])) { }
        drift = CpuMemory.GetStatistics().LargeBytesInUse - before;
    }
    Console.WriteLine(string.Create(inv, $"installed={CpuMemory.IsInstalled} limit={stats.Limit} cached={stats.CachedBytes} drift={drift}"));
    return 0;
}
var options = DistributedOptions.FromEnvironment() with
{
    Timeout = TimeSpan.FromMilliseconds(int.Parse(Environment.GetEnvironmentVariable("MEDVISION_DIST_TIMEOUT_MS") ?? "60000", inv)),
};
var clock = Stopwatch.StartNew();
try
{
    switch (args.FirstOrDefault())
    {
        case "collectives": Collectives(options); break;
        case "train": Train(options); break;
        default: Console.Error.WriteLine("usage: collectives | train ..."); return 2;
    }
    return 0;
}
catch (DistributedException e)
{
    Console.WriteLine($"DistributedException after {clock.Elapsed.TotalSeconds.ToString("F1", inv)} s: {e.Message}");
    return 42;
}
catch (Exception e)
{
    Console.WriteLine($"{e.GetType().Name}: {e.Message}");
    return 43;
}

void Collectives(DistributedOptions o)
{
    using var g = ProcessGroup.Initialize(o);
    string Show(Tensor t) => string.Join(",", t.To(ScalarType.Float64).Flatten().ToArray<double>().Select(v => v.ToString("R", inv)));
    using var scope = Tensors.NewDisposeScope();
    var r = g.Rank;
    Console.WriteLine("sum=" + Show(g.AllReduce(Tensors.Full(new long[] { 3 }, r + 1.0))));
    Console.WriteLine("mean=" + Show(g.AllReduce(Tensors.Full(new long[] { 2 }, r + 1.0), ReduceOp.Mean)));
    Console.WriteLine("max=" + Show(g.AllReduce(Tensors.FromArray(new[] { (float)r, -r }, 2), ReduceOp.Max)));
    Console.WriteLine("min=" + Show(g.AllReduce(Tensors.FromArray(new[] { (float)r, -r }, 2), ReduceOp.Min)));
    Console.WriteLine("long=" + Show(g.AllReduce(Tensors.FromArray(new[] { 10L * (r + 1) }, 1))));
    Console.WriteLine("broadcast=" + Show(g.Broadcast(Tensors.Full(new long[] { 2 }, 7.0 + r), root: 1)));
    Console.WriteLine("gather=" + Show(g.AllGather(Tensors.Full(new long[] { 2 }, (double)r))));
    var rows = Tensors.Full(new long[] { r + 1, 2 }, (double)r);
    Console.WriteLine("concat=" + Show(g.AllGatherConcat(rows)));
    g.Barrier();
    Console.WriteLine("barrier=ok");
    var x = Tensors.Full(new long[] { 2 }, r + 1.0, requiresGrad: true);
    var y = g.AllReduceWithGradient(x * 1.0);
    (y * (r + 1.0)).Sum().Backward();
    Console.WriteLine("autograd=" + Show(y) + ";" + Show(x.Grad!));
}

void Train(DistributedOptions o)
{
    var single = Flag("--single");
    var model = Arg("--model", "plain");
    int steps = int.Parse(Arg("--steps", "5"), inv);
    int dieAfter = int.Parse(Arg("--die-after", "-1"), inv);
    int stallAfter = int.Parse(Arg("--stall-after", "-1"), inv);
    var outDir = Arg("--out", ".");
    const int PerRank = 8;
    using var g = single ? null : ProcessGroup.Initialize(o);
    int world = single ? 1 : g!.WorldSize, rank = single ? 0 : g!.Rank;
    int globalBatch = single ? PerRank * int.Parse(Arg("--as-world", "2"), inv) : PerRank * world;

    // Different initial weights on every rank: DistributedDataParallel must copy rank 0's.
    Tensors.ManualSeed((ulong)(100 + rank));
    using var net = Net(model);
    Module<Tensor, Tensor> trained = net;
    DistributedDataParallel<Tensor, Tensor>? ddp = null;
    if (!single) trained = ddp = new DistributedDataParallel<Tensor, Tensor>(net, g!, new DataParallelOptions { SyncBatchNorm = model == "syncbn", BucketCapBytes = 600 });
    using var optimizer = new Sgd(net.Parameters(), 0.1, momentum: 0.9);
    for (int step = 0; step < steps; step++)
    {
        if (step == dieAfter && rank == 1) { Console.WriteLine($"rank 1 dies at step {step}"); Console.Out.Flush(); Environment.Exit(3); }
        if (step == stallAfter && rank == 1) { Console.WriteLine($"rank 1 stalls at step {step}"); Console.Out.Flush(); Thread.Sleep(Timeout.Infinite); }
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed((ulong)(1000 + step));
        var x = Tensors.Randn(new long[] { globalBatch, 1, 8, 8 });
        var y = Tensors.RandInt(0, 3, new long[] { globalBatch });
        var lx = single ? x : x.Narrow(0, rank * PerRank, PerRank);
        var ly = single ? y : y.Narrow(0, rank * PerRank, PerRank);
        optimizer.ZeroGrad();
        var loss = Functional.CrossEntropy(trained.Call(lx), ly);
        loss.Backward();
        optimizer.Step();
        Console.WriteLine($"step {step} loss {loss.Item().ToString("F6", inv)}");
    }
    if (ddp is not null)
    {
        var s = ddp.Statistics;
        Console.WriteLine($"stats steps={s.Steps} buckets={s.Buckets} bytes={s.BytesReduced} early={s.BucketsLaunchedDuringBackward}");
    }
    Directory.CreateDirectory(outDir);
    SafeTensors.Save(Path.Combine(outDir, single ? "single.safetensors" : $"rank{rank}.safetensors"), net.StateDict());
    g?.Barrier();
}

static Sequential Net(string kind)
{
    var layers = new List<Module<Tensor, Tensor>> { new Conv2d(1, 6, 3, padding: 1) };
    if (kind != "plain") layers.Add(new BatchNorm2d(6));
    layers.Add(new ReLU());
    layers.Add(new Conv2d(6, 6, 3, padding: 1));
    if (kind != "plain") layers.Add(new BatchNorm2d(6));
    layers.Add(new ReLU());
    layers.Add(new AdaptiveAvgPool2d(1));
    layers.Add(new Flatten());
    layers.Add(new Linear(6, 3));
    return new Sequential(layers.ToArray());
}
