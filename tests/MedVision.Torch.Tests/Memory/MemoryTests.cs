using System.Diagnostics;
using Xunit.Abstractions;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Memory;

/// <summary>Native memory is released deterministically: live-tensor counts return to their start and RSS stays flat.</summary>
[Collection(SerialCollection.Name)]
public class MemoryTests
{
    private readonly ITestOutputHelper _output;
    public MemoryTests(ITestOutputHelper output) => _output = output;

    private static void FullGc() => NativeHeap.Settle();

    [Fact]
    public void ThousandTrainingSteps_LeakNeitherTensorsNorMemory()
    {
        Tensors.ManualSeed(99);
        using var model = new Sequential(new Conv2d(1, 8, 3), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(8 * 5 * 5, 3));
        var initial = model.Parameters().Select(H.ToDoubles).ToList();
        FullGc();
        var start = Tensors.LiveTensors;
        const int Steps = 3000;
        long rss200 = 0, rssEnd = 0;
        var heap = new List<long>();  // malloc's in-use bytes at steps 200, 400, …, 3000
        double firstLoss = 0, lastLoss = 0;
        var sw = Stopwatch.StartNew();
        for (int step = 1; step <= Steps; step++)
        {
            using (var scope = Tensors.NewDisposeScope())
            {
                var x = Tensors.Randn(8, 1, 12, 12);
                // a learnable target: the class is the sign pattern of the mean of two image halves
                var left = x[TensorIndex.Ellipsis, ..6].Mean(new long[] { 1, 2, 3 }) > 0;
                var right = x[TensorIndex.Ellipsis, 6..].Mean(new long[] { 1, 2, 3 }) > 0;
                var target = left.To(ScalarType.Int64) + right.To(ScalarType.Int64);
                var loss = F.CrossEntropy(model.Call(x), target);
                loss.Backward();
                using (Tensors.NoGrad())
                    foreach (var p in model.Parameters())
                        p.SubInPlace(p.Grad!, 0.05);
                model.ZeroGrad();
                var value = loss.Item();
                double.IsFinite(value).Should().BeTrue();
                if (step <= 50) firstLoss += value / 50;
                if (step > Steps - 50) lastLoss += value / 50;
            }
            if (step % 100 == 0) Tensors.LiveTensors.Should().Be(start, "step {0} must free everything it created", step);
            if (step >= 200 && step % 200 == 0) heap.Add(NativeHeap.InUseBytes());
            if (step == 200) rss200 = NativeHeap.ResidentBytes();
            if (step == Steps) rssEnd = NativeHeap.ResidentBytes();
        }
        sw.Stop();
        var windows = heap.Zip(heap.Skip(1), (a, b) => b - a).ToList();
        _output.WriteLine($"{Steps} steps in {sw.Elapsed.TotalSeconds:F1} s; malloc in use at steps 200…{Steps}: {string.Join(", ", heap.Select(h => $"{h >> 10} KiB"))} " +
                          $"(growth per 200 steps: {string.Join(", ", windows.Select(w => $"{w / 1024} KiB"))}); RSS step 200 {rss200 >> 20} MiB, step {Steps} {rssEnd >> 20} MiB " +
                          $"(growth {(rssEnd - rss200) / 1024} KiB); mean loss first 50 {firstLoss:F3}, last 50 {lastLoss:F3}");
        Tensors.LiveTensors.Should().Be(start);
        // A leak grows with the steps: one step's autograd graph holds about 80 KB of activations, and even one leaked
        // 8-sample input batch a step adds about 0.9 MB every 200 steps (InUseBytes_SeesALeakOfOneInputBatchAStep), in
        // every window. So ten of the fourteen 200-step windows must grow by less than 768 KB: one-off allocations
        // elsewhere in the process move a few windows only (CI runs saw malloc's in-use bytes jump by 3.9 MB once, and
        // by 1.9 MB and 0.8 MB in two neighbouring windows of four, the next window giving some of it back). Measured without a
        // leak: 0–290 KB a window (warm-up: the JIT and caches still allocate a few hundred KB in the first thousands of
        // steps, then nothing). The resident set, which also moves with the allocator's free lists (it grew 10 MB in
        // one suite run), is only checked coarsely.
        windows.Should().HaveCount(14);
        windows.Count(w => w < LeakWindowBound).Should().BeGreaterThanOrEqualTo(10,
            "native memory in use must stay flat (malloc's in-use bytes grew {0} over the 200-step windows)", string.Join(", ", windows.Select(w => w.ToString("N0", System.Globalization.CultureInfo.InvariantCulture))));
        (rssEnd - rss200).Should().BeLessThan(32L << 20, "resident memory must stay flat (grew {0:N0} bytes between steps 200 and {1})", rssEnd - rss200, Steps);
        lastLoss.Should().BeLessThan(firstLoss, "the manual SGD updates train the model");
        model.Parameters().Select(H.ToDoubles).Zip(initial).Should().OnlyContain(p => !p.First.SequenceEqual(p.Second));
        ((BatchNorm2d)model[1]).NumBatchesTracked!.Item<long>().Should().Be(Steps);
    }

