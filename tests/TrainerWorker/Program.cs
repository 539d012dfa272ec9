// One rank of the data-parallel trainer tests: trains a small CNN with synchronised batch norm on a RetinaMNIST subset
// through Trainer.DistributeOver (or, with --single, in one process with the whole global batch) and prints the results.
//   --out DIR        rank R writes into DIR/rank{R} (only rank 0 may write anything)
//   --single         one process, batch 2 × 16, no process group
//   --accumulate N   Trainer.AccumulateGradients(N) (refused with DistributeOver over more than one rank)
//   --average DECAY  Trainer.AverageWeights(DECAY) (the averaged weights are evaluated, selected and checkpointed)
//   --swa LR         Trainer.WithStochasticWeightAveraging(LR) over epochs 2 and 3
//   --local-bn       batch norm keeps per-rank statistics (no SyncBatchNorm)
// Output lines: "VAL auc acc", "TEST auc acc", "LOSS l1,l2,..." and on rank 0 "SINGLE auc acc" (the selected model
// evaluated on the whole validation split by this process alone).
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

var inv = CultureInfo.InvariantCulture;
bool single = args.Contains("--single");
int i = Array.IndexOf(args, "--out");
var outRoot = i >= 0 ? args[i + 1] : Path.GetTempPath();
Tensors.NumThreads = 1;
try
{
    var options = DistributedOptions.FromEnvironment() with { Timeout = TimeSpan.FromSeconds(60) };
    using var group = single ? null : ProcessGroup.Initialize(options);
    int rank = group?.Rank ?? 0, world = group?.WorldSize ?? 1;
    var retina = MedMnistDataset.LoadEmbeddedRetinaMnist();
    DataLoader Loader(MedMnistSplitData split, int count, bool train) => new(
        new Subset(new MedMnistImageSource(split), count),
        new DataLoaderOptions
        {
            BatchSize = single && train ? 32 : 16, Shuffle = train, Seed = 5,
            Transform = train ? TransformPipeline.Create().RandomHorizontalFlip().Normalize(0.5f, 0.5f).Build() : TransformPipeline.Create().Normalize(0.5f, 0.5f).Build(),
        });
    Tensors.ManualSeed((ulong)(7 + rank)); // different initial weights per rank: rank 0's must win
    using var model = new Sequential(new Conv2d(3, 4, 3, padding: 1, bias: false), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 5));
    var builder = Trainer.Create(new ClassificationTask(model, MedMnistTask.OrdinalRegression))
        .TrainOn(Loader(retina.Train, 128, train: true))
        .ValidateOn(Loader(retina.Validation, 45, train: false))
        .TestOn(Loader(retina.Test, 41, train: false))
        .UseAdam(1e-2)
        .ForEpochs(3)
        .WithSeed(9)
        .SaveTo(Path.Combine(outRoot, single ? "single" : $"rank{rank}"));
    int accumulate = Array.IndexOf(args, "--accumulate");
    if (accumulate >= 0) builder = builder.AccumulateGradients(int.Parse(args[accumulate + 1], inv));
    int average = Array.IndexOf(args, "--average");
    if (average >= 0) builder = builder.AverageWeights(double.Parse(args[average + 1], inv));
    int swa = Array.IndexOf(args, "--swa");
    if (swa >= 0) builder = builder.WithStochasticWeightAveraging(double.Parse(args[swa + 1], inv), startFraction: 0.34, annealEpochs: 1);
    if (group is not null) builder = builder.DistributeOver(group, new DataParallelOptions { SyncBatchNorm = !args.Contains("--local-bn") });
    var validation = Loader(retina.Validation, 45, train: false);
    var result = builder.Build().Run();
    Console.WriteLine(string.Create(inv, $"VAL {result.Validation.Auc:R} {result.Validation.Acc:R}"));
    Console.WriteLine(string.Create(inv, $"TEST {result.Test.Auc:R} {result.Test.Acc:R}"));
    Console.WriteLine("LOSS " + string.Join(",", result.History.Select(h => h.TrainLoss.ToString("R", inv))));
    if (rank == 0)
    {
        var (labels, scores) = Trainer.Predict(new ClassificationTask(model, MedMnistTask.OrdinalRegression), validation);
        Console.WriteLine(string.Create(inv, $"SINGLE {MedMnistEvaluator.GetAuc(MedMnistTask.OrdinalRegression, labels, scores).Value:R} {MedMnistEvaluator.GetAcc(MedMnistTask.OrdinalRegression, labels, scores):R} n={labels.GetLength(0)}"));
    }
    group?.Barrier();
    return 0;
}
catch (Exception e)
{
    Console.WriteLine($"{e.GetType().Name}: {e.Message}");
    return 43;
}

sealed class Subset(ILabeledImageSource inner, int count) : ILabeledImageSource
{
    public int Count => count;
    public int LabelColumns => inner.LabelColumns;
    public (FloatImage Image, int[] Labels) Load(int index) => inner.Load(index);
}
