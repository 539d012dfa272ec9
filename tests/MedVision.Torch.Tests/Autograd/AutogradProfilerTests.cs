using System.Text.Json;
using MedVision.Torch.Autograd;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Autograd;

public sealed class AutogradProfilerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mvt-profiler-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A convolution, a linear layer (a composite operator: transpose and matrix product inside) and three ReLUs,
    // forward and backward.
    private static void Work(long batch = 2)
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(batch, 3, 8, 8);
        var w = Tensors.Randn(4, 3, 3, 3).RequiresGradInPlace();
        var y = F.Conv2d(x, w, padding: 1).Relu().Relu().Relu();
        var v = Tensors.Randn(2, 4 * 8 * 8).RequiresGradInPlace();
        F.Linear(y.Flatten(1), v).Sum().Backward();
    }

    [Fact]
    public void Stop_GivesTheOperatorsRun_NestedWithSelfTimesThatAddUp()
    {
        using (var scope = Tensors.NewDisposeScope()) Tensors.Ones(3).CumSum(0);  // before: not recorded
        using var profiler = AutogradProfiler.Start();
        profiler.IsRunning.Should().BeTrue();
        AutogradProfiler.IsEnabled.Should().BeTrue();
        Work();
        var profile = profiler.Stop();
        using (var scope = Tensors.NewDisposeScope()) Tensors.Ones(3).Exp();  // after: not recorded
        profiler.IsRunning.Should().BeFalse();
        AutogradProfiler.IsEnabled.Should().BeFalse();

        var names = profile.Events.Select(e => e.Name).ToHashSet();
        names.Should().Contain(["aten::linear", "aten::relu", "aten::sum"]);
        names.Should().Contain(n => n.Contains("ReluBackward0"), "the backward pass is recorded too");
        names.Should().NotContain(["aten::cumsum", "aten::exp"], "only what ran while the profiler ran");
        profile.KeyAverages().Single(a => a.Name == "aten::relu").Count.Should().Be(3);

        // nesting: aten::linear's operators run inside it, a level deeper, within its time; every nested range lies
        // inside the range one level up that precedes it on its thread
        var linear = profile.Events.Single(e => e.Name == "aten::linear");
        var inside = profile.Events.Where(e => e.ThreadId == linear.ThreadId && e.Depth == linear.Depth + 1
            && e.StartMicroseconds >= linear.StartMicroseconds && e.EndMicroseconds <= linear.EndMicroseconds + 1e-3).ToList();
        inside.Select(e => e.Name).Should().Contain("aten::t");
        linear.SelfDurationMicroseconds.Should().BeApproximately(linear.DurationMicroseconds - inside.Sum(e => e.DurationMicroseconds), 1e-6, "its operators' time is not its own");
        var events = profile.Events;
        for (int i = 0; i < events.Count; i++)
        {
            if (events[i].Depth == 0) continue;
            var parent = events.Take(i).Last(e => e.ThreadId == events[i].ThreadId && e.Depth == events[i].Depth - 1);
            events[i].StartMicroseconds.Should().BeGreaterThanOrEqualTo(parent.StartMicroseconds);
            events[i].EndMicroseconds.Should().BeLessThanOrEqualTo(parent.EndMicroseconds + 1e-3, $"{events[i].Name} lies inside {parent.Name}");
        }
        profile.Events.Should().OnlyContain(e => e.SelfDurationMicroseconds >= 0 && e.SelfDurationMicroseconds <= e.DurationMicroseconds && e.DurationMicroseconds >= 0);
        // the self times of a thread add up to the time of its outermost ranges
        foreach (var thread in profile.Events.GroupBy(e => e.ThreadId))
            thread.Sum(e => e.SelfDurationMicroseconds).Should().BeApproximately(thread.Where(e => e.Depth == 0).Sum(e => e.DurationMicroseconds), 1e-3 * thread.Count());
        profile.SelfCpuTimeTotalMicroseconds.Should().BeApproximately(profile.Events.Sum(e => e.SelfDurationMicroseconds), 1e-9);
        profile.Events.Should().OnlyContain(e => e.InputShapes == "" && e.CpuMemoryBytes == 0, "neither shapes nor memory were asked for");
        profile.KeyAverages().Sum(a => a.Count).Should().Be(profile.Events.Count);
    }

    [Fact]
    public void RecordShapes_GivesEachOperatorsInputShapes_AndKeyAveragesGroupByThem()
    {
        var profile = Profile(() => { Work(batch: 2); Work(batch: 5); }, recordShapes: true);
        profile.RecordedShapes.Should().BeTrue();
        var relus = profile.KeyAverages(groupByInputShape: true).Where(a => a.Name == "aten::relu").ToList();
        relus.Select(a => (a.InputShapes, a.Count)).Should().BeEquivalentTo([("[[2, 4, 8, 8]]", 3), ("[[5, 4, 8, 8]]", 3)]);
        profile.Events.First(e => e.Name == "aten::linear").InputShapes.Should().Be("[[2, 256], [2, 256], []]", "a non-tensor argument (the absent bias) shows as []");
        profile.KeyAverages().Single(a => a.Name == "aten::relu").Count.Should().Be(6);
        profile.Table(groupByInputShape: true).Should().Contain("[[5, 4, 8, 8]]");

        var withoutShapes = Profile(() => Work());
        FluentActions.Invoking(() => withoutShapes.KeyAverages(groupByInputShape: true)).Should().Throw<InvalidOperationException>().WithMessage("*recordShapes*");
    }

    [Fact]
    public void ProfileMemory_AttributesAllocationsToTheOperatorThatMadeThem()
    {
        var profile = Profile(() =>
        {
            using var scope = Tensors.NewDisposeScope();
            Tensors.Zeros([1000], ScalarType.Float64);
            Tensors.Zeros([250], ScalarType.Float32);
        }, profileMemory: true);
        profile.RecordedMemory.Should().BeTrue();
        // the binding's zeros are aten::full, whose aten::empty allocates: the allocation is aten::empty's own, and
        // counted in aten::full's total
        var full = profile.Events.Where(e => e.Name == "aten::full").ToList();
        full.Select(e => e.CpuMemoryBytes).Should().Equal(8000, 1000);
        full.Select(e => e.SelfCpuMemoryBytes).Should().Equal(0, 0);
        profile.Events.Where(e => e.Name == "aten::empty").Select(e => e.SelfCpuMemoryBytes).Should().Equal(8000, 1000);
        profile.Table(ProfilerSortKey.CpuMemory).Should().Contain("8.79 KB").And.Contain("CPU Mem");

        var without = Profile(() => Work());
        FluentActions.Invoking(() => without.Table(ProfilerSortKey.SelfCpuMemory)).Should().Throw<InvalidOperationException>().WithMessage("*profileMemory*");
        without.Table().Should().NotContain("CPU Mem");
    }

    [Fact]
    public void RecordFunction_MarksARangeAroundItsOperators_AndRangesNest()
    {
        var profile = Profile(() =>
        {
            using (AutogradProfiler.RecordFunction("training step"))
            {
                using (AutogradProfiler.RecordFunction("forward")) Work();
                using var scope = Tensors.NewDisposeScope();
                Tensors.Ones(4).Exp();
            }
        });
        var step = profile.Events.Single(e => e.Name == "training step");
        var forward = profile.Events.Single(e => e.Name == "forward");
        step.Depth.Should().Be(0);
        forward.Depth.Should().Be(1);
        forward.StartMicroseconds.Should().BeGreaterThanOrEqualTo(step.StartMicroseconds);
        forward.EndMicroseconds.Should().BeLessThanOrEqualTo(step.EndMicroseconds + 1e-3);
        profile.Events.Single(e => e.Name == "aten::linear").Depth.Should().Be(2, "inside forward, inside the step");
        profile.Events.Single(e => e.Name == "aten::exp").Depth.Should().Be(1);
        profile.Events.Where(e => e.Depth == 0).Should().ContainSingle("everything ran inside the step");

        // ranges end innermost first, on their thread
        using var profiler = AutogradProfiler.Start();
        var outer = AutogradProfiler.RecordFunction("outer");
        var inner = AutogradProfiler.RecordFunction("inner");
        FluentActions.Invoking(outer.Dispose).Should().Throw<InvalidOperationException>().WithMessage("*'outer' still holds the open range 'inner'*");
        var other = new Thread(() => FluentActions.Invoking(inner.Dispose).Should().Throw<InvalidOperationException>().WithMessage("*ends on the thread that opened it*"));
        other.Start();
        other.Join();
        inner.Dispose();
        outer.Dispose();
        outer.Dispose();
        profiler.Stop().Events.Select(e => e.Name).Should().Equal("outer", "inner");
        FluentActions.Invoking(() => AutogradProfiler.RecordFunction("")).Should().Throw<ArgumentException>();
        using (AutogradProfiler.RecordFunction("no profiler")) { }  // costs nothing, records nothing
    }

    [Fact]
    public void TheProfiler_BelongsToItsThread_AndRefusesMisuseByName()
    {
        using var profiler = AutogradProfiler.Start();
        FluentActions.Invoking(() => AutogradProfiler.Start()).Should().Throw<InvalidOperationException>().WithMessage("A profiler already records this thread*");
        bool otherThreadRecorded = true;
        Exception? fromOtherThread = null;
        var other = new Thread(() =>
        {
            otherThreadRecorded = AutogradProfiler.IsEnabled;
            using (var scope = Tensors.NewDisposeScope()) Tensors.Ones(3).CumSum(0);
            try { profiler.Stop(); } catch (Exception e) { fromOtherThread = e; }
        });
        other.Start();
        other.Join();
        otherThreadRecorded.Should().BeFalse("libtorch's profiler records the thread that started it");
        fromOtherThread.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("records the thread that started it");
        var profile = profiler.Stop();
        profile.Events.Should().NotContain(e => e.Name == "aten::cumsum", "the other thread was not recorded");
        FluentActions.Invoking(profiler.Stop).Should().Throw<InvalidOperationException>().WithMessage("*stopped already*");

        // disposing without stopping discards the profile and frees the thread for another profiler
        var discarded = AutogradProfiler.Start();
        Work();
        discarded.Dispose();
        AutogradProfiler.IsEnabled.Should().BeFalse();
        Profile(() => Work()).Events.Should().NotBeEmpty();
    }

    [Fact]
    public void Table_ListsTheKeyAverages_LargestFirst_WithinTheRowLimit()
    {
        var profile = Profile(() => { Work(); Work(); });
        var table = profile.Table(ProfilerSortKey.Count, rowLimit: 4);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[1].Should().StartWith("Name").And.Contain("Self CPU %").And.Contain("CPU time avg").And.Contain("# of Calls");
        var rows = lines[3..7];
        rows.Should().HaveCount(4);
        var counts = rows.Select(r => int.Parse(r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1])).ToList();
        counts.Should().BeInDescendingOrder();
        counts[0].Should().Be(profile.KeyAverages().Max(a => a.Count));
        lines[^1].Should().StartWith("Self CPU time total: ");
        var bySelf = profile.Table(rowLimit: 1).Split('\n')[3];
        bySelf.Should().StartWith(profile.KeyAverages().MaxBy(a => a.SelfCpuTimeTotalMicroseconds)!.Name);
        FluentActions.Invoking(() => profile.Table(rowLimit: 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => profile.Table((ProfilerSortKey)9)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ExportChromeTrace_WritesEveryRangeAsACompleteEvent_Atomically()
    {
        var profile = Profile(() => Work(), recordShapes: true, profileMemory: true);
        var path = Path.Combine(_dir, "trace.json");
        profile.ExportChromeTrace(path);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var events = document.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        events.Should().HaveCount(profile.Events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            var (json, e) = (events[i], profile.Events[i]);
            json.GetProperty("name").GetString().Should().Be(e.Name);
            json.GetProperty("ph").GetString().Should().Be("X");
            json.GetProperty("ts").GetDouble().Should().Be(e.StartMicroseconds);
            json.GetProperty("dur").GetDouble().Should().Be(e.DurationMicroseconds);
            json.GetProperty("tid").GetInt32().Should().Be(e.ThreadId);
            json.GetProperty("args").GetProperty("Input Dims").GetString().Should().Be(e.InputShapes);
            json.GetProperty("args").GetProperty("CPU Memory Bytes").GetInt64().Should().Be(e.CpuMemoryBytes);
        }
        // a destination that is a folder: refused, and nothing half-written beside it
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "taken")).FullName;
        FluentActions.Invoking(() => profile.ExportChromeTrace(folder)).Should().Throw<IOException>();
        Directory.GetFiles(_dir).Select(Path.GetFileName).Should().Equal("trace.json");
    }

    private static ProfileResult Profile(Action work, bool recordShapes = false, bool profileMemory = false)
    {
        using var profiler = AutogradProfiler.Start(recordShapes, profileMemory);
        work();
        return profiler.Stop();
    }
}
