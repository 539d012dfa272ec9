using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Nn;

public class ModuleTests
{
    /// <summary>conv(1→4, 3) → bn → relu → maxpool 2 → flatten → fc(36→2), for (N, 1, 8, 8) inputs.</summary>
    private sealed class Net : Module<Tensor, Tensor>
    {
        public readonly Conv2d Conv;
        public readonly BatchNorm2d Bn;
        public readonly Linear Fc;

        public Net()
        {
            Conv = RegisterModule("conv", new Conv2d(1, 4, 3));
            Bn = RegisterModule("bn", new BatchNorm2d(4));
            Fc = RegisterModule("fc", new Linear(36, 2));
            RegisterBuffer("scratch", Tensors.Zeros(3), persistent: false);
        }

        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            var x = Bn.Call(Conv.Call(input)).Relu();
            x = Functional.MaxPool2d(x, 2).Flatten(1);
            return scope.MoveToOuter(Fc.Call(x));
        }
    }

    private static readonly string[] NetParams = { "conv.weight", "conv.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias" };
    private static readonly string[] NetBuffers = { "scratch", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked" }; // own buffers first, as PyTorch

    [Fact]
    public void CloneStateDict_IsAnIndependentDetachedSnapshot_OwnedByTheCaller()
    {
        using var net = new Net();
        Dictionary<string, Tensor> snapshot;
        using (Tensors.NewDisposeScope()) snapshot = net.CloneStateDict(); // survives the scope: the caller owns it
        try
        {
            snapshot.Keys.Should().BeEquivalentTo(net.StateDict().Keys, "the non-persistent buffer is left out, as in StateDict");
            snapshot.Values.Should().OnlyContain(t => !t.IsDisposed && !t.RequiresGrad);
            var before = snapshot["fc.weight"].ToArray<float>();
            before.Should().Equal(net.StateDict()["fc.weight"].ToArray<float>());
            using (Tensors.NoGrad()) net.StateDict()["fc.weight"].AddInPlace(1.0);
            snapshot["fc.weight"].ToArray<float>().Should().Equal(before, "the snapshot does not share memory with the module");
        }
        finally
        {
            foreach (var t in snapshot.Values) t.Dispose();
        }
    }

    [Fact]
    public void NamedParametersBuffersAndModules_UseDottedNames()
    {
        using var net = new Net();
        net.NamedParameters().Select(p => p.Name).Should().Equal(NetParams);
        net.NamedBuffers().Select(b => b.Name).Should().Equal(NetBuffers);
        net.NamedModules().Select(m => m.Name).Should().Equal("", "conv", "bn", "fc");
        net.NamedChildren().Select(m => m.Name).Should().Equal("conv", "bn", "fc");
        net.NamedParameters(recurse: false).Should().BeEmpty();
        net.Parameters().Should().OnlyContain(p => p.RequiresGrad && p.IsLeaf);
        net.ParameterCount().Should().Be(4 * 9 + 4 + 4 + 4 + 36 * 2 + 2);
        net.Conv.Weight.Shape.Should().Equal(4, 1, 3, 3);
        net.Fc.Weight.Shape.Should().Equal(2, 36);
        net.Fc.RequiresGrad(false);
        net.ParameterCount(trainableOnly: true).Should().Be(4 * 9 + 4 + 4 + 4);
    }

    [Fact]
    public void StateDict_HasParametersAndPersistentBuffers()
    {
        using var net = new Net();
        net.StateDict().Keys.Should().BeEquivalentTo(NetParams.Concat(NetBuffers.Where(b => b != "scratch")));
        ReferenceEquals(net.StateDict()["conv.weight"], net.Conv.Weight).Should().BeTrue();
    }

    [Fact]
    public void TrainEval_PropagateToChildren()
    {
        using var net = new Net();
        net.NamedModules().Should().OnlyContain(m => m.Module.Training);
        net.Eval();
        net.NamedModules().Should().OnlyContain(m => !m.Module.Training);
        net.Train();
        net.Bn.Training.Should().BeTrue();
    }

    [Fact]
    public void ToFloat64_ConvertsFloatingStateOnly()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = new Net();
        var w = net.Conv.Weight.ToArray<float>();
        net.To(ScalarType.Float64);
        net.Parameters().Should().OnlyContain(p => p.ScalarType == ScalarType.Float64 && p.RequiresGrad && p.IsLeaf);
        net.Bn.RunningMean!.ScalarType.Should().Be(ScalarType.Float64);
        net.Bn.RunningVar!.ScalarType.Should().Be(ScalarType.Float64);
        net.Bn.NumBatchesTracked!.ScalarType.Should().Be(ScalarType.Int64);
        net.Conv.Weight.ToArray<double>().Should().Equal(w.Select(v => (double)v));
        var y = net.Call(Tensors.Randn(new long[] { 2, 1, 8, 8 }, ScalarType.Float64));
        y.ScalarType.Should().Be(ScalarType.Float64);
        y.Shape.Should().Equal(2, 2);
        ((Action)(() => net.To(ScalarType.Int32))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void ZeroGrad_ClearsAfterTrainingStep()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = new Net();
        net.Call(Tensors.Randn(3, 1, 8, 8)).Sum().Backward();
        net.Parameters().Should().OnlyContain(p => p.Grad != null);
        net.Bn.NumBatchesTracked!.Item<long>().Should().Be(1);
        net.ZeroGrad();
        net.Parameters().Should().OnlyContain(p => p.Grad == null);
    }

    [Fact]
    public void LoadStateDict_Strict_ReportsEveryProblemByName_AndChangesNothing()
    {
        using var scope = Tensors.NewDisposeScope();
        using var target = new Net();
        using var source = new Net();
        var before = target.StateDict().ToDictionary(kv => kv.Key, kv => H.ToDoubles(kv.Value));
        var sd = source.StateDict().Where(kv => kv.Key != "fc.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["conv.weight"] = Tensors.Zeros(5, 1, 3, 3);
        sd["extra.weight"] = Tensors.Zeros(1);
        var act = () => target.LoadStateDict(sd);
        var ex = act.Should().Throw<StateDictMismatchException>().Which;
        ex.Message.Should().Contain("fc.bias").And.Contain("extra.weight").And.Contain("conv.weight");
        ex.Result.MissingKeys.Should().Equal("fc.bias");
        ex.Result.UnexpectedKeys.Should().Equal("extra.weight");
        ex.Result.ShapeMismatches.Should().ContainSingle().Which.Should().Contain("conv.weight").And.Contain("[4, 1, 3, 3]").And.Contain("[5, 1, 3, 3]");
        foreach (var (k, v) in target.StateDict()) H.ToDoubles(v).Should().Equal(before[k], "strict loading that fails changes nothing ({0})", k);
    }

    [Fact]
    public void LoadStateDict_NonStrict_CopiesWhatMatches()
    {
        using var scope = Tensors.NewDisposeScope();
        using var target = new Net();
        using var source = new Net();
        source.Call(Tensors.Randn(4, 1, 8, 8)); // moves running stats
        var fcBias = H.ToDoubles(target.Fc.Bias!);
        var sd = source.StateDict().Where(kv => kv.Key != "fc.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["fc.weight"] = Tensors.Zeros(3, 36);
        var result = target.LoadStateDict(sd, strict: false);
        result.IsExactMatch.Should().BeFalse();
        result.MissingKeys.Should().Equal("fc.bias");
        result.ShapeMismatches.Should().ContainSingle().Which.Should().StartWith("fc.weight");
        H.ToDoubles(target.Conv.Weight).Should().Equal(H.ToDoubles(source.Conv.Weight));
        H.ToDoubles(target.Bn.RunningMean!).Should().Equal(H.ToDoubles(source.Bn.RunningMean!));
        target.Bn.NumBatchesTracked!.Item<long>().Should().Be(1);
        H.ToDoubles(target.Fc.Bias!).Should().Equal(fcBias);
        H.ToDoubles(target.Fc.Weight).Should().NotEqual(H.ToDoubles(source.Fc.Weight));
        // an exact load reports an exact match and converts dtypes
        using var t64 = new Net();
        t64.To(ScalarType.Float64);
        t64.LoadStateDict(source.StateDict()).IsExactMatch.Should().BeTrue();
        H.ToDoubles(t64.Fc.Weight).Should().Equal(H.ToDoubles(source.Fc.Weight));
    }

    [Fact]
    public void Sequential_And_ModuleList_NameChildrenByPosition()
    {
        using var seq = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3));
        seq.NamedParameters().Select(p => p.Name).Should().Equal("0.weight", "0.bias", "3.weight", "3.bias");
        seq.Count.Should().Be(4);
        seq[3].Should().BeOfType<Linear>();
        using var list = new ModuleList<Linear>(new Linear(2, 2), new Linear(2, 3));
        list.Add(new Linear(3, 1));
        list.NamedParameters().Select(p => p.Name).Should().Equal("0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias");
        list.Count.Should().Be(3);
        list[2].OutFeatures.Should().Be(1);
        using var named = new Sequential(new (string, Module<Tensor, Tensor>)[] { ("features", new Conv2d(1, 2, 1)), ("head", new Linear(2, 1)) });
        named.StateDict().Keys.Should().BeEquivalentTo("features.weight", "features.bias", "head.weight", "head.bias");
        using var scope = Tensors.NewDisposeScope();
        seq.Call(Tensors.Randn(5, 1, 6, 6)).Shape.Should().Equal(5, 3);
    }

    [Fact]
    public void ModelSummary_ListsCallsShapesAndTotals()
    {
        using var seq = new Sequential(new Conv2d(1, 4, 3), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(36, 2));
        var s = ModelSummary.Create(seq, 2, 1, 8, 8);
        s.Rows.Select(r => r.Name).Should().Equal("", "0", "1", "2", "3", "4", "5");
        s.Rows.Select(r => r.TypeName).Should().Equal("Sequential", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear");
        s.Rows.Select(r => r.Depth).Should().Equal(0, 1, 1, 1, 1, 1, 1);
        s.Rows[1].OutputShape.Should().Equal(2, 4, 6, 6);
        s.Rows[4].OutputShape.Should().Equal(2, 4, 3, 3);
        s.Rows[5].OutputShape.Should().Equal(2, 36);
        s.Rows[0].OutputShape.Should().Equal(2, 2);
        s.Rows.Select(r => r.Parameters).Should().Equal(0, 40, 8, 0, 0, 0, 74);
        s.TotalParameters.Should().Be(122);
        s.TrainableParameters.Should().Be(122);
        s.BufferElements.Should().Be(9);
        // Conv2d: 2×4×6×6 outputs × (1 channel × 3×3 taps); Linear: 2×2 outputs × 36 inputs.
        s.Rows.Select(r => r.MultiplyAccumulates).Should().Equal(0, 288 * 9, 0, 0, 0, 0, 4 * 36);
        s.TotalMultiplyAccumulates.Should().Be(288 * 9 + 4 * 36);
        seq.Training.Should().BeTrue("the summary leaves the mode unchanged");
        var text = s.ToString();
        text.Should().Contain("Total params: 122").And.Contain("0 (Conv2d)").And.Contain("[2, 4, 6, 6]")
            .And.Contain("Mult-adds").And.Contain("2,592").And.Contain("Total mult-adds: 2,736 (0.000 G)");
    }

    [Fact]
    public void ModelSummary_CountsTransposedAndGroupedConvolutions()
    {
        using var deconv = new ConvTranspose2d(4, 2, 3, stride: 2);
        using var grouped = new Conv2d(4, 6, 3, groups: 2);
        using var volume = new Conv3d(1, 2, 3, padding: 1);

        // Transposed: each of the 1×4×5×5 inputs is scattered into 2 channels × 3×3 taps (output 11×11 is larger than that count).
        ModelSummary.Create(deconv, 1, 4, 5, 5).TotalMultiplyAccumulates.Should().Be(100 * 2 * 9);
        // Grouped: each of the 1×6×3×3 outputs sums over 4/2 channels × 3×3 taps.
        ModelSummary.Create(grouped, 1, 4, 5, 5).TotalMultiplyAccumulates.Should().Be(54 * 2 * 9);
        // 3D: 2×2×4×4×4 outputs × 27 taps.
        ModelSummary.Create(volume, 2, 1, 4, 4, 4).TotalMultiplyAccumulates.Should().Be(256 * 27);
    }
}

/// <summary>Default initialisation as in PyTorch, checked statistically.</summary>
public class InitTests
{
    // A float32 tensor holds the bound rounded to float32 (1/12 becomes 0.083333336), and U(−b, b) can return −b itself.
    private static double AsFloat32(double bound) => (float)bound;

    private static void UniformWithin(Tensor t, double bound)
    {
        var v = H.ToDoubles(t);
        v.Should().OnlyContain(x => Math.Abs(x) <= AsFloat32(bound));
        // U(−b, b): mean 0, variance b²/3, each quarter of the interval holds a quarter of the values
        // (tolerances are 5 standard errors of each statistic for n samples)
        int n = v.Length;
        v.Average().Should().BeApproximately(0, 5 * bound / Math.Sqrt(3.0 * n));
        (v.Average(x => x * x) / (bound * bound)).Should().BeApproximately(1.0 / 3, 5 * Math.Sqrt(4.0 / 45 / n));
        for (int q = 0; q < 4; q++)
        {
            double lo = -bound + q * bound / 2, hi = lo + bound / 2;
            ((double)v.Count(x => x >= lo && x < hi) / n).Should().BeApproximately(0.25, 5 * Math.Sqrt(0.1875 / n));
        }
    }

    [Fact]
    public void Linear_And_Conv_WeightsAndBiases_AreUniformWithinOneOverSqrtFanIn()
    {
        using var lin = new Linear(400, 100);
        UniformWithin(lin.Weight, 1 / Math.Sqrt(400));
        H.ToDoubles(lin.Bias!).Should().OnlyContain(x => Math.Abs(x) <= AsFloat32(1 / Math.Sqrt(400)));
        using var conv = new Conv2d(16, 256, 3);
        UniformWithin(conv.Weight, 1 / Math.Sqrt(16 * 9));
        UniformWithin(conv.Bias!, 1 / Math.Sqrt(16 * 9));
        using var conv3 = new Conv3d(8, 64, 3);
        UniformWithin(conv3.Weight, 1 / Math.Sqrt(8 * 27));
        using var conv1 = new Conv1d(4, 300, 5, groups: 2);
        UniformWithin(conv1.Weight, 1 / Math.Sqrt(2 * 5));
        using var tconv = new ConvTranspose2d(64, 32, 3);
        // PyTorch computes the fan-in of a transposed conv weight (C_in, C_out, k, k) from its dim 1
        UniformWithin(tconv.Weight, 1 / Math.Sqrt(32 * 9));
    }

    [Fact]
    public void NormLayers_StartAtOnesAndZeros()
    {
        using var bn = new BatchNorm2d(5);
        H.ToDoubles(bn.Weight!).Should().OnlyContain(v => v == 1);
        H.ToDoubles(bn.Bias!).Should().OnlyContain(v => v == 0);
        H.ToDoubles(bn.RunningMean!).Should().OnlyContain(v => v == 0);
        H.ToDoubles(bn.RunningVar!).Should().OnlyContain(v => v == 1);
        bn.NumBatchesTracked!.Item<long>().Should().Be(0);
        using var ln = new LayerNorm(new long[] { 3, 2 });
        ln.StateDict()["weight"].Shape.Should().Equal(3, 2);
        H.ToDoubles(ln.StateDict()["weight"]).Should().OnlyContain(v => v == 1);
        using var gn = new GroupNorm(2, 4);
        H.ToDoubles(gn.StateDict()["bias"]).Should().OnlyContain(v => v == 0);
    }

    [Fact]
    public void KaimingNormal_HasStdGainOverSqrtFan()
    {
        using var scope = Tensors.NewDisposeScope();
        var w = Tensors.Empty(new long[] { 256, 64, 3, 3 });
        Init.KaimingNormal(w, nonlinearity: Nonlinearity.Relu);
        var v = H.ToDoubles(w);
        var std = Math.Sqrt(v.Average(x => x * x));
        std.Should().BeApproximately(Math.Sqrt(2) / Math.Sqrt(64 * 9), 0.02 * std);
        v.Average().Should().BeApproximately(0, 6 * std / Math.Sqrt(v.Length)); // 6 standard errors
        Init.KaimingNormal(w, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        Math.Sqrt(H.ToDoubles(w).Average(x => x * x)).Should().BeApproximately(Math.Sqrt(2) / Math.Sqrt(256 * 9), 0.02 * std);
        Init.CalculateGain(Nonlinearity.LeakyRelu, 0.2).Should().BeApproximately(Math.Sqrt(2 / 1.04), 1e-12);
        Init.CalculateFanInAndFanOut(w).Should().Be((64L * 9, 256L * 9));
    }

    [Fact]
    public void Xavier_UniformStaysWithinItsBound_AndNormalHasItsStd()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(3);
        // fan_in = 30·5 = 150, fan_out = 200·5 = 1000: bound = gain·√(6 / 1150), std = gain·√(2 / 1150).
        var w = Tensors.Empty(new long[] { 200, 30, 5 });
        Init.XavierUniform(w, gain: 2);
        var v = H.ToDoubles(w);
        double bound = 2 * Math.Sqrt(6.0 / 1150);
        v.Should().OnlyContain(x => Math.Abs(x) <= bound);
        v.Max().Should().BeGreaterThan(0.99 * bound, "30,000 uniform draws come close to both ends");
        v.Min().Should().BeLessThan(-0.99 * bound);
        Math.Sqrt(v.Average(x => x * x)).Should().BeApproximately(bound / Math.Sqrt(3), 0.02 * bound);

        Init.XavierNormal(w, gain: 2);
        var n = H.ToDoubles(w);
        double std = 2 * Math.Sqrt(2.0 / 1150);
        Math.Sqrt(n.Average(x => x * x)).Should().BeApproximately(std, 0.02 * std);
        n.Average().Should().BeApproximately(0, 6 * std / Math.Sqrt(n.Length));
        FluentActions.Invoking(() => Init.XavierUniform(Tensors.Empty(new long[] { 5 }))).Should().Throw<ArgumentException>().WithMessage("*at least 2 dimensions*");
    }

    [Fact]
    public void TruncNormal_StaysWithinItsBounds_WithTheTruncatedDistributionsMoments()
    {
        using var scope = Tensors.NewDisposeScope();
        // N(0, 1) truncated to [−1, 2]: every value inside, the truncated normal's mean (φ(−1) − φ(2)) / (Φ(2) − Φ(−1)) = 0.2296
        var w = Tensors.Empty(new long[] { 200, 250 });
        Init.TruncNormal(w, mean: 0, std: 1, a: -1, b: 2).Should().BeSameAs(w);
        var v = H.ToDoubles(w);
        v.Should().OnlyContain(x => x >= -1 && x <= 2);
        v.Average().Should().BeApproximately(0.2296, 0.01);
        v.Count(x => x > 1.9).Should().BeGreaterThan(0, "the upper tail is kept up to the bound");
        // a narrow std is plain N(mean, std²) inside the default ±2 bounds
        var narrow = Tensors.Empty(new long[] { 10_000 });
        Init.TruncNormal(narrow, mean: 0.5, std: 0.02);
        var n = H.ToDoubles(narrow);
        n.Average().Should().BeApproximately(0.5, 0.002);
        Math.Sqrt(n.Select(x => (x - 0.5) * (x - 0.5)).Average()).Should().BeApproximately(0.02, 0.001);
        FluentActions.Invoking(() => Init.TruncNormal(narrow, std: 1, a: 2, b: 1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*bounds [2, 1]*");
        FluentActions.Invoking(() => Init.TruncNormal(narrow, mean: 0, std: 0.01, a: 1, b: 2)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*must hold part of*");
        FluentActions.Invoking(() => Init.TruncNormal(narrow, std: double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Constant_FillsAParameterInPlace_WithoutRecordingGradients()
    {
        using var scope = Tensors.NewDisposeScope();
        var p = Tensors.Randn(3, 4).RequiresGradInPlace();
        Init.Constant(p, 0.25).Should().BeSameAs(p);
        H.ToDoubles(p).Should().OnlyContain(v => v == 0.25);
        p.IsLeaf.Should().BeTrue("filling under no-grad keeps the parameter a leaf");
        Init.Zeros(p);
        H.ToDoubles(p).Should().OnlyContain(v => v == 0);
        Init.Ones(p);
        H.ToDoubles(p).Should().OnlyContain(v => v == 1);
        (p * 3).Sum().Backward();
        H.ToDoubles(p.Grad!).Should().OnlyContain(v => v == 3);
    }
}
