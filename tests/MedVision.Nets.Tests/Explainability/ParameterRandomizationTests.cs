using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Explainability;

[Collection(GlobalRandomStateCollection.Name)]
public class ParameterRandomizationTests
{
    // A small ResNet-18 whose parameters and running statistics are all moved away from their initial values, so that
    // every reset (batch norm's ones and zeros included) visibly changes it.
    private static ResNet TrainedLookingResNet()
    {
        Tensors.ManualSeed(11);
        var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1).WithSmallInputStem().WithClasses(3).Build();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        foreach (var (name, t) in model.StateDict())
        {
            if (t.ScalarType != ScalarType.Float32) continue;
            var values = name.EndsWith("running_var", StringComparison.Ordinal) ? Tensors.Rand(t.Shape) + 0.5 : Tensors.Randn(t.Shape) * 0.3;
            t.CopyInPlace(values);
        }
        model.Eval();
        return model;
    }

    private static Dictionary<string, float[]> Snapshot(Module model)
        => model.StateDict().Where(kv => kv.Value.ScalarType == ScalarType.Float32).ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<float>());

    // The layers (dotted module names) whose parameters or buffers differ from the snapshot.
    private static HashSet<string> ChangedLayers(Module model, Dictionary<string, float[]> trained)
        => model.StateDict().Where(kv => trained.ContainsKey(kv.Key) && !kv.Value.ToArray<float>().SequenceEqual(trained[kv.Key]))
            .Select(kv => kv.Key[..kv.Key.LastIndexOf('.')]).ToHashSet();

    private static ClassActivationMaps SaliencyMaps(Module<Tensor, Tensor> model, Tensor x, IReadOnlyList<long> t)
    {
        using var a = new Saliency(model).Compute(x, t);
        return a.ToMaps();
    }

    [Fact]
    public void RankCorrelation_IsSpearmansWithMeanRanksForTies_AndUndefinedForAConstantMap()
    {
        ParameterRandomization.RankCorrelation(new float[] { 1, 2, 3, 4 }, new float[] { 10, 20, 30, 40 }).Should().BeApproximately(1, 1e-12);
        ParameterRandomization.RankCorrelation(new float[] { 1, 2, 3, 4 }, new float[] { 4, 3, 2, 1 }).Should().BeApproximately(-1, 1e-12);
        // ranks (1.5, 1.5, 3) against (1, 2, 3): covariance 1.5 over √(1.5 · 2)
        ParameterRandomization.RankCorrelation(new float[] { 1, 1, 2 }, new float[] { 1, 2, 3 }).Should().BeApproximately(1.5 / Math.Sqrt(3), 1e-12);
        // monotone but not linear: still 1
        ParameterRandomization.RankCorrelation(new float[] { 0.1f, 5, 7, 100 }, new float[] { 1, 2, 3, 4 }).Should().BeApproximately(1, 1e-12);
        double.IsNaN(ParameterRandomization.RankCorrelation(new float[] { 2, 2, 2 }, new float[] { 1, 2, 3 })).Should().BeTrue();
        var act = () => ParameterRandomization.RankCorrelation(new float[] { 1, 2 }, new float[] { 1, 2, 3 });
        act.Should().Throw<ArgumentException>().WithMessage("*2 and 3 values*");
    }

    [Fact]
    public void Cascading_RandomisesOneLayerMorePerStep_FromTheOutput_AndRestoresTheModel()
    {
        using var model = TrainedLookingResNet();
        var trained = Snapshot(model);
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 1, 12, 12);
        var seen = new List<HashSet<string>>();
        var result = ParameterRandomization.Run(model, input, (x, t) =>
        {
            seen.Add(ChangedLayers(model, trained));
            return SaliencyMaps(model, x, t);
        });

        var resettable = model.NamedModules().Where(m => m.Module is IResettable).Select(m => m.Name).Reverse().ToArray();
        resettable.Should().HaveCount(41, "ResNet-18: stem conv and norm, 8 blocks of 2 convs and 2 norms, 3 downsamples of a conv and a norm, the head");
        result.Steps.Select(s => s.Block).Should().Equal(resettable);
        result.Steps[0].Block.Should().Be("fc");
        result.Steps[^1].Block.Should().Be("conv1");
        seen.Should().HaveCount(42, "the trained model's maps, then one set per step");
        seen[0].Should().BeEmpty();
        for (int k = 1; k < seen.Count; k++)
            seen[k].Should().BeEquivalentTo(resettable.Take(k), $"step {k} keeps the {k - 1} layers randomised before it");
        Snapshot(model).Should().BeEquivalentTo(trained, "the model is restored");
        result.TargetClasses.Should().HaveCount(2);
        using (var noGrad = Tensors.NoGrad())
            result.TargetClasses.Should().Equal(model.Call(input).ArgMax(1).ToArray<long>(), "the trained model's predictions");
        result.Order.Should().Be(RandomizationOrder.Cascading);
        foreach (var step in result.Steps)
        {
            step.RankCorrelations.Should().HaveCount(2).And.OnlyContain(r => double.IsNaN(r) || (r >= -1 - 1e-12 && r <= 1 + 1e-12));
            step.StructuralSimilarities.Should().HaveCount(2).And.OnlyContain(s => s >= -1 && s <= 1 + 1e-9);
        }
        result.Steps[^1].MeanRankCorrelation.Should().BeLessThan(0.5, "with every layer random, the saliency map no longer follows the trained model's");
    }

    [Fact]
    public void AVisionTransformer_IsRandomisedEncoderLayerByEncoderLayer_ItsEmbeddingsLast()
    {
        Tensors.ManualSeed(5);
        using var model = VisionTransformer.Builder().ForInput(channels: 1).WithImageSize(14).WithPatchSize(7)
            .WithHiddenSize(8).WithLayers(2).WithHeads(2).WithMlpDim(16).WithClasses(3).Build();
        using (var noGrad = Tensors.NoGrad())
            foreach (var (_, t) in model.StateDict()) t.CopyInPlace(Tensors.Randn(t.Shape) * 0.3);
        model.Eval();
        var trained = Snapshot(model);
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 1, 14, 14);
        var seen = new List<HashSet<string>>();
        var result = ParameterRandomization.Run(model, input, (x, t) =>
        {
            seen.Add(model.StateDict().Where(kv => !kv.Value.ToArray<float>().SequenceEqual(trained[kv.Key])).Select(kv => kv.Key).ToHashSet());
            return SaliencyMaps(model, x, t);
        }, order: RandomizationOrder.Independent, blockDepth: 3);

        result.Steps.Select(s => s.Block).Should().Equal("head", "encoder.norm", "encoder.layers.1", "encoder.layers.0", "conv_proj", "(model)");
        seen.Should().HaveCount(7);
        seen[2].Should().BeEquivalentTo(new[] { "encoder.norm.weight", "encoder.norm.bias" });
        seen[3].Should().HaveCount(12).And.OnlyContain(k => k.StartsWith("encoder.layers.1.", StringComparison.Ordinal), "attention, MLP and both norms of the last layer");
        seen[6].Should().BeEquivalentTo(new[] { "class_token", "pos_embedding" }, "the network's own parameters, re-drawn as its constructor drew them");
        Snapshot(model).Should().BeEquivalentTo(trained, "the model is restored");
    }

    [Fact]
    public void VisionTransformer_ResetParameters_RedrawsItsOwnParametersOnly()
    {
        Tensors.ManualSeed(6);
        using var model = VisionTransformer.Builder().ForInput(channels: 3).WithImageSize(28).WithPatchSize(4)
            .WithHiddenSize(64).WithLayers(1).WithHeads(2).WithMlpDim(32).WithClasses(2).Build();
        using var scope = Tensors.NewDisposeScope();
        using (var noGrad = Tensors.NoGrad())
            foreach (var (_, t) in model.StateDict()) t.AddInPlace(1);
        var before = Snapshot(model);
        var token = model.ClassToken;
        model.ResetParameters();
        model.ClassToken.Should().BeSameAs(token, "in place: optimizers keep their references");
        model.ClassToken.ToArray<float>().Should().OnlyContain(v => v == 0);
        var embedding = model.PositionEmbedding.ToArray<float>();
        embedding.Should().HaveCount(50 * 64);
        var mean = embedding.Average();
        Math.Sqrt(embedding.Select(v => (v - mean) * (v - mean)).Average()).Should().BeApproximately(0.02, 0.002, "N(0, 0.02²), as torchvision draws it");
        foreach (var (key, values) in Snapshot(model).Where(kv => kv.Key is not ("class_token" or "pos_embedding")))
            values.Should().Equal(before[key], $"{key} belongs to a layer with its own ResetParameters");
    }

    [Fact]
    public void Independent_RandomisesOneBlockAtATime_AndBlockDepthGroupsLayers()
    {
        using var model = TrainedLookingResNet();
        var trained = Snapshot(model);
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(1, 1, 12, 12);
        var seen = new List<HashSet<string>>();
        var result = ParameterRandomization.Run(model, input, (x, t) =>
        {
            seen.Add(ChangedLayers(model, trained));
            return SaliencyMaps(model, x, t);
        }, order: RandomizationOrder.Independent, blockDepth: 1);

        result.Steps.Select(s => s.Block).Should().Equal("fc", "layer4", "layer3", "layer2", "layer1", "bn1", "conv1");
        result.Steps[1].Layers.Should().HaveCount(10, "two blocks of 2 convs and 2 norms and a downsample's conv and norm");
        result.Steps[1].Layers.Should().OnlyContain(l => l.StartsWith("layer4.", StringComparison.Ordinal));
        seen.Should().HaveCount(8);
        for (int k = 1; k < seen.Count; k++)
            seen[k].Should().BeEquivalentTo(result.Steps[k - 1].Layers, $"independent step {k} changes only its own block");
        Snapshot(model).Should().BeEquivalentTo(trained);
    }

    [Fact]
    public void AMapThatIgnoresTheModel_StaysIdentical_WhileSaliencyChanges_AndARunIsReproducible()
    {
        using var model = TrainedLookingResNet();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(3, 1, 12, 12);
        // The input's magnitude as "explanation": Adebayo et al.'s edge-detector case, blind to the weights.
        var blind = ParameterRandomization.Run(model, input, (x, t) => new ClassActivationMaps(x.Abs(), t, t.Select(_ => 0f).ToArray()), blockDepth: 1);
        foreach (var step in blind.Steps)
        {
            step.RankCorrelations.Should().OnlyContain(r => Math.Abs(r - 1) < 1e-12, step.Block);
            step.StructuralSimilarities.Should().OnlyContain(s => Math.Abs(s - 1) < 1e-9, step.Block);
        }

        var first = ParameterRandomization.Run(model, input, (x, t) => SaliencyMaps(model, x, t), blockDepth: 1, seed: 4);
        var again = ParameterRandomization.Run(model, input, (x, t) => SaliencyMaps(model, x, t), blockDepth: 1, seed: 4);
        var other = ParameterRandomization.Run(model, input, (x, t) => SaliencyMaps(model, x, t), blockDepth: 1, seed: 5);
        again.Steps.SelectMany(s => s.RankCorrelations).Should().Equal(first.Steps.SelectMany(s => s.RankCorrelations), "the same seed draws the same layers");
        other.Steps.SelectMany(s => s.RankCorrelations).Should().NotEqual(first.Steps.SelectMany(s => s.RankCorrelations));
        first.Steps[^1].MeanStructuralSimilarity.Should().BeLessThan(0.9);
    }

    [Fact]
    public void ChosenTargetsAreExplained_AndTheModelIsRestoredWhenTheExplanationThrows()
    {
        using var model = TrainedLookingResNet();
        var trained = Snapshot(model);
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 1, 12, 12);
        var targets = new List<IReadOnlyList<long>>();
        int calls = 0;
        var act = () => ParameterRandomization.Run(model, input, (x, t) =>
        {
            targets.Add(t.ToArray());
            if (++calls == 4) throw new InvalidOperationException("explanation failed");
            return SaliencyMaps(model, x, t);
        }, targetClasses: new long[] { 2, 0 });
        act.Should().Throw<InvalidOperationException>().WithMessage("explanation failed");
        targets.Should().HaveCount(4).And.OnlyContain(t => t.SequenceEqual(new long[] { 2, 0 }));
        Snapshot(model).Should().BeEquivalentTo(trained, "the trained values are restored on failure");
    }

    [Fact]
    public void BadInput_IsRefusedByName()
    {
        using var model = TrainedLookingResNet();
        using var scope = Tensors.NewDisposeScope();
        var input = Tensors.Randn(2, 1, 12, 12);
        Func<Tensor, IReadOnlyList<long>, ClassActivationMaps> saliency = (x, t) => SaliencyMaps(model, x, t);

        model.Train();
        FluentActions.Invoking(() => ParameterRandomization.Run(model, input, saliency)).Should().Throw<InvalidOperationException>().WithMessage("*evaluation mode*");
        model.Eval();
        FluentActions.Invoking(() => ParameterRandomization.Run(model, input, saliency, blockDepth: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("blockDepth");
        FluentActions.Invoking(() => ParameterRandomization.Run(model, input, saliency, targetClasses: new long[] { 1 })).Should().Throw<ArgumentException>().WithMessage("1 target classes*2 samples*");
        FluentActions.Invoking(() => ParameterRandomization.Run(model, input.Select(0, 0), saliency)).Should().Throw<ArgumentException>().WithParameterName("input");
        FluentActions.Invoking(() => ParameterRandomization.Run(model, input, (x, t) => new ClassActivationMaps(Tensors.Zeros(2, 1, 6, 6), t, new float[2])))
            .Should().Throw<InvalidOperationException>().WithMessage("*[2, 1, 6, 6]*[2, 1, 12, 12]*");
        FluentActions.Invoking(() => ParameterRandomization.Run(model, input, (x, t) => new ClassActivationMaps(Tensors.Full(new long[] { 2, 1, 12, 12 }, double.NaN), t, new float[2])))
            .Should().Throw<InvalidOperationException>().WithMessage("*non-finite*");
        using var square = new SquareDetector();
        square.Eval();
        FluentActions.Invoking(() => ParameterRandomization.Run(square, Tensors.Zeros(1, 1, 8, 8), saliency)).Should().Throw<ArgumentException>().WithMessage("*SquareDetector*IResettable*");
    }
}

[Collection(NativeMemoryCollection.Name)]
public class ParameterRandomizationMemoryTests
{
    [Fact]
    public void ARun_LeavesNoTensorBehind()
    {
        Tensors.ManualSeed(2);
        using var model = ResNet.Builder().WithDepth(18).WithWidths(4, 4, 4, 4).ForInput(channels: 1).WithSmallInputStem().WithClasses(2).Build();
        model.Eval();
        using var input = Tensors.Randn(2, 1, 8, 8);
        ClassActivationMaps Explain(Tensor x, IReadOnlyList<long> t) => GradCam.ForResNet(model).Compute(x, t);
        ParameterRandomization.Run(model, input, Explain, blockDepth: 1);
        long before = Tensors.LiveTensors;
        var result = ParameterRandomization.Run(model, input, Explain, blockDepth: 2);
        result.Steps.Should().NotBeEmpty();
        Tensors.LiveTensors.Should().Be(before);
    }
}
