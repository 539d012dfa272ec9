using System.Text.Json;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Torch.Tests.Optim;

/// <summary>
/// Trajectories against PyTorch 1.13: Fixtures/optim_reference.json (written by Fixtures/make_optim_reference.py, run
/// once with the system Python) holds the parameters and learning rates after each of 8–12 steps of torch.optim
/// optimizers, parameter groups, gradient clipping and schedulers on a small float64 least-squares problem. The same
/// steps through MedVision.Torch must give the same numbers (to 1e-12 relative); so must a stochastic weight average
/// along three of the runs and the batch-norm statistics update_bn recomputes.
/// </summary>
public sealed class OptimReferenceTests
{
    private static readonly Lazy<JsonDocument> Reference =
        new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "optim_reference.json"))));

    private static double[] Array(string name) => Array(Reference.Value.RootElement.GetProperty(name));
    private static double[] Array(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    // torch.optim's calls of make_optim_reference.py, in MedVision.Torch's names.
    private static readonly Dictionary<string, Func<Tensor, Tensor, Optimizer>> Optimizers = new()
    {
        ["sgd"] = (w, b) => new Sgd([w, b], learningRate: 0.01),
        ["sgd_momentum_dampening_decay"] = (w, b) => new Sgd([w, b], learningRate: 0.01, momentum: 0.9, dampening: 0.1, weightDecay: 0.01),
        ["sgd_nesterov"] = (w, b) => new Sgd([w, b], learningRate: 0.01, momentum: 0.8, weightDecay: 0.001, nesterov: true),
        ["adam"] = (w, b) => new Adam([w, b], learningRate: 0.01),
        ["adam_amsgrad_decay_betas"] = (w, b) => new Adam([w, b], learningRate: 0.02, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.01, amsGrad: true),
        ["adamw"] = (w, b) => new AdamW([w, b], learningRate: 0.02, weightDecay: 0.1),
        ["adamw_amsgrad"] = (w, b) => new AdamW([w, b], learningRate: 0.02, amsGrad: true),
        ["sgd_groups"] = (w, b) => new Sgd([new SgdParameterGroup([w], 0.02, momentum: 0.9), new SgdParameterGroup([b], 0.005, weightDecay: 0.1)]),
        ["adam_groups"] = (w, b) => new Adam([new AdamParameterGroup([w], 0.01), new AdamParameterGroup([b], 0.05, weightDecay: 0.01)]),
        ["sgd_clip"] = (w, b) => new Sgd([w, b], learningRate: 0.01, momentum: 0.9),
        ["adam_step_lr"] = (w, b) => new Adam([w, b], learningRate: 0.05),
        ["sgd_multistep_lr"] = (w, b) => new Sgd([w, b], learningRate: 0.01),
        ["adamw_cosine"] = (w, b) => new AdamW([w, b], learningRate: 0.05),
        ["sgd_warmup_cosine"] = (w, b) => new Sgd([w, b], learningRate: 0.01, momentum: 0.5),
        ["adam_groups_step_lr"] = (w, b) => new Adam([new AdamParameterGroup([w], 0.01), new AdamParameterGroup([b], 0.05)]),
        ["rmsprop"] = (w, b) => new RmsProp([w, b], learningRate: 0.01),
        ["rmsprop_centered_momentum_decay"] = (w, b) => new RmsProp([w, b], learningRate: 0.005, alpha: 0.9, epsilon: 1e-6, weightDecay: 0.01, momentum: 0.8, centered: true),
        ["adagrad"] = (w, b) => new Adagrad([w, b], learningRate: 0.1),
        ["adagrad_decay_accumulator"] = (w, b) => new Adagrad([w, b], learningRate: 0.1, learningRateDecay: 0.05, weightDecay: 0.01, initialAccumulatorValue: 0.5, epsilon: 1e-8),
        ["nadam"] = (w, b) => new NAdam([w, b], learningRate: 0.01),
        ["nadam_decay"] = (w, b) => new NAdam([w, b], learningRate: 0.02, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.01, momentumDecay: 0.01),
        ["radam"] = (w, b) => new RAdam([w, b], learningRate: 0.01),
        ["radam_decay_betas"] = (w, b) => new RAdam([w, b], learningRate: 0.02, beta1: 0.8, beta2: 0.9, epsilon: 1e-6, weightDecay: 0.01),
        ["sgd_exponential_lr"] = (w, b) => new Sgd([w, b], learningRate: 0.01),
        ["adam_linear_lr"] = (w, b) => new Adam([w, b], learningRate: 0.02),
        ["sgd_polynomial_lr"] = (w, b) => new Sgd([w, b], learningRate: 0.01, momentum: 0.9),
        ["adam_lambda_lr"] = (w, b) => new Adam([w, b], learningRate: 0.02),
        ["sgd_warm_restarts"] = (w, b) => new Sgd([w, b], learningRate: 0.01),
        ["adamw_warm_restarts"] = (w, b) => new AdamW([w, b], learningRate: 0.02),
        ["sgd_sequential_linear_exponential"] = (w, b) => new Sgd([w, b], learningRate: 0.01, momentum: 0.5),
        ["adam_sequential_three"] = (w, b) => new Adam([w, b], learningRate: 0.02),
        ["sgd_one_cycle"] = (w, b) => new Sgd([w, b], learningRate: 0.01, momentum: 0.9),
        ["adam_one_cycle_three_phase_linear"] = (w, b) => new Adam([w, b], learningRate: 0.01),
        ["rmsprop_one_cycle_groups"] = (w, b) => new RmsProp([new RmsPropParameterGroup([w], 0.01, momentum: 0.9), new RmsPropParameterGroup([b], 0.01, momentum: 0.5)]),
        ["adamw_one_cycle_no_momentum"] = (w, b) => new AdamW([w, b], learningRate: 0.01),
        ["sgd_swalr"] = (w, b) => new Sgd([w, b], learningRate: 0.05, momentum: 0.9),
        ["adam_groups_swalr_linear"] = (w, b) => new Adam([new AdamParameterGroup([w], 0.02), new AdamParameterGroup([b], 0.05)]),
        ["sgd_swalr_no_anneal"] = (w, b) => new Sgd([w, b], learningRate: 0.05),
    };

    private static readonly Dictionary<string, Func<Optimizer, LearningRateScheduler>> Schedulers = new()
    {
        ["adam_step_lr"] = o => new StepLR(o, stepSize: 2, gamma: 0.5),
        ["sgd_multistep_lr"] = o => new MultiStepLR(o, [1, 3, 4], gamma: 0.3),
        ["adamw_cosine"] = o => new CosineAnnealingLR(o, tMax: 5, etaMin: 0.001),
        // torch: SequentialLR(LinearLR(start_factor=1/3, total_iters=3), CosineAnnealingLR(T_max=4), milestones=[3])
        ["sgd_warmup_cosine"] = o => new CosineAnnealingLR(o, tMax: 4, warmupEpochs: 3, warmupStartFactor: 1.0 / 3),
        ["adam_groups_step_lr"] = o => new StepLR(o, stepSize: 3, gamma: 0.1),
        ["sgd_exponential_lr"] = o => new ExponentialLR(o, gamma: 0.8),
        ["adam_linear_lr"] = o => new LinearLR(o, startFactor: 0.25, endFactor: 0.5, totalIterations: 5),
        ["sgd_polynomial_lr"] = o => new PolynomialLR(o, totalIterations: 6, power: 0.9),
        ["adam_lambda_lr"] = o => new LambdaLR(o, e => 1.0 / Math.Pow(1 + e, 0.5)),
        ["sgd_warm_restarts"] = o => new CosineAnnealingWarmRestarts(o, t0: 2, tMult: 2, etaMin: 0.001),
        ["adamw_warm_restarts"] = o => new CosineAnnealingWarmRestarts(o, t0: 3),
        ["sgd_sequential_linear_exponential"] = o => new SequentialLR(o, [new LinearLR(o, startFactor: 0.1, totalIterations: 3), new ExponentialLR(o, gamma: 0.7)], [3]),
        ["adam_sequential_three"] = o => new SequentialLR(o,
            [new LinearLR(o, startFactor: 0.5, totalIterations: 2), new StepLR(o, stepSize: 2, gamma: 0.5), new PolynomialLR(o, totalIterations: 3)], [2, 6]),
        ["sgd_one_cycle"] = o => new OneCycleLR(o, maxLearningRate: 0.05, totalSteps: 10),
        ["adam_one_cycle_three_phase_linear"] = o => new OneCycleLR(o, maxLearningRate: 0.03, totalSteps: 12, warmupFraction: 0.25,
            annealStrategy: AnnealStrategy.Linear, threePhase: true, divFactor: 10, finalDivFactor: 100),
        ["rmsprop_one_cycle_groups"] = o => new OneCycleLR(o, [0.02, 0.005], totalSteps: 9, warmupFraction: 0.4, baseMomentum: 0.8, maxMomentum: 0.9),
        ["adamw_one_cycle_no_momentum"] = o => new OneCycleLR(o, maxLearningRate: 0.04, totalSteps: 8, cycleMomentum: false),
        ["sgd_swalr"] = o => new SwaLR(o, swaLearningRate: 0.01, annealEpochs: 3),
        ["adam_groups_swalr_linear"] = o => new SwaLR(o, [0.005, 0.01], annealEpochs: 4, annealStrategy: AnnealStrategy.Linear),
        ["sgd_swalr_no_anneal"] = o => new SwaLR(o, swaLearningRate: 0.02, annealEpochs: 0),
    };

    // torch.optim.swa_utils.AveragedModel over (w, b), updated after every step from this one on (0-based).
    private static readonly Dictionary<string, int> SwaFrom = new() { ["sgd_swalr"] = 2, ["adam_groups_swalr_linear"] = 0 };

    // Holds the trajectory's tensors as parameters "w" and "b", so that a weight average can follow them.
    private sealed class Holder : Module
    {
        public Holder(Tensor w, Tensor b)
        {
            RegisterParameter("w", w);
            RegisterParameter("b", b);
        }
    }

    private static readonly Dictionary<string, double> Clipping = new() { ["sgd_clip"] = 0.5 };

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Reference.Value.RootElement.GetProperty("cases").EnumerateObject()) data.Add(c.Name);
        return data;
    }

    [Fact]
    public void EveryCaseOfTheFixture_HasAnOptimizer()
    {
        var names = Reference.Value.RootElement.GetProperty("cases").EnumerateObject().Select(c => c.Name).ToList();
        names.Should().BeEquivalentTo(Optimizers.Keys);
        Schedulers.Keys.Concat(Clipping.Keys).Should().BeSubsetOf(names);
        Reference.Value.RootElement.GetProperty("torch").GetString().Should().StartWith("1.13");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FollowsPyTorch(string name)
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(Array("x"), 5, 3);
        var y = Tensors.FromArray(Array("y"), 5, 4);
        var c = Tensors.FromArray(Array("c"), 5, 4);
        var w = Tensors.FromArray(Array("w0"), 3, 4).RequiresGradInPlace();
        var b = Tensors.FromArray(Array("b0"), 4).RequiresGradInPlace();
        using var optimizer = Optimizers[name](w, b);
        var scheduler = Schedulers.TryGetValue(name, out var make) ? make(optimizer) : null;
        using var holder = SwaFrom.ContainsKey(name) ? new Holder(w, b) : null;
        using var swa = holder is not null ? new StochasticWeightAverage(holder) : null;

        int step = 0;
        foreach (var expected in Reference.Value.RootElement.GetProperty("cases").GetProperty(name).GetProperty("trajectory").EnumerateArray())
        {
            using (var stepScope = Tensors.NewDisposeScope())
            {
                optimizer.ZeroGrad();
                var loss = ((x.MatMul(w) + b - y).Square() * c).Sum() + 0.1 * w.Pow(4).Sum();
                loss.Backward();
                if (Clipping.TryGetValue(name, out var maxNorm))
                {
                    var norm = GradientClipping.ClipGradNorm([w, b], maxNorm);
                    norm.Should().BeApproximately(expected.GetProperty("norm").GetDouble(), 1e-12, $"the gradient norm before clipping at step {step}");
                }
                optimizer.Step();
                scheduler?.Step();
            }
            Close(w.ToArray<double>(), Array(expected.GetProperty("w")), $"{name}: w after step {step}");
            Close(b.ToArray<double>(), Array(expected.GetProperty("b")), $"{name}: b after step {step}");
            var lrs = Array(expected.GetProperty("lr"));
            var momenta = Array(expected.GetProperty("momentum"));
            if (scheduler is OneCycleLR oneCycle && oneCycle.LastEpoch == oneCycle.TotalSteps)
            {
                // After the last optimizer step PyTorch extrapolates past the cycle; this library keeps the final values.
                lrs = oneCycle.MaxLearningRates.Select(m => m / oneCycle.DivFactor / oneCycle.FinalDivFactor).ToArray();
                if (oneCycle.CycleMomentum) momenta = momenta.Select(_ => oneCycle.MaxMomentum).ToArray();
            }
            Close(optimizer.ParameterGroups.Select(g => g.LearningRate).ToArray(), lrs, $"{name}: learning rates after step {step}");
            Close(optimizer.ParameterGroups.Select(Momentum).ToArray(), momenta, $"{name}: momentum after step {step}");
            if (swa is not null && step >= SwaFrom[name])
            {
                swa.Update(holder!);
                Close(swa.StateDict["w"].ToArray<double>(), Array(expected.GetProperty("swa_w")), $"{name}: averaged w after step {step}");
                Close(swa.StateDict["b"].ToArray<double>(), Array(expected.GetProperty("swa_b")), $"{name}: averaged b after step {step}");
            }
            else expected.TryGetProperty("swa_w", out _).Should().BeFalse("the fixture averages only from step {0} on", SwaFrom.GetValueOrDefault(name));
            step++;
        }
        step.Should().BeGreaterThanOrEqualTo(8);
    }

    [Fact]
    public void UpdateBatchNorm_RecomputesTheStatisticsLikeUpdateBn()
    {
        var fixture = Reference.Value.RootElement.GetProperty("update_bn");
        using var scope = Tensors.NewDisposeScope();
        using var net = new Sequential(new Conv2d(2, 3, 3), new BatchNorm2d(3), new ReLU(), new Conv2d(3, 2, 1), new BatchNorm2d(2, momentum: 0.3));
        net.To(ScalarType.Float64);
        static Tensor Read(JsonElement e)
        {
            var values = Array(e.GetProperty("values"));
            return Tensors.FromArray(values, values.Length).Reshape(e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
        }
        net.LoadStateDict(fixture.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => Read(p.Value)));
        var batches = fixture.GetProperty("batches").EnumerateArray().Select(Read).ToList();
        var weightsBefore = net.Parameters().Select(p => p.ToArray<double>()).ToList();
        net.Eval();

        StochasticWeightAverage.UpdateBatchNorm(net, batches).Should().Be(3);

        foreach (var entry in fixture.GetProperty("expected").EnumerateObject())
        {
            var actual = net.StateDict()[entry.Name];
            Close(actual.To(ScalarType.Float64).ToArray<double>(), Array(entry.Value), $"{entry.Name} after UpdateBatchNorm");
        }
        net.Training.Should().Be(fixture.GetProperty("training_after").GetBoolean(), "the model's mode comes back");
        net.Modules().OfType<BatchNorm>().Select(b => b.Momentum).Should().Equal(Array(fixture.GetProperty("momentum_after")).Select(m => (double?)m));
        net.Parameters().Select(p => p.ToArray<double>()).Should().BeEquivalentTo(weightsBefore, o => o.WithStrictOrdering(), "only the statistics change");
    }

    [Fact]
    public void CosineAnnealingWarmRestarts_SteppedToFractionalEpochs_FollowsPyTorch()
    {
        int compared = 0;
        foreach (var c in Reference.Value.RootElement.GetProperty("warm_restarts_fractional").EnumerateArray())
        {
            int t0 = c.GetProperty("t0").GetInt32(), tMult = c.GetProperty("t_mult").GetInt32();
            double etaMin = c.GetProperty("eta_min").GetDouble(), baseLr = c.GetProperty("base_lr").GetDouble();
            using var scope = Tensors.NewDisposeScope();
            using var sgd = new Sgd([Tensors.Zeros(1).RequiresGradInPlace()], learningRate: baseLr);
            var scheduler = new CosineAnnealingWarmRestarts(sgd, t0, tMult, etaMin);
            foreach (var step in c.GetProperty("steps").EnumerateArray())
            {
                var epoch = step.GetProperty("epoch");
                string what = $"T_0 {t0}, T_mult {tMult}, step({(epoch.ValueKind == JsonValueKind.Null ? "" : epoch.GetDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture))})";
                if (epoch.ValueKind == JsonValueKind.Null) scheduler.Step();
                else scheduler.Step(epoch.GetDouble());
                scheduler.LastEpoch.Should().Be(step.GetProperty("last_epoch").GetInt32(), what);
                double expected = step.GetProperty("lr").GetDouble();
                if (tMult == 3 && epoch.ValueKind == JsonValueKind.Number && epoch.GetDouble() == 121)
                {
                    // PyTorch's log(121 / 1 · 2 + 1, 3) rounds to 4.999…, placing the restart at the end of the previous
                    // cycle (eta_min); 121 = 1 + 3 + 9 + 27 + 81 is the start of a cycle, where the rate is the base.
                    expected.Should().Be(etaMin, "the fixture records PyTorch's rounding");
                    expected = baseLr;
                }
                sgd.ParameterGroups[0].LearningRate.Should().BeApproximately(expected, 1e-15, what);
                scheduler.LastLearningRates[0].Should().Be(sgd.ParameterGroups[0].LearningRate);
                compared++;
            }
        }
        compared.Should().Be(31);
    }

    // The momentum a schedule may cycle, as the fixture records it (0 for an optimizer without one).
    private static double Momentum(ParameterGroup group) => group switch
    {
        SgdParameterGroup sgd => sgd.Momentum,
        RmsPropParameterGroup rms => rms.Momentum,
        AdaptiveMomentParameterGroup adam => adam.Beta1,
        _ => 0,
    };

    private static void Close(double[] actual, double[] expected, string what)
    {
        actual.Length.Should().Be(expected.Length, what);
        for (int k = 0; k < expected.Length; k++)
        {
            double tolerance = 1e-15 + 1e-12 * Math.Abs(expected[k]);
            if (!(Math.Abs(actual[k] - expected[k]) <= tolerance))
                throw new Xunit.Sdk.XunitException($"{what}, element {k}: {actual[k]:R}, PyTorch gives {expected[k]:R}.");
        }
    }
}
