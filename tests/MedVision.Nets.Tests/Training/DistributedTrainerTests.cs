using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Training;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DistributedTrainerCollection
{
    public const string Name = "Distributed trainer (multi-process, runs alone)";
}

[Collection(DistributedTrainerCollection.Name)]
public sealed class DistributedTrainerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mvn-ddp-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static async Task<(LaunchResult Result, string Output)> Run(int world, params string[] args)
    {
        var output = new StringWriter();
        var result = await LocalLauncher.RunAsync(new LaunchOptions
        {
            FileName = "dotnet",
            Arguments = new[] { Path.Combine(AppContext.BaseDirectory, "TrainerWorker.dll") }.Concat(args).ToArray(),
            ProcessesPerNode = world,
            MasterPort = 0,
            ThreadsPerProcess = 1,
        }, output, new CancellationTokenSource(TimeSpan.FromMinutes(3)).Token);
        return (result, output.ToString());
    }

    private static string[] Line(string output, int rank, string key)
        => output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith($"[rank {rank}] {key} ", StringComparison.Ordinal)).Split(' ')[3..];

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Two_ranks_train_like_one_process_on_the_whole_batch_and_only_rank_0_writes()
    {
        var (result, output) = await Run(2, "--out", _root);
        result.Succeeded.Should().BeTrue(output);
        var (single, singleOutput) = await Run(1, "--single", "--out", _root);
        single.Succeeded.Should().BeTrue(singleOutput);

        // Only rank 0 writes checkpoints, history and results.
        File.Exists(Path.Combine(_root, "rank0", "result.json")).Should().BeTrue();
        File.Exists(Path.Combine(_root, "rank0", "last.safetensors")).Should().BeTrue();
        Directory.Exists(Path.Combine(_root, "rank1")).Should().BeFalse("rank 1 must not write anything");

        // Evaluation gathers the predictions of both ranks: both report the metrics of the whole validation split,
        // the same a single process computes with the selected weights.
        Line(output, 0, "VAL").Should().Equal(Line(output, 1, "VAL"));
        Line(output, 0, "TEST").Should().Equal(Line(output, 1, "TEST"));
        var singleEval = Line(output, 0, "SINGLE");
        singleEval[2].Should().Be("n=45");
        D(Line(output, 0, "VAL")[0]).Should().Be(D(singleEval[0]));
        D(Line(output, 0, "VAL")[1]).Should().Be(D(singleEval[1]));

        // Shards of 16 per rank with synchronised batch norm = one process with batch 32 (same samples, same augmentation).
        var ddpLoss = Line(output, 0, "LOSS")[0].Split(',').Select(D).ToArray();
        var oneLoss = Line(singleOutput, 0, "LOSS")[0].Split(',').Select(D).ToArray();
        ddpLoss.Should().HaveCount(3);
        for (int e = 0; e < 3; e++) ddpLoss[e].Should().BeApproximately(oneLoss[e], 1e-5);
        using var a = SafeTensors.Load(Path.Combine(_root, "rank0", "last.safetensors"));
        using var b = SafeTensors.Load(Path.Combine(_root, "single", "last.safetensors"));
        // (The convolution before the batch norm has no bias, as in ResNet: such a bias has a zero true gradient, which
        // Adam would turn into arbitrary full-size steps driven by rounding noise.)
        foreach (var key in b.Keys)
        {
            var x = a[key].To(ScalarType.Float64).Flatten().ToArray<double>();
            var y = b[key].To(ScalarType.Float64).Flatten().ToArray<double>();
            for (int i = 0; i < x.Length; i++) x[i].Should().BeApproximately(y[i], 1e-4, $"{key}[{i}]");
        }
        D(Line(output, 0, "VAL")[0]).Should().BeApproximately(D(Line(singleOutput, 0, "VAL")[0]), 5e-3);
    }

    [Fact]
    public async Task Gradient_accumulation_is_refused_on_every_rank_of_a_data_parallel_run()
    {
        var (result, output) = await Run(2, "--accumulate", "2", "--out", _root);
        result.Succeeded.Should().BeFalse();
        result.ExitCodes.Should().Contain(43, "the worker reports the builder's exception and exits with 43");
        output.Should().Contain("InvalidOperationException: Gradient accumulation is not supported with DistributeOver");
        Directory.Exists(Path.Combine(_root, "rank0")).Should().BeFalse("nothing is trained or written");
    }

    [Fact]
    public async Task Stochastic_weight_averaging_over_two_ranks_evaluates_one_model_on_every_rank()
    {
        // Synchronised batch norm: the recomputed statistics are those of the whole epoch, as in one process.
        var (result, output) = await Run(2, "--swa", "0.005", "--out", Path.Combine(_root, "sync"));
        result.Succeeded.Should().BeTrue(output);
        var (single, singleOutput) = await Run(1, "--single", "--swa", "0.005", "--out", Path.Combine(_root, "sync"));
        single.Succeeded.Should().BeTrue(singleOutput);
        Line(output, 0, "VAL").Should().Equal(Line(output, 1, "VAL"));
        D(Line(output, 0, "VAL")[0]).Should().BeApproximately(D(Line(singleOutput, 0, "VAL")[0]), 5e-3);
        using (var a = SafeTensors.Load(Path.Combine(_root, "sync", "rank0", "last.average.safetensors")))
        using (var b = SafeTensors.Load(Path.Combine(_root, "sync", "single", "last.average.safetensors")))
        {
            a.Keys.Should().BeEquivalentTo(b.Keys).And.NotContain(k => k.Contains("running", StringComparison.Ordinal), "parameters only are averaged");
            foreach (var key in b.Keys)
            {
                var x = a[key].To(ScalarType.Float64).Flatten().ToArray<double>();
                var y = b[key].To(ScalarType.Float64).Flatten().ToArray<double>();
                for (int i = 0; i < x.Length; i++) x[i].Should().BeApproximately(y[i], 1e-4, $"{key}[{i}]");
            }
        }

        // Per-rank batch norm: each rank recomputes statistics on its shard, then they are averaged, so both ranks hold
        // the same model: rank 0 alone scores the validation split exactly as the two ranks together did.
        (result, output) = await Run(2, "--swa", "0.005", "--local-bn", "--out", Path.Combine(_root, "local"));
        result.Succeeded.Should().BeTrue(output);
        Line(output, 0, "VAL").Should().Equal(Line(output, 1, "VAL"));
        var alone = Line(output, 0, "SINGLE");
        D(alone[0]).Should().Be(D(Line(output, 0, "VAL")[0]));
        D(alone[1]).Should().Be(D(Line(output, 0, "VAL")[1]));
    }

    [Fact]
    public async Task Weight_averaging_over_two_ranks_equals_one_process_and_only_rank_0_writes_the_average()
    {
        var (result, output) = await Run(2, "--average", "0.5", "--out", _root);
        result.Succeeded.Should().BeTrue(output);
        var (single, singleOutput) = await Run(1, "--single", "--average", "0.5", "--out", _root);
        single.Succeeded.Should().BeTrue(singleOutput);

        File.Exists(Path.Combine(_root, "rank0", "last.average.safetensors")).Should().BeTrue();
        Directory.Exists(Path.Combine(_root, "rank1")).Should().BeFalse("rank 1 must not write anything");
        Line(output, 0, "VAL").Should().Equal(Line(output, 1, "VAL"), "both ranks evaluate the same averaged weights");
        D(Line(output, 0, "VAL")[0]).Should().BeApproximately(D(Line(singleOutput, 0, "VAL")[0]), 5e-3);

        using var a = SafeTensors.Load(Path.Combine(_root, "rank0", "last.average.safetensors"));
        using var b = SafeTensors.Load(Path.Combine(_root, "single", "last.average.safetensors"));
        a.Keys.Should().BeEquivalentTo(b.Keys);
        foreach (var key in b.Keys)
        {
            var x = a[key].To(ScalarType.Float64).Flatten().ToArray<double>();
            var y = b[key].To(ScalarType.Float64).Flatten().ToArray<double>();
            for (int i = 0; i < x.Length; i++) x[i].Should().BeApproximately(y[i], 1e-4, $"{key}[{i}]");
        }
    }

    [Fact]
    public void The_sampler_gives_each_rank_a_disjoint_shard_that_changes_every_epoch()
    {
        var order = Enumerable.Range(0, 11).Reverse().ToArray();
        var shards = Enumerable.Range(0, 3).Select(r => new DistributedSampler(r, 3).Shard(order)).ToArray();
        shards.Should().OnlyContain(s => s.Length == 4);
        shards.SelectMany(s => s).Distinct().Should().HaveCount(11, "padding repeats one sample; all 11 are covered");
        shards[0].Should().Equal(10, 7, 4, 1);
        shards[2].Should().Equal(8, 5, 2, 10); // padded with the epoch's first sample, as PyTorch does

        var exact = Enumerable.Range(0, 3).Select(r => new DistributedSampler(r, 3, padToEqualShards: false).Shard(order)).ToArray();
        exact.Select(s => s.Length).Should().Equal(4, 4, 3);
        exact.SelectMany(s => s).Should().BeEquivalentTo(order, "exact shards count every sample once");

        var source = new CountingSource(100);
        var loaders = Enumerable.Range(0, 2).Select(r => new DataLoader(source, new DataLoaderOptions { BatchSize = 10, Shuffle = true, Seed = 3, Sampler = new DistributedSampler(r, 2) })).ToArray();
        loaders[0].BatchesPerEpoch.Should().Be(5);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var r0 = loaders[0].EpochOrder(epoch);
            var r1 = loaders[1].EpochOrder(epoch);
            r0.Intersect(r1).Should().BeEmpty();
            r0.Concat(r1).Should().BeEquivalentTo(Enumerable.Range(0, 100));
        }
        loaders[0].EpochOrder(0).Should().NotEqual(loaders[0].EpochOrder(1), "reshuffled by epoch");
        FluentActions.Invoking(() => new DistributedSampler(2, 2)).Should().Throw<ArgumentOutOfRangeException>();
    }

    private sealed class CountingSource(int count) : ILabeledImageSource
    {
        public int Count => count;
        public int LabelColumns => 1;
        public (MedVision.Nets.Transforms.FloatImage Image, int[] Labels) Load(int index) => throw new NotSupportedException();
    }
}
