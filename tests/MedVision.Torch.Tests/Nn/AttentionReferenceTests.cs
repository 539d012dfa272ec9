using System.Text.Json;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// Multi-head attention, transformer encoder layers, embeddings and scaled dot-product attention against PyTorch 1.13:
/// every case of Fixtures/attention_reference.safetensors (written by Fixtures/make_attention_reference.py, run once
/// with the system Python) builds the same layer here, loads PyTorch's state dict strictly (so the parameter names and
/// shapes are PyTorch's), and compares outputs, attention weights and the gradients of sum(out · w) for inputs and
/// parameters.
/// </summary>
public sealed class AttentionReferenceTests
{
    private static readonly Lazy<SafeTensorDictionary> Reference =
        new(() => SafeTensors.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "attention_reference.safetensors")));

    private static readonly Lazy<Dictionary<string, JsonElement>> Specs = new(() =>
    {
        var doc = JsonDocument.Parse(Reference.Value.Metadata["cases"]);
        return doc.RootElement.EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.Clone());
    });

    public static TheoryData<string> Cases(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var (name, spec) in Specs.Value.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (spec.GetProperty("kind").GetString()!.StartsWith(kind, StringComparison.Ordinal)) data.Add(name);
        return data;
    }

    [Fact]
    public void TheFixture_IsPyTorch113s_AndHoldsEveryKindOfCase()
    {
        Reference.Value.Metadata["torch"].Should().StartWith("1.13");
        Specs.Value.Values.Select(s => s.GetProperty("kind").GetString()).Distinct().Should().BeEquivalentTo(["mha", "encoder_layer", "encoder", "embedding", "sdpa", "sdpa_causal"]);
    }

    [Theory]
    [MemberData(nameof(Cases), "mha")]
    public void MultiheadAttention_MatchesPyTorch(string name)
    {
        var spec = Specs.Value[name];
        var r = Reference.Value;
        using var scope = Tensors.NewDisposeScope();
        using var mha = new MultiheadAttention(spec.GetProperty("embed_dim").GetInt64(), spec.GetProperty("num_heads").GetInt64(),
            bias: spec.GetProperty("bias").GetBoolean(), batchFirst: spec.GetProperty("batch_first").GetBoolean());
        mha.LoadStateDict(ReferenceAssert.Prefixed(r, $"{name}.state."), strict: true).MissingKeys.Should().BeEmpty();
        mha.Eval();
        var query = r[$"{name}.query"].Clone().RequiresGradInPlace();
        var key = spec.GetProperty("key_is_query").GetBoolean() ? query : r[$"{name}.key"].Clone().RequiresGradInPlace();
        var value = spec.GetProperty("value_is_key").GetBoolean() ? key : r[$"{name}.value"].Clone().RequiresGradInPlace();
        var hooked = 0;
        using var hook = mha.RegisterForwardHook((_, input, _) => hooked += ReferenceEquals(input.Query, query) ? 1 : 100);
        var (output, weights) = mha.Call(query, key, value, r.GetValueOrDefault($"{name}.key_padding_mask"), spec.GetProperty("need_weights").GetBoolean(),
            r.GetValueOrDefault($"{name}.attn_mask"), spec.GetProperty("average").GetBoolean());
        ReferenceAssert.Close(output, r[$"{name}.out"], 1e-5, 1e-6, $"{name}: output");
        hooked.Should().Be(1, "Call with masks runs the forward hooks, given the query, key and value");
        if (r.ContainsKey($"{name}.weights")) ReferenceAssert.Close(weights!, r[$"{name}.weights"], 1e-5, 1e-6, $"{name}: attention weights");
        else weights.Should().BeNull();
        (output * r[$"{name}.w"]).Sum().Backward();
        foreach (var (input, grad) in ReferenceAssert.Prefixed(r, $"{name}.grad."))
            ReferenceAssert.Close((input switch { "query" => query, "key" => key, _ => value }).Grad!, grad, 1e-4, 1e-6, $"{name}: gradient of the {input}");
        foreach (var (parameter, grad) in ReferenceAssert.Prefixed(r, $"{name}.pgrad."))
            ReferenceAssert.Close(mha.NamedParameters().Single(p => p.Name == parameter).Parameter.Grad!, grad, 1e-4, 1e-6, $"{name}: gradient of {parameter}");
    }

    [Theory]
    [MemberData(nameof(Cases), "encoder")]
    public void TransformerEncoder_MatchesPyTorch(string name)
    {
        var spec = Specs.Value[name];
        var r = Reference.Value;
        using var scope = Tensors.NewDisposeScope();
        var layer = new TransformerEncoderLayer(spec.GetProperty("d_model").GetInt64(), spec.GetProperty("nhead").GetInt64(), spec.GetProperty("ff").GetInt64(),
            spec.GetProperty("dropout").GetDouble(), spec.GetProperty("activation").GetString() == "gelu" ? TransformerActivation.Gelu : TransformerActivation.Relu,
            batchFirst: spec.GetProperty("batch_first").GetBoolean(), normFirst: spec.GetProperty("norm_first").GetBoolean());
        int layers = spec.GetProperty("layers").GetInt32();
        using Module<Tensor, Tensor> module = layers == 0 ? layer : new TransformerEncoder(layer, layers, spec.GetProperty("final_norm").GetBoolean() ? new LayerNorm(layer.DModel) : null);
        module.LoadStateDict(ReferenceAssert.Prefixed(r, $"{name}.state."), strict: true).MissingKeys.Should().BeEmpty();
        // dropout 0 cases were recorded in training mode, the others in evaluation mode
        if (spec.GetProperty("dropout").GetDouble() > 0) module.Eval(); else module.Train();
        var src = r[$"{name}.src"].Clone().RequiresGradInPlace();
        var mask = r.GetValueOrDefault($"{name}.mask") ?? r.GetValueOrDefault($"{name}.src_mask");
        var padding = r.GetValueOrDefault($"{name}.src_key_padding_mask");
        var output = module is TransformerEncoder encoder ? encoder.Call(src, mask, padding) : layer.Call(src, mask, padding);
        ReferenceAssert.Close(output, r[$"{name}.out"], 1e-4, 1e-5, $"{name}: output");
        (output * r[$"{name}.w"]).Sum().Backward();
        ReferenceAssert.Close(src.Grad!, r[$"{name}.grad.src"], 1e-4, 1e-5, $"{name}: gradient of the input");
        foreach (var (parameter, grad) in ReferenceAssert.Prefixed(r, $"{name}.pgrad."))
            ReferenceAssert.Close(module.NamedParameters().Single(p => p.Name == parameter).Parameter.Grad!, grad, 1e-4, 1e-5, $"{name}: gradient of {parameter}");
    }

    [Theory]
    [MemberData(nameof(Cases), "embedding")]
    public void Embedding_MatchesPyTorch_PaddingRowWithoutGradient(string name)
    {
        var spec = Specs.Value[name];
        var r = Reference.Value;
        using var scope = Tensors.NewDisposeScope();
        using var embedding = new Embedding(spec.GetProperty("num").GetInt64(), spec.GetProperty("dim").GetInt64(), spec.GetProperty("padding_idx").GetInt64(),
            spec.GetProperty("scale_grad_by_freq").GetBoolean());
        embedding.LoadStateDict(ReferenceAssert.Prefixed(r, $"{name}.state."), strict: true).MissingKeys.Should().BeEmpty();
        var output = embedding.Call(r[$"{name}.indices"]);
        ReferenceAssert.Close(output, r[$"{name}.out"], 0, 0, $"{name}: output");
        (output * r[$"{name}.w"]).Sum().Backward();
        ReferenceAssert.Close(embedding.Weight.Grad!, r[$"{name}.pgrad.weight"], 1e-6, 1e-7, $"{name}: gradient of the table");
        embedding.Weight.Grad!.Select(0, embedding.PaddingIdx!.Value).Abs().Sum().Item().Should().Be(0, "the padding row gets no gradient");
    }

    [Theory]
    [MemberData(nameof(Cases), "sdpa")]
    public void ScaledDotProductAttention_IsPyTorch2sFormula(string name)
    {
        var spec = Specs.Value[name];
        var r = Reference.Value;
        using var scope = Tensors.NewDisposeScope();
        var output = spec.GetProperty("kind").GetString() == "sdpa_causal"
            ? F.ScaledDotProductAttention(r["sdpa_causal.q"], r["sdpa_causal.k"], r["sdpa_causal.k"], isCausal: true)
            : F.ScaledDotProductAttention(r["sdpa.q"], r["sdpa.k"], r["sdpa.v"], r.GetValueOrDefault($"{name}.mask"),
                scale: spec.GetProperty("scale").ValueKind == JsonValueKind.Number ? spec.GetProperty("scale").GetDouble() : null);
        ReferenceAssert.Close(output, r[$"{name}.out"], 1e-12, 1e-12, $"{name}: output");
    }

    [Fact]
    public void BadShapesAndOptions_AreRefusedByName()
    {
        using var scope = Tensors.NewDisposeScope();
        FluentActions.Invoking(() => new MultiheadAttention(10, 3)).Should().Throw<ArgumentException>().WithMessage("*10 must divide into the 3 heads*").Which.ParamName.Should().Be("numHeads");
        FluentActions.Invoking(() => new MultiheadAttention(8, 2, dropout: 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("dropout");
        using var mha = new MultiheadAttention(8, 2);
        var x = Tensors.Randn(5, 2, 8);
        FluentActions.Invoking(() => mha.Forward(x, x, Tensors.Randn(4, 2, 8))).Should().Throw<ArgumentException>().WithMessage("There must be a value per key: 4 values for 5 keys*");
        FluentActions.Invoking(() => mha.Forward(x, x, x, attnMask: Tensors.Zeros(5, 4))).Should().Throw<ArgumentException>().WithMessage("The attention mask must be (L, S) = (5, 5)*").Which.ParamName.Should().Be("attnMask");
        FluentActions.Invoking(() => mha.Forward(x, x, x, keyPaddingMask: Tensors.Zeros([2, 5], ScalarType.Int64))).Should().Throw<ArgumentException>().WithMessage("*boolean*floating-point*Int64*");
        FluentActions.Invoking(() => mha.Forward(Tensors.Randn(5, 2, 6), x, x)).Should().Throw<ArgumentException>().WithMessage("*end in the embedding dimension 8*");
        FluentActions.Invoking(() => F.ScaledDotProductAttention(x, x, x, Tensors.Ones([5, 5], ScalarType.Bool), isCausal: true)).Should().Throw<ArgumentException>().WithMessage("*not both*");
        FluentActions.Invoking(() => F.ScaledDotProductAttention(x, Tensors.Randn(5, 2, 7), x)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("key");
        using var embedding = new Embedding(10, 4, paddingIdx: -1);
        embedding.PaddingIdx.Should().Be(9);
        embedding.Weight.Select(0, 9).Abs().Sum().Item().Should().Be(0, "the padding row starts at zero");
        FluentActions.Invoking(() => embedding.Call(Tensors.FromArray(new long[] { 3, 10 }))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("Index 10 is outside the 10 embeddings (0 to 9)*");
        FluentActions.Invoking(() => embedding.Call(Tensors.FromArray(new long[] { -1 }))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("Index -1 is outside*");
        FluentActions.Invoking(() => embedding.Call(Tensors.Zeros(3))).Should().Throw<ArgumentException>().WithMessage("Embedding indices must be int64 or int32, not Float32.*");
        FluentActions.Invoking(() => new Embedding(10, 4, paddingIdx: 10)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("paddingIdx");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForwardWithAttention_GivesTheForwardsOutput_AndTheSelfAttentionsWeights(bool normFirst)
    {
        using var scope = Tensors.NewDisposeScope();
        using var encoder = new TransformerEncoder(new TransformerEncoderLayer(8, 2, dimFeedforward: 16, dropout: 0, batchFirst: true, normFirst: normFirst), 2, new LayerNorm(8));
        var x = Tensors.Randn(3, 5, 8);
        var padding = Tensors.FromArray(new[] { false, false, false, true, true, false, false, false, false, false, false, false, false, false, true }, 3, 5);
        var (output, weights) = encoder.ForwardWithAttention(x, srcKeyPaddingMask: padding, averageAttnWeights: false);
        output.AllClose(encoder.Call(x, null, padding), 0, 0).Should().BeTrue("the same forward");
        weights.Should().HaveCount(2);
        weights[0].Shape.Should().Equal(3, 2, 5, 5);
        // layer 0's weights are its attention's on the layer's input (normed first for a pre-norm layer)
        var layer = encoder.Layers[0];
        var attended = normFirst ? layer.Norm1.Call(x) : x;
        var expected = layer.SelfAttention.Call(attended, attended, attended, padding, needWeights: true, averageAttnWeights: false).Weights!;
        weights[0].AllClose(expected, 0, 0).Should().BeTrue();
        weights[0].Select(0, 0).Narrow(2, 3, 2).Abs().Max().Item().Should().Be(0, "padded keys get no attention");
        // layer 1 sees layer 0's output
        var (first, _) = layer.ForwardWithAttention(x, null, padding);
        var second = encoder.Layers[1].ForwardWithAttention(first, null, padding).AttentionWeights;
        second.Shape.Should().Equal(new long[] { 3, 5, 5 }, "averaged over the heads by default");
        second.AllClose(weights[1].Mean([1]), 1e-6, 1e-7).Should().BeTrue();
        // unbatched (L, E): no batch dimension
        using var single = new TransformerEncoderLayer(8, 2, dimFeedforward: 16, dropout: 0);
        var (_, unbatched) = single.ForwardWithAttention(Tensors.Randn(4, 8));
        unbatched.Shape.Should().Equal(4, 4);
    }

    [Fact]
    public void PerHeadWeights_AreTheTensorTheOutputIsComputedFrom_SoTheirGradientIsTheGradientThroughTheAttention()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attention = new MultiheadAttention(8, 2, batchFirst: true);
        var x = Tensors.Randn(2, 5, 8);
        var w = Tensors.Randn(2, 5, 8);
        var (output, weights) = attention.Call(x, x, x, needWeights: true, averageAttnWeights: false);
        var gradient = MedVision.Torch.Autograd.Gradients.Compute((output * w).Sum(), weights!);
        // By hand: out = concat_h(A_h V_h) W_outᵀ + b, so d(sum(out · w))/dA_h = (w W_out)_h V_hᵀ, V = x W_vᵀ + b_v.
        var v = F.Linear(x, attention.InProjWeight.Narrow(0, 16, 8), attention.InProjBias!.Narrow(0, 16, 8)).View(2, 5, 2, 4).Transpose(1, 2);
        var outputGradient = w.MatMul(attention.OutProj.Weight).View(2, 5, 2, 4).Transpose(1, 2);
        var expected = outputGradient.MatMul(v.Transpose(2, 3));
        gradient.Shape.Should().Equal(2, 2, 5, 5);
        gradient.AllClose(expected, 1e-5, 1e-6).Should().BeTrue();
        // the forward's output is unchanged by it
        output.AllClose(attention.Call(x, x, x, needWeights: false).Output, 0, 0).Should().BeTrue();
    }

    [Fact]
    public void TheEncoder_StacksCopiesOfItsLayer_WithPyTorchsNames()
    {
        using var scope = Tensors.NewDisposeScope();
        using var encoder = new TransformerEncoder(new TransformerEncoderLayer(8, 2, dimFeedforward: 16), 3, new LayerNorm(8));
        encoder.Layers.Should().HaveCount(3);
        var state = encoder.StateDict();
        state.Keys.Should().Contain(["layers.0.self_attn.in_proj_weight", "layers.2.self_attn.out_proj.bias", "layers.1.linear1.weight", "layers.2.norm2.bias", "norm.weight"]);
        state["layers.2.linear1.weight"].AllClose(state["layers.0.linear1.weight"], 0, 0).Should().BeTrue("the layers start as copies, as PyTorch's deep copies do");
        state["layers.2.linear1.weight"].IsSameTensor(state["layers.0.linear1.weight"]).Should().BeFalse("but do not share storage");
        encoder.ParameterCount().Should().Be(3 * (3 * 8 * 8 + 3 * 8 + 8 * 8 + 8 + 16 * 8 + 16 + 8 * 16 + 8 + 4 * 8) + 2 * 8);
        using var mha = new MultiheadAttention(8, 2);
        mha.InProjBias!.Abs().Sum().Item().Should().Be(0);
        mha.ToString().Should().Contain("embed_dim=8, num_heads=2");

        // a model summary lists the attention and counts its arithmetic: for (L, N, E) = (5, 1, 8), the three
        // projections 3 · 5 · 8 · 8, Q Kᵀ and weights × V 2 · 5 · 5 · 8, the output projection 5 · 8 · 8 on its own row
        var summary = ModelSummary.Create(encoder, 5, 1, 8);
        summary.Rows.Where(r => r.TypeName == "TransformerEncoderLayer").Select(r => r.Name).Should().Equal("layers.0", "layers.1", "layers.2");
        var attention = summary.Rows.Where(r => r.TypeName == "MultiheadAttention").ToList();
        attention.Should().HaveCount(3);
        attention[0].Name.Should().Be("layers.0.self_attn");
        attention[0].MultiplyAccumulates.Should().Be(3 * 5 * 8 * 8 + 2 * 5 * 5 * 8);
        summary.Rows.Single(r => r.Name == "layers.0.self_attn.out_proj").MultiplyAccumulates.Should().Be(5 * 8 * 8);
        summary.TotalMultiplyAccumulates.Should().Be(3 * (3 * 5 * 8 * 8 + 2 * 5 * 5 * 8 + 5 * 8 * 8 + 5 * 8 * 16 + 5 * 16 * 8));
    }

    [Fact]
    public void RandomShapesAndMasks_GiveTheRightShapes_OrAClearRefusal()
    {
        // 300 random calls: batched or not, batch first or not, self- or cross-attention, masks of the right or a wrong
        // shape and type. Oracle: the output has the query's shape and the weights theirs, or an ArgumentException
        // (or libtorch's TorchException) says why — never another exception, never a crash.
        var random = new Random(7);
        int answered = 0, refused = 0;
        for (int i = 0; i < 300; i++)
        {
            using var scope = Tensors.NewDisposeScope();
            long heads = random.Next(1, 4), e = heads * random.Next(1, 4), n = random.Next(1, 4), l = random.Next(1, 6), s = random.Next(1, 6);
            bool batchFirst = random.Next(2) == 0, batched = random.Next(4) != 0, self = random.Next(2) == 0;
            using var mha = new MultiheadAttention(e, heads, bias: random.Next(2) == 0, batchFirst: batchFirst);
            if (self) s = l;
            long[] Shape(long length) => batched ? batchFirst ? [n, length, e] : [length, n, e] : [length, e];
            var q = Tensors.Randn(Shape(l));
            var k = self ? q : Tensors.Randn(Shape(s + (random.Next(10) == 0 ? 1 : 0)));
            var v = self ? q : random.Next(2) == 0 ? k : Tensors.Randn(k.Shape);
            Tensor? Mask(long[] shape) => random.Next(3) switch
            {
                0 => null,
                1 => Tensors.Rand(shape) > 0.3,
                _ => random.Next(8) == 0 ? Tensors.Zeros(shape, ScalarType.Int64) : Tensors.Randn(shape),
            };
            long wrong = random.Next(10) == 0 ? 1 : 0;
            var attnMask = Mask(random.Next(2) == 0 ? [l, s + wrong] : [n * heads, l, s + wrong]);
            var padding = Mask(batched ? [n, s + wrong] : [s + wrong]);
            bool average = random.Next(2) == 0;
            try
            {
                var (output, weights) = mha.Call(q, k, v, padding, needWeights: true, attnMask, average);
                output.Shape.Should().Equal(q.Shape);
                long keys = batched && batchFirst ? k.Shape[1] : k.Shape[0];
                long[] expected = average ? [n, l, keys] : [n, heads, l, keys];
                weights!.Shape.Should().Equal(batched ? expected : expected[1..]);
                answered++;
            }
            catch (Exception ex) when (ex is ArgumentException or TorchException)
            {
                refused++;
            }
        }
        answered.Should().BeGreaterThan(100);
        refused.Should().BeGreaterThan(10);
    }
}