    private const long LeakWindowBound = 768L << 10;

    [Fact]
    public void InUseBytes_SeesALeakOfOneInputBatchAStep()
    {
        var leaked = new List<Tensor>();
        long held;
        try
        {
            var windows = new List<long>();
            for (int window = 0; window < 4; window++)
            {
                var start = NativeHeap.InUseBytes();
                for (int step = 0; step < 200; step++) leaked.Add(Tensors.Randn(8, 1, 12, 12));
                windows.Add(NativeHeap.InUseBytes() - start);
            }
            _output.WriteLine($"200 batches of 8x1x12x12 floats held per window: malloc in use grew {string.Join(", ", windows.Select(w => $"{w / 1024} KiB"))}");
            windows.Should().OnlyContain(w => w > 200L * 8 * 144 * sizeof(float), "every window holds 200 more batches");
            windows.Should().OnlyContain(w => w >= LeakWindowBound, "the leak test's bound must see this leak in every window");
        }
        finally
        {
            held = NativeHeap.InUseBytes();
            foreach (var t in leaked) t.Dispose();
        }
        // Measured as the drop on disposal, not against the start: the process's other threads (the runtime's, a test
        // class running beside this one) allocate too, and moved the start-to-end difference by up to 1.1 MB in a CI run
        // on busy cores. The 800 batches hold 3.7 MB; at least half of it must come back.
        const long batches = 4 * 200 * 8 * 144 * sizeof(float);
        (held - NativeHeap.InUseBytes()).Should().BeGreaterThan(batches / 2, "disposing the tensors gives their memory back");
    }

    [Fact]
    public void DisposeScopes_Nest_MoveToOuter_AndDetach()
    {
        FullGc();
        var start = Tensors.LiveTensors;
        Tensor kept, detached;
        using (var outer = Tensors.NewDisposeScope())
        {
            using (var inner = Tensors.NewDisposeScope())
            {
                DisposeScope.Current.Should().BeSameAs(inner);
                inner.Outer.Should().BeSameAs(outer);
                var a = Tensors.Ones(2, 2);
                var b = a * 3;
                kept = inner.MoveToOuter(b + 1);
                detached = DisposeScope.Detach(b * 2);
                inner.Count.Should().Be(2);
            }
            DisposeScope.Current.Should().BeSameAs(outer);
            Tensors.LiveTensors.Should().Be(start + 2, "kept (now in the outer scope) and the detached tensor survive");
            kept.IsDisposed.Should().BeFalse();
            kept.ToArray<float>().Should().Equal(4, 4, 4, 4);
            outer.Count.Should().Be(1);
        }
        kept.IsDisposed.Should().BeTrue("the outer scope disposed it");
        detached.IsDisposed.Should().BeFalse();
        detached.ToArray<float>().Should().Equal(6, 6, 6, 6);
        detached.Dispose();
        detached.Dispose(); // idempotent
        Tensors.LiveTensors.Should().Be(start);
    }

    [Fact]
    public void ModuleDispose_ReleasesParametersAndBuffers()
    {
        FullGc();
        var start = Tensors.LiveTensors;
        var bn = new BatchNorm2d(4);
        var lin = new Linear(3, 2);
        Tensors.LiveTensors.Should().Be(start + 5 + 2);
        bn.To(ScalarType.Float64);
        Tensors.LiveTensors.Should().Be(start + 7, "conversion replaces tensors without leaking the old ones");
        bn.Dispose();
        lin.Dispose();
        Tensors.LiveTensors.Should().Be(start);
    }

    // CloneStateDict and the weight averages copied each weight from a detached view that nothing disposed: the views
    // (one per entry, holding the weights' storage) stayed alive until a garbage collection, so a trainer that cloned
    // the best weights every improving epoch left a model's worth of handles behind per clone.
    [Fact]
    public void CloningWeights_LeavesOnlyTheCopies()
    {
        FullGc();
        var start = Tensors.LiveTensors;
        var net = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 2));
        long own = Tensors.LiveTensors - start; // 2 + 5 + 2 parameters and buffers
        own.Should().Be(9);
        var copy = net.CloneStateDict();
        Tensors.LiveTensors.Should().Be(start + own + copy.Count, "a clone adds its copies and nothing else");
        foreach (var t in copy.Values) t.Dispose();
        Tensors.LiveTensors.Should().Be(start + own);
        using (var ema = new ExponentialMovingAverage(net, decay: 0.9))
            Tensors.LiveTensors.Should().Be(start + own + 9, "the average holds one copy of every parameter and buffer");
        using (var swa = new StochasticWeightAverage(net))
            Tensors.LiveTensors.Should().Be(start + own + 6, "the stochastic average copies the parameters only");
        Tensors.LiveTensors.Should().Be(start + own);
        net.Dispose();
        Tensors.LiveTensors.Should().Be(start);
    }
}
