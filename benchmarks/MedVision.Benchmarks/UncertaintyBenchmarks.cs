using BenchmarkDotNet.Attributes;
using MedVision.Nets.Metrics.Conformal;
using MedVision.Nets.Metrics.Selective;

namespace MedVision.Benchmarks;

/// <summary>
/// Conformal prediction and selective prediction on 10,000 images of five grades (random probabilities, labels drawn
/// from them): calibrating APS and ordinal APS, the sets of 10,000 images, the risk–coverage curve and the SGR threshold.
/// What a deployment adds per image is the set of one image: PredictSets' time divided by 10,000.
/// </summary>
[MemoryDiagnoser]
public class UncertaintyBenchmarks
{
    private const int Count = 10_000;
    private int[] _labels = null!;
    private double[,] _probabilities = null!;
    private ConformalClassifier _aps = null!, _ordinal = null!;
    private double[] _confidence = null!, _errors = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        _labels = new int[Count];
        _probabilities = new double[Count, 5];
        for (int i = 0; i < Count; i++)
        {
            double sum = 0;
            var w = new double[5];
            for (int k = 0; k < 5; k++) sum += w[k] = Math.Pow(random.NextDouble(), 3);
            double u = random.NextDouble(), cumulative = 0;
            _labels[i] = 4;
            for (int k = 0; k < 5; k++)
            {
                _probabilities[i, k] = w[k] / sum;
                if (_labels[i] == 4 && u < (cumulative += w[k] / sum)) _labels[i] = k;
            }
        }
        _aps = CalibrateAps();
        _ordinal = CalibrateOrdinalAps();
        _confidence = SelectivePrediction.Confidence(_probabilities);
        _errors = SelectivePrediction.Errors(_labels, _probabilities);
    }

    [Benchmark(Baseline = true)]
    public ConformalClassifier CalibrateAps() => ConformalClassifier.Create().WithScore(ConformalScore.Aps).Calibrate(_labels, _probabilities);

    [Benchmark]
    public ConformalClassifier CalibrateOrdinalAps() => ConformalClassifier.Create().WithScore(ConformalScore.OrdinalAps).Calibrate(_labels, _probabilities);

    [Benchmark]
    public int ApsSetsOf10000Images() => _aps.PredictSets(_probabilities).Length;

    [Benchmark]
    public int OrdinalSetsOf10000Images() => _ordinal.PredictSets(_probabilities).Length;

    [Benchmark]
    public double RiskCoverageCurveOf10000Images() => RiskCoverageCurve.Compute(_confidence, _errors).Aurc;

    [Benchmark]
    public double SelectiveThresholdOn10000Images() => SelectiveRiskControl.Fit(_confidence, _errors, 0.3).Threshold;
}
