using System.Text.Json;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Torch.Tests.Optim;

/// <summary>
/// Trajectories against PyTorch 1.13: Fixtures/optim_reference.json (written by Fixtures/make_optim_reference.py, run
/// once with the system Python) holds the parameters and learning rates after each of 8–12 steps of torch.optim
/// optimizers, parameter groups, gradient clipping and schedulers on a small float64 least-squares problem. The same
/// steps through MedVision.Torch must give the same numbers (to 1e-12 relative).
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
    };

    private static readonly Dictionary<string, Func<Optimizer, LearningRateScheduler>> Schedulers = new()
    {
        ["adam_step_lr"] = o => new StepLR(o, stepSize: 2, gamma: 0.5),
        ["sgd_multistep_lr"] = o => new MultiStepLR(o, [1, 3, 4], gamma: 0.3),
        ["adamw_cosine"] = o => new CosineAnnealingLR(o, tMax: 5, etaMin: 0.001),
        // torch: SequentialLR(LinearLR(start_factor=1/3, total_iters=3), CosineAnnealingLR(T_max=4), milestones=[3])
        ["sgd_warmup_cosine"] = o => new CosineAnnealingLR(o, tMax: 4, warmupEpochs: 3, warmupStartFactor: 1.0 / 3),
        ["adam_groups_step_lr"] = o => new StepLR(o, stepSize: 3, gamma: 0.1),
    };

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
            Close(optimizer.ParameterGroups.Select(g => g.LearningRate).ToArray(), Array(expected.GetProperty("lr")), $"{name}: learning rates after step {step}");
            step++;
        }
        step.Should().BeGreaterThanOrEqualTo(8);
    }

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
