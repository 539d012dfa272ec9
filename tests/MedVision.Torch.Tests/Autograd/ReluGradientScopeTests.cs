using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Autograd;

public sealed class ReluGradientScopeTests
{
    // x (5) → W1 (6×5) → ReLU → W2 (4×6) → ReLU (in place) → W3 (3×4) → logits; weights and input drawn so that both
    // ReLUs have active and inactive units and the incoming gradients both signs.
    private sealed class Mlp
    {
        public readonly double[] X = new double[5];
        public readonly double[,] W1 = new double[6, 5], W2 = new double[4, 6], W3 = new double[3, 4];

        public Mlp(int seed)
        {
            var random = new Random(seed);
            double Next() => random.NextDouble() * 2 - 1;
            for (int i = 0; i < 5; i++) X[i] = Next();
            Fill(W1, Next); Fill(W2, Next); Fill(W3, Next);
        }

        private static void Fill(double[,] w, Func<double> next)
        {
            for (int i = 0; i < w.GetLength(0); i++)
                for (int j = 0; j < w.GetLength(1); j++) w[i, j] = next();
        }

        public static Tensor ToTensor(double[,] w)
        {
            var flat = new double[w.Length];
            Buffer.BlockCopy(w, 0, flat, 0, flat.Length * sizeof(double));
            return Tensors.FromArray(flat, w.GetLength(0), w.GetLength(1));
        }

        public Tensor Forward(Tensor x, Tensor w1, Tensor w2, Tensor w3)
        {
            var a1 = F.Linear(x, w1).Relu();
            var a2 = F.Linear(a1, w2).ReluInPlace();
            return F.Linear(a2, w3);
        }

        private static double[] Apply(double[,] w, double[] v, bool transpose)
        {
            int rows = transpose ? w.GetLength(1) : w.GetLength(0), cols = transpose ? w.GetLength(0) : w.GetLength(1);
            var result = new double[rows];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) result[i] += (transpose ? w[j, i] : w[i, j]) * v[j];
            return result;
        }

        private static double[] Backward(double[] gradient, double[] preActivation, ReluGradient rule) =>
            gradient.Select((g, i) => rule switch
            {
                ReluGradient.Standard => preActivation[i] > 0 ? g : 0,
                ReluGradient.Guided => preActivation[i] > 0 ? Math.Max(g, 0) : 0,
                _ => Math.Max(g, 0),
            }).ToArray();

        // The input gradient of logit `target` for the input's row of the batch [X; reference] under DeepLIFT's rescale
        // rule, by hand: each ReLU's derivative replaced by (relu(h) − relu(h′)) / (h − h′), or kept where h = h′.
        public double[] ExpectedRescaleGradient(int target, double[] reference)
        {
            static double Relu(double v) => Math.Max(v, 0);
            static double[] Multiplier(double[] h, double[] hr) =>
                h.Select((v, i) => Math.Abs(v - hr[i]) < 1e-10 ? (v > 0 ? 1 : 0) : (Relu(v) - Relu(hr[i])) / (v - hr[i])).ToArray();
            var h1 = Apply(W1, X, false);
            var h1r = Apply(W1, reference, false);
            var h2 = Apply(W2, h1.Select(Relu).ToArray(), false);
            var h2r = Apply(W2, h1r.Select(Relu).ToArray(), false);
            var (m1, m2) = (Multiplier(h1, h1r), Multiplier(h2, h2r));
            var gh2 = Enumerable.Range(0, 4).Select(j => W3[target, j] * m2[j]).ToArray();
            var gh1 = Apply(W2, gh2, true).Select((g, i) => g * m1[i]).ToArray();
            return Apply(W1, gh1, true);
        }

