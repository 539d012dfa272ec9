using BenchmarkDotNet.Attributes;
using MedVision.Nets.Metrics;

namespace MedVision.Benchmarks;

/// <summary>MedMNIST AUC (mean of per-label ROC AUCs) of a multi-label task: 100,000 samples × 14 labels.</summary>
[MemoryDiagnoser]
public class AucBenchmarks
{
    private const int Samples = 100_000;
    private const int Labels = 14;
    private int[,] _labels = null!;
    private float[,] _scores = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(0);
        _labels = new int[Samples, Labels];
        _scores = new float[Samples, Labels];
        for (int i = 0; i < Samples; i++)
        {
            for (int j = 0; j < Labels; j++)
            {
                int label = random.NextDouble() < 0.2 ? 1 : 0;
                _labels[i, j] = label;
                _scores[i, j] = (float)Math.Clamp(0.35 * label + random.NextDouble() * 0.65, 0, 1);
            }
        }
    }

    [Benchmark]
    public double MultiLabelAuc() => MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, _labels, _scores).Value;
}