        // The input gradient of logit `target` under `rule`, by hand.
        public double[] ExpectedGradient(int target, ReluGradient rule)
        {
            var h1 = Apply(W1, X, false);
            var h2 = Apply(W2, h1.Select(v => Math.Max(v, 0)).ToArray(), false);
            var g = Enumerable.Range(0, 4).Select(j => W3[target, j]).ToArray();
            var gh2 = Backward(g, h2, rule);
            var gh1 = Backward(Apply(W2, gh2, true), h1, rule);
            return Apply(W1, gh1, true);
        }
    }

    private static (double[] Gradient, double[] Logits, long Overrides) Run(Mlp mlp, int target, ReluGradient? rule)
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(mlp.X, 1, 5).RequiresGradInPlace();
        var (w1, w2, w3) = (Mlp.ToTensor(mlp.W1), Mlp.ToTensor(mlp.W2), Mlp.ToTensor(mlp.W3));
        Tensor logits;
        long overrides = 0;
        if (rule is { } r)
        {
            using var relu = ReluGradientScope.Begin(r);
            relu.Rule.Should().Be(r);
            logits = mlp.Forward(x, w1, w2, w3);
            overrides = relu.Overrides;
        }
        else logits = mlp.Forward(x, w1, w2, w3);
        var gradient = Gradients.Compute(logits.Select(1, target).Sum(), x);
        return (gradient.ToArray<double>(), logits.Detach().ToArray<double>(), overrides);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(7, 2)]
    public void EachRule_GivesTheHandComputedInputGradient_AndLeavesTheForwardValuesAlone(int seed, int target)
    {
        var mlp = new Mlp(seed);
        var (plain, plainLogits, _) = Run(mlp, target, null);
        plain.Should().Equal(mlp.ExpectedGradient(target, ReluGradient.Standard), (a, b) => Math.Abs(a - b) < 1e-12);

        var results = new Dictionary<ReluGradient, double[]>();
        foreach (var rule in new[] { ReluGradient.Standard, ReluGradient.Guided, ReluGradient.Deconvolution }) // DeepLIFT's rule takes pairs: below
        {
            var (gradient, logits, overrides) = Run(mlp, target, rule);
            gradient.Should().Equal(mlp.ExpectedGradient(target, rule), (a, b) => Math.Abs(a - b) < 1e-12, $"{rule}");
            logits.Should().Equal(plainLogits, $"{rule} changes only the backward pass (bit for bit: the deconvolution rule adds an exact zero)");
            overrides.Should().Be(rule == ReluGradient.Standard ? 0 : 2, "both ReLUs, the out-of-place and the in-place one, are changed");
            results[rule] = gradient;
        }
        // The three rules give three different answers on this network, so none of the checks above passes by accident.
        results[ReluGradient.Guided].Should().NotEqual(results[ReluGradient.Standard]);
        results[ReluGradient.Deconvolution].Should().NotEqual(results[ReluGradient.Guided]);
        results[ReluGradient.Deconvolution].Should().NotEqual(results[ReluGradient.Standard]);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(7, 2)]
    public void TheRescaleRule_GivesTheHandComputedDeepLiftMultipliers_WhichAddUpToTheLogitsDifference(int seed, int target)
    {
        var mlp = new Mlp(seed);
        var random = new Random(seed + 100);
        var reference = Enumerable.Range(0, 5).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(mlp.X, 1, 5).RequiresGradInPlace();
        var pair = Tensors.Cat(new[] { x, Tensors.FromArray(reference, 1, 5) });
        var (w1, w2, w3) = (Mlp.ToTensor(mlp.W1), Mlp.ToTensor(mlp.W2), Mlp.ToTensor(mlp.W3));
        Tensor logits;
        using (var relu = ReluGradientScope.Begin(ReluGradient.DeepLiftRescale))
        {
            logits = mlp.Forward(pair, w1, w2, w3);
            relu.Overrides.Should().Be(2, "both ReLUs, the out-of-place and the in-place one, are changed");
        }
        var plainLogits = mlp.Forward(pair, w1, w2, w3).Detach().ToArray<double>();
        logits.Detach().ToArray<double>().Should().Equal(plainLogits, "the rule changes only the backward pass");

        var gradient = Gradients.Compute(logits.Select(1, target).Narrow(0, 0, 1).Sum(), x).ToArray<double>();
        var expected = mlp.ExpectedRescaleGradient(target, reference);
        gradient.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-12);
        gradient.Zip(mlp.ExpectedGradient(target, ReluGradient.Standard)).Max(p => Math.Abs(p.First - p.Second))
            .Should().BeGreaterThan(1e-3, "the multipliers differ from the derivatives on this network");
        // DeepLIFT's summation-to-delta: (x − x′) · multipliers = F(x) − F(x′), exactly for ReLU and linear layers.
        double sum = mlp.X.Select((v, i) => (v - reference[i]) * gradient[i]).Sum();
        sum.Should().BeApproximately(plainLogits[target] - plainLogits[3 + target], 1e-12);
    }

    [Fact]
    public void TheRescaleRule_KeepsTheDerivative_WhereInputAndReferenceAgree_AndRefusesAnOddBatch()
    {
        var mlp = new Mlp(3);
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(mlp.X, 1, 5).RequiresGradInPlace();
        var (w1, w2, w3) = (Mlp.ToTensor(mlp.W1), Mlp.ToTensor(mlp.W2), Mlp.ToTensor(mlp.W3));
        Tensor logits;
        using (ReluGradientScope.Begin(ReluGradient.DeepLiftRescale)) logits = mlp.Forward(Tensors.Cat(new[] { x, x.Detach() }), w1, w2, w3);
        Gradients.Compute(logits.Select(1, 1).Narrow(0, 0, 1).Sum(), x).ToArray<double>()
            .Should().Equal(mlp.ExpectedGradient(1, ReluGradient.Standard), (a, b) => Math.Abs(a - b) < 1e-12,
                "with the reference equal to the input every difference is 0, where the rule keeps ReLU's derivative");

        using var rescale = ReluGradientScope.Begin(ReluGradient.DeepLiftRescale);
        var odd = () => mlp.Forward(x, w1, w2, w3);
        odd.Should().Throw<TorchException>().Which.Message.Should().Contain("even batch size").And.Contain("[1, 6]");
        var scalar = () => Tensors.Scalar(2.0).RequiresGradInPlace().Relu();
        scalar.Should().Throw<TorchException>().Which.Message.Should().Contain("even batch size");
    }

    [Fact]
    public void TheRescaleRule_GivesMaxPoolingCaptumsRule_CreditingEachWindowsChangeToTheMaximaOfInputAndReference()
    {
        // Two 2×2 windows. Left: the input's maximum 3 at (0, 1), the reference's 4 at (0, 0); right: 2 at (0, 2), 5 at
        // (0, 3). Each window's change y − y′ is split at max(y, y′): nothing to the input's maximum, y − y′ to the
        // reference's, so (0, 0) is credited −1 over its change 1 − 4 and (0, 3) −3 over 0 − 5; the rest nothing.
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(new[] { 1.0, 3, 2, 0, 0.5, -1, 1, -2 }, 1, 1, 2, 4).RequiresGradInPlace();
        var reference = Tensors.FromArray(new[] { 4.0, 0, 0, 5, 0, 0, 0, 0 }, 1, 1, 2, 4);
        Tensor pooled;
        using (ReluGradientScope.Begin(ReluGradient.DeepLiftRescale)) pooled = F.MaxPool2d(Tensors.Cat(new[] { x, reference }), 2);
        pooled.Detach().ToArray<double>().Should().Equal(3, 2, 4, 5);
        var multipliers = Gradients.Compute(pooled.Narrow(0, 0, 1).Sum(), x).ToArray<double>();
        multipliers.Should().Equal(new[] { 1.0 / 3, 0, 0, 0.6, 0, 0, 0, 0 }, (a, b) => Math.Abs(a - b) < 1e-12);
        var attributions = multipliers.Select((m, i) => m * (x.Detach().ToArray<double>()[i] - reference.ToArray<double>()[i])).ToArray();
        attributions.Sum().Should().BeApproximately((3 + 2) - (4 + 5), 1e-12, "the credits add up to the windows' change");
        Gradients.Compute(F.MaxPool2d(x, 2).Sum(), x).ToArray<double>().Should().Equal(0, 1, 1, 0, 0, 0, 0, 0); // outside the scope: the gradient

        var odd = () =>
        {
            using var rule = ReluGradientScope.Begin(ReluGradient.DeepLiftRescale);
            return F.MaxPool3d(Tensors.Randn(3, 1, 4, 4, 4).RequiresGradInPlace(), 2);
        };
        odd.Should().Throw<TorchException>().WithMessage("*max pooling's input needs an even batch size*");
    }

    [Theory]
    [InlineData(2, 11)]
    [InlineData(3, 12)]
    public void WithMaxPoolingAndReluRescaled_AttributionsAddUpToTheOutputsChange_AlsoWhereWindowsOverlap(int dims, int seed)
    {
        // conv → ReLU → max pool 3, stride 2, padding 1 (overlapping windows, as a ResNet's stem) → ReLU → sum, in float64.
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed((ulong)seed);
        var shape = dims == 2 ? new long[] { 1, 2, 9, 9 } : new long[] { 1, 2, 5, 5, 5 };
        var weight = Tensors.Randn(dims == 2 ? new long[] { 3, 2, 3, 3 } : new long[] { 3, 2, 3, 3, 3 }).To(ScalarType.Float64);
        var x = Tensors.Randn(shape).To(ScalarType.Float64).RequiresGradInPlace();
        var reference = Tensors.Randn(shape).To(ScalarType.Float64);
        Tensor Network(Tensor t)
        {
            var h = (dims == 2 ? F.Conv2d(t, weight, padding: 1) : F.Conv3d(t, weight, padding: 1)).Relu();
            var pooled = dims == 2 ? F.MaxPool2d(h, 3, 2, 1) : F.MaxPool3d(h, 3, 2, 1);
            return (pooled - 0.3).Relu().Reshape(t.Size(0), -1).Sum(1);
        }
        Tensor outputs;
        using (ReluGradientScope.Begin(ReluGradient.DeepLiftRescale)) outputs = Network(Tensors.Cat(new[] { x, reference }));
        var multipliers = Gradients.Compute(outputs.Narrow(0, 0, 1).Sum(), x);
        double sum = (multipliers * (x - reference)).Sum().Item();
        var values = outputs.Detach().ToArray<double>();
        sum.Should().BeApproximately(values[0] - values[1], 1e-9 * (1 + Math.Abs(values[0] - values[1])));
        var plain = Gradients.Compute(Network(x).Sum(), x);
        Math.Abs((plain * (x - reference)).Sum().Item() - (values[0] - values[1])).Should().BeGreaterThan(1e-3, "gradient × difference does not add up, so the check above can fail");
    }

    [Theory]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    [InlineData("leaky ReLU")]
    [InlineData("ELU")]
    [InlineData("GELU")]
    [InlineData("SiLU")]
    [InlineData("softplus")]
    [InlineData("ReLU6")]
    public void TheRescaleRule_AppliesToTheOtherElementwiseActivations_SoTheirAttributionsAddUp(string name)
    {
        Func<Tensor, Tensor> activation = name switch
        {
            "sigmoid" => t => t.Sigmoid(),
            "tanh" => t => t.Tanh(),
            "leaky ReLU" => t => t.LeakyRelu(0.1),
            "ELU" => t => F.Elu(t),
            "GELU" => F.Gelu,
            "SiLU" => F.Silu,
            "softplus" => t => F.Softplus(t),
            _ => F.Relu6,
        };
        // x (1, 5) → W1 (6×5) → activation → W2 (1×6), in float64; reference drawn apart from the input
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(21);
        var w1 = Tensors.Randn(6, 5).To(ScalarType.Float64) * 2;
        var w2 = Tensors.Randn(1, 6).To(ScalarType.Float64);
        var x = Tensors.Randn(1, 5).To(ScalarType.Float64).RequiresGradInPlace();
        var reference = Tensors.Randn(1, 5).To(ScalarType.Float64);
        Tensor Network(Tensor t) => F.Linear(activation(F.Linear(t, w1)), w2).Flatten();
        var plain = Network(Tensors.Cat(new[] { x, reference })).Detach().ToArray<double>();
        Tensor outputs;
        using (var rule = ReluGradientScope.Begin(ReluGradient.DeepLiftRescale))
        {
            outputs = Network(Tensors.Cat(new[] { x, reference }));
            rule.Overrides.Should().Be(1, $"the {name} is rescaled and counted");
        }
        outputs.Detach().ToArray<double>().Should().Equal(plain, "forward values are the activation's own");
        var multipliers = Gradients.Compute(outputs[0], x);
        (multipliers * (x - reference)).Sum().Item().Should().BeApproximately(plain[0] - plain[1], 1e-10, "summation-to-delta");
        var gradient = Gradients.Compute(Network(x).Sum(), x);
        Math.Abs((gradient * (x - reference)).Sum().Item() - (plain[0] - plain[1])).Should().BeGreaterThan(1e-4, "gradient × difference does not add up, so the check above can fail");

        // with the reference equal to the input, the rule keeps the derivative
        Tensor same;
        using (ReluGradientScope.Begin(ReluGradient.DeepLiftRescale)) same = Network(Tensors.Cat(new[] { x, x.Detach() }));
        Gradients.Compute(same[0], x).ToArray<double>().Should().Equal(gradient.ToArray<double>(), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void TheRuleIsFixedWhenAReluIsRecorded_NotWhenTheBackwardPassRuns()
    {
        var mlp = new Mlp(4);
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(mlp.X, 1, 5).RequiresGradInPlace();
        var (w1, w2, w3) = (Mlp.ToTensor(mlp.W1), Mlp.ToTensor(mlp.W2), Mlp.ToTensor(mlp.W3));
        Tensor guided, standard;
        using (ReluGradientScope.Begin(ReluGradient.Guided)) guided = mlp.Forward(x, w1, w2, w3).Select(1, 0).Sum();
        standard = mlp.Forward(x, w1, w2, w3).Select(1, 0).Sum();
        Gradients.Compute(standard, x).ToArray<double>().Should().Equal(mlp.ExpectedGradient(0, ReluGradient.Standard), (a, b) => Math.Abs(a - b) < 1e-12);
        using (ReluGradientScope.Begin(ReluGradient.Deconvolution))
            Gradients.Compute(guided, x).ToArray<double>().Should().Equal(mlp.ExpectedGradient(0, ReluGradient.Guided), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void ScopesNest_AndDisposingOneRestoresTheRuleBeforeIt()
    {
        var mlp = new Mlp(5);
        using var scope = Tensors.NewDisposeScope();
        var (w1, w2, w3) = (Mlp.ToTensor(mlp.W1), Mlp.ToTensor(mlp.W2), Mlp.ToTensor(mlp.W3));
        double[] Gradient()
        {
            var x = Tensors.FromArray(mlp.X, 1, 5).RequiresGradInPlace();
            return Gradients.Compute(mlp.Forward(x, w1, w2, w3).Select(1, 1).Sum(), x).ToArray<double>();
        }
        using (var outer = ReluGradientScope.Begin(ReluGradient.Guided))
        {
            using (var inner = ReluGradientScope.Begin(ReluGradient.Deconvolution))
            {
                Gradient().Should().Equal(mlp.ExpectedGradient(1, ReluGradient.Deconvolution), (a, b) => Math.Abs(a - b) < 1e-12);
                inner.Overrides.Should().Be(2);
            }
            Gradient().Should().Equal(mlp.ExpectedGradient(1, ReluGradient.Guided), (a, b) => Math.Abs(a - b) < 1e-12);
            outer.Overrides.Should().Be(4, "the outer scope counts the inner scope's ReLUs too");
        }
        Gradient().Should().Equal(mlp.ExpectedGradient(1, ReluGradient.Standard), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void NothingIsChanged_WithoutGradients_OrForInputsThatNeedNone_AndTheCountStopsAtDisposal()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(3, 4);
        var relu = ReluGradientScope.Begin(ReluGradient.Guided);
        try
        {
            x.Relu();                                                  // no gradient needed
            using (Tensors.NoGrad()) x.Clone().RequiresGradInPlace().Relu(); // gradients off
            relu.Overrides.Should().Be(0);
            x.Clone().RequiresGradInPlace().Relu();
            relu.Overrides.Should().Be(1);
        }
        finally
        {
            relu.Dispose();
        }
        x.Clone().RequiresGradInPlace().Relu();
        relu.Overrides.Should().Be(1, "the scope no longer counts after it is disposed");
        relu.Dispose();                                            // a second disposal does nothing
    }

    [Fact]
    public void TheModuleAndFunctionalReluFollowTheRule()
    {
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(new[] { -1f, 2f, 3f, -4f }).RequiresGradInPlace();
        var weights = Tensors.FromArray(new[] { 5f, -6f, 7f, 8f });
        foreach (var (name, relu) in new (string, Func<Tensor, Tensor>)[]
                 {
                     ("module", t => new ReLU().Call(t)), ("in-place module", t => new ReLU(inPlace: true).Call(t * 1)),
                     ("functional", F.Relu),
                 })
        {
            Tensor y;
            using (ReluGradientScope.Begin(ReluGradient.Deconvolution)) y = (relu(x) * weights).Sum();
            Gradients.Compute(y, x).ToArray<float>().Should().Equal(new[] { 5f, 0f, 7f, 8f }, name);
            using (ReluGradientScope.Begin(ReluGradient.Guided)) y = (relu(x) * weights).Sum();
            Gradients.Compute(y, x).ToArray<float>().Should().Equal(new[] { 0f, 0f, 7f, 0f }, name);
        }
    }

    [Fact]
    public void BadUse_IsRefusedByName()
    {
        var undefined = () => ReluGradientScope.Begin((ReluGradient)7);
        undefined.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rule");

        var relu = ReluGradientScope.Begin(ReluGradient.Guided);
        Exception? error = null;
        var thread = new Thread(() => { try { relu.Dispose(); } catch (Exception e) { error = e; } });
        thread.Start();
        thread.Join();
        error.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("thread that began it");
        relu.Dispose();
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(new[] { -1f, 2f }).RequiresGradInPlace();
        Gradients.Compute((x.Relu() * Tensors.FromArray(new[] { 3f, -4f })).Sum(), x).ToArray<float>()
            .Should().Equal(new[] { 0f, -4f }, "the rule was restored on this thread");
    }
}
