using System.Text.Json;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// Differential test against PyTorch 1.13: every case of Fixtures/op_reference.safetensors (written by
/// Fixtures/make_op_reference.py, run once with the system Python) runs the same op through MedVision.Torch, called the
/// way a PyTorch user would call it, on the same inputs; the output and the gradients of sum(output · w) with respect
/// to the inputs must match PyTorch's. Float64 cases are held to 1e-9 relative; float32 convolutions (oneDNN here,
/// libtorch's own choice in Python) to 2e-4.
/// </summary>
public sealed class OpReferenceTests
{
    private static readonly Lazy<SafeTensorDictionary> Reference =
        new(() => SafeTensors.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "op_reference.safetensors")));

    private sealed record Spec(string Name, int Inputs, int[] Grad, double Rtol, double Atol);

    private static IReadOnlyDictionary<string, Spec> Specs => SpecTable.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, Spec>> SpecTable = new(() =>
    {
        using var doc = JsonDocument.Parse(Reference.Value.Metadata["cases"]);
        return doc.RootElement.EnumerateArray().Select(c => new Spec(
            c.GetProperty("name").GetString()!, c.GetProperty("inputs").GetInt32(),
            c.GetProperty("grad").EnumerateArray().Select(g => g.GetInt32()).ToArray(),
            c.GetProperty("rtol").GetDouble(), c.GetProperty("atol").GetDouble())).ToDictionary(s => s.Name);
    });

    // The same calls as make_op_reference.py, in MedVision.Torch's names and argument order.
    private static readonly Dictionary<string, Func<Tensor[], Tensor>> Ops = new()
    {
        ["neg"] = x => -x[0],
        ["abs"] = x => x[0].Abs(),
        ["exp"] = x => x[0].Exp(),
        ["log"] = x => x[0].Log(),
        ["log1p"] = x => x[0].Log1p(),
        ["expm1"] = x => x[0].Expm1(),
        ["sqrt"] = x => x[0].Sqrt(),
        ["rsqrt"] = x => x[0].Rsqrt(),
        ["reciprocal"] = x => x[0].Reciprocal(),
        ["square"] = x => x[0].Square(),
        ["sin"] = x => x[0].Sin(),
        ["cos"] = x => x[0].Cos(),
        ["erf"] = x => x[0].Erf(),
        ["pow_scalar"] = x => x[0].Pow(2.5),
        ["pow_tensor"] = x => x[0].Pow(x[1]),
        ["sigmoid"] = x => x[0].Sigmoid(),
        ["tanh"] = x => x[0].Tanh(),
        ["relu"] = x => F.Relu(x[0]),
        ["leaky_relu"] = x => F.LeakyRelu(x[0], 0.2),
        ["elu"] = x => F.Elu(x[0], 0.7),
        ["gelu"] = x => F.Gelu(x[0]),
        ["silu"] = x => F.Silu(x[0]),
        ["softplus"] = x => F.Softplus(x[0], beta: 2, threshold: 5),
        ["logsigmoid"] = x => F.LogSigmoid(x[0]),
        ["clamp"] = x => x[0].Clamp(-0.5, 0.7),
        ["clamp_min"] = x => x[0].Clamp(min: -0.2),
        ["add_alpha_broadcast"] = x => x[0].Add(x[1], alpha: 0.5),
        ["sub_alpha"] = x => x[0].Sub(x[1], alpha: 1.5),
        ["mul_broadcast"] = x => x[0] * x[1],
        ["div"] = x => x[0] / x[1],
        ["maximum"] = x => x[0].Maximum(x[1]),
        ["minimum"] = x => x[0].Minimum(x[1]),
        ["where"] = x => Tensors.Where(x[0], x[1], x[2]),
        ["scalar_ops"] = x => (x[0] * 2.5 + 1) / 3 - 0.25,

        ["sum_dim_keepdim"] = x => x[0].Sum(1, keepDim: true),
        ["mean_dims"] = x => x[0].Mean([0, 2]),
        ["std_unbiased"] = x => x[0].Std([1]),
        ["var_biased_keepdim"] = x => x[0].Var([0, 2], unbiased: false, keepDim: true),
        ["std_all"] = x => x[0].Std(),
        ["logsumexp"] = x => x[0].LogSumExp(-1),
        ["norm_dims"] = x => x[0].Norm([1, 2]),
        ["amax"] = x => x[0].Amax([0]),
        ["prod_dim"] = x => x[0].Prod(1),
        ["cumsum"] = x => x[0].CumSum(1),
        ["max_dim_values"] = x => MaxValues(x[0], 2),
        ["argmax_dim"] = x => x[0].ArgMax(1),
        ["softmax"] = x => x[0].Softmax(1),
        ["log_softmax"] = x => x[0].LogSoftmax(0),

        ["matmul_broadcast"] = x => x[0].MatMul(x[1]),
        ["matmul_vector"] = x => x[0].MatMul(x[1]),
        ["bmm"] = x => x[0].Bmm(x[1]),
        ["permute"] = x => x[0].Permute(2, 0, 1),
        ["transpose"] = x => x[0].Transpose(0, 2),
        ["cat"] = x => Tensors.Cat([x[0], x[1]], 1),
        ["stack"] = x => Tensors.Stack([x[0], x[1]], 2),
        ["gather"] = x => x[0].Gather(1, x[1]),
        ["index_select"] = x => x[0].IndexSelect(1, x[1]),
        ["narrow"] = x => x[0].Narrow(2, 1, 2),
        ["masked_fill"] = x => x[0].MaskedFill(x[1], -2.5),
        ["expand"] = x => x[0].Expand(2, 3, 4),
        ["flip"] = x => x[0].Flip(0, 2),
        ["slice_step"] = x => x[0].Slice(0, 1, 6, step: 2),
        ["select"] = x => x[0].Select(1, 2),
        ["reshape_noncontiguous"] = x => x[0].Transpose(0, 1).Reshape(3, 8),

        ["conv1d"] = x => F.Conv1d(x[0], x[1], x[2], stride: 2, padding: 1, dilation: 2),
        ["conv2d_groups"] = x => F.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1, groups: 2),
        ["conv3d"] = x => F.Conv3d(x[0], x[1], x[2], padding: 1),
        ["conv_transpose2d"] = x => F.ConvTranspose2d(x[0], x[1], x[2], stride: 2, padding: 1, outputPadding: 1),
        ["conv_transpose3d"] = x => F.ConvTranspose3d(x[0], x[1], x[2], stride: 2),
        ["conv2d_f32"] = x => F.Conv2d(x[0], x[1], x[2], stride: 1, padding: 1),
        ["conv2d_f32_stride"] = x => F.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1),
        ["conv3d_f32"] = x => F.Conv3d(x[0], x[1], x[2], padding: 1),
        ["conv_transpose2d_f32"] = x => F.ConvTranspose2d(x[0], x[1], x[2], stride: 2, padding: 1),
        ["linear"] = x => F.Linear(x[0], x[1], x[2]),
        ["linear_3d_input"] = x => F.Linear(x[0], x[1]),

        ["batch_norm_train"] = x => F.BatchNorm(x[0], Tensors.Zeros([6], ScalarType.Float64), Tensors.Ones([6], ScalarType.Float64), x[1], x[2], training: true, momentum: 0.3, eps: 1e-3),
        ["batch_norm_eval"] = x => F.BatchNorm(x[0], x[3], x[4], x[1], x[2], training: false, eps: 1e-4),
        ["instance_norm"] = x => F.InstanceNorm(x[0], weight: x[1], bias: x[2], eps: 1e-4),
        ["group_norm"] = x => F.GroupNorm(x[0], 3, x[1], x[2], eps: 1e-4),
        ["layer_norm"] = x => F.LayerNorm(x[0], [4, 5], x[1], x[2], eps: 1e-4),

        ["max_pool2d_ceil"] = x => F.MaxPool2d(x[0], 3, stride: 2, padding: 1, ceilMode: true),
        ["max_pool2d_dilation"] = x => F.MaxPool2d(x[0], 2, stride: 1, dilation: 2),
        ["max_pool3d"] = x => F.MaxPool3d(x[0], 2),
        ["avg_pool2d_exclude_pad"] = x => F.AvgPool2d(x[0], 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false),
        ["avg_pool2d"] = x => F.AvgPool2d(x[0], 2),
        ["avg_pool3d_pad"] = x => F.AvgPool3d(x[0], 2, stride: 1, padding: 1),
        ["adaptive_avg_pool2d"] = x => F.AdaptiveAvgPool2d(x[0], 5, 3),
        ["adaptive_avg_pool3d"] = x => F.AdaptiveAvgPool3d(x[0], 4, 2, 3),
        ["adaptive_max_pool2d"] = x => F.AdaptiveMaxPool(x[0], 2, [4, 3]),

        ["interpolate_nearest"] = x => F.Interpolate(x[0], [8, 7], InterpolationMode.Nearest),
        ["interpolate_bilinear"] = x => F.Interpolate(x[0], [9, 6], InterpolationMode.Linear),
        ["interpolate_bilinear_align"] = x => F.Interpolate(x[0], [3, 7], InterpolationMode.Linear, alignCorners: true),
        ["interpolate_bicubic"] = x => F.Interpolate(x[0], [7, 9], InterpolationMode.Bicubic),
        ["interpolate_area"] = x => F.Interpolate(x[0], [3, 2], InterpolationMode.Area),
        ["interpolate_trilinear"] = x => F.Interpolate(x[0], [4, 7, 5], InterpolationMode.Linear),
        ["interpolate_linear"] = x => F.Interpolate(x[0], [10], InterpolationMode.Linear, alignCorners: true),
        ["pad_constant"] = x => F.Pad(x[0], [1, 2, 0, 1], PaddingMode.Constant, 0.5),
        ["pad_reflect"] = x => F.Pad(x[0], [2, 1, 1, 3], PaddingMode.Reflect),
        ["pad_replicate"] = x => F.Pad(x[0], [2, 1, 3, 0], PaddingMode.Replicate),
        ["pad_circular"] = x => F.Pad(x[0], [1, 2, 2, 1], PaddingMode.Circular),
        ["pad_reflect_3d"] = x => F.Pad(x[0], [1, 1, 2, 0, 1, 2], PaddingMode.Reflect),
        ["grid_sample_bilinear"] = x => F.GridSample(x[0], x[1], GridSampleMode.Bilinear, GridPaddingMode.Zeros, alignCorners: false),
        ["grid_sample_nearest_border"] = x => F.GridSample(x[0], x[1], GridSampleMode.Nearest, GridPaddingMode.Border),
        ["grid_sample_reflection_align"] = x => F.GridSample(x[0], x[1], GridSampleMode.Bilinear, GridPaddingMode.Reflection, alignCorners: true),
        ["grid_sample_bicubic"] = x => F.GridSample(x[0], x[1], GridSampleMode.Bicubic, GridPaddingMode.Border, alignCorners: true),
        ["grid_sample_3d"] = x => F.GridSample(x[0], x[1]),
        ["affine_grid"] = x => F.AffineGrid(x[0], [2, 3, 4, 5]),
        ["affine_grid_3d"] = x => F.AffineGrid(x[0], [1, 2, 3, 4, 2], alignCorners: true),

        ["pairwise_distance"] = x => F.PairwiseDistance(x[0], x[1]),
        ["pairwise_distance_p1_keepdim"] = x => F.PairwiseDistance(x[0], x[1], p: 1.0, keepDim: true),
        ["cosine_similarity"] = x => F.CosineSimilarity(x[0], x[1], dim: 1),
        ["normalize"] = x => F.Normalize(x[0], p: 2.0, dim: 1),
        ["normalize_p1_dim0"] = x => F.Normalize(x[0], p: 1.0, dim: 0),

        ["cross_entropy_weighted_smoothed"] = x => F.CrossEntropy(x[0], x[1], x[2], ignoreIndex: -100, labelSmoothing: 0.15),
        ["cross_entropy_sum"] = x => F.CrossEntropy(x[0], x[1], reduction: Reduction.Sum),
        ["cross_entropy_none_2d"] = x => F.CrossEntropy(x[0], x[1], reduction: Reduction.None),
        ["nll_loss_weighted_sum"] = x => F.NllLoss(x[0], x[1], x[2], reduction: Reduction.Sum),
        ["nll_loss_mean_weighted"] = x => F.NllLoss(x[0], x[1], x[2]),
        ["bce_with_logits_pos_weight"] = x => F.BinaryCrossEntropyWithLogits(x[0], x[1], posWeight: x[2]),
        ["bce_with_logits_weight_sum"] = x => F.BinaryCrossEntropyWithLogits(x[0], x[1], x[2], Reduction.Sum),
        ["bce_weight_none"] = x => F.BinaryCrossEntropy(x[0], x[1], x[2], Reduction.None),
        ["mse_sum"] = x => F.MseLoss(x[0], x[1], Reduction.Sum),
        ["l1_none"] = x => F.L1Loss(x[0], x[1], Reduction.None),
        ["smooth_l1_beta"] = x => F.SmoothL1Loss(x[0], x[1], beta: 0.5),
        ["huber_delta_sum"] = x => F.HuberLoss(x[0], x[1], Reduction.Sum, delta: 0.7),
        ["kl_div_mean"] = x => F.KlDiv(x[0], x[1]),
        ["kl_div_batchmean"] = x => F.KlDiv(x[0], x[1], KlDivReduction.BatchMean),
        ["kl_div_log_target_sum"] = x => F.KlDiv(x[0], x[1], KlDivReduction.Sum, logTarget: true),
        ["kl_div_none"] = x => F.KlDiv(x[0], x[1], KlDivReduction.None),
        ["margin_ranking"] = x => F.MarginRankingLoss(x[0], x[1], x[2], margin: 0.3),
        ["margin_ranking_none"] = x => F.MarginRankingLoss(x[0], x[1], x[2], reduction: Reduction.None),
        ["cosine_embedding"] = x => F.CosineEmbeddingLoss(x[0], x[1], x[2], margin: 0.2),
        ["cosine_embedding_sum"] = x => F.CosineEmbeddingLoss(x[0], x[1], x[2], reduction: Reduction.Sum),
        ["triplet_margin"] = x => F.TripletMarginLoss(x[0], x[1], x[2]),
        ["triplet_margin_p1_swap_none"] = x => F.TripletMarginLoss(x[0], x[1], x[2], margin: 0.5, p: 1, swap: true, reduction: Reduction.None),
        ["triplet_margin_eps_sum"] = x => F.TripletMarginLoss(x[0], x[1], x[2], margin: 2.0, eps: 1e-3, reduction: Reduction.Sum),
        ["hinge_embedding"] = x => F.HingeEmbeddingLoss(x[0], x[1], margin: 1.2),
        ["soft_margin_sum"] = x => F.SoftMarginLoss(x[0], x[1], Reduction.Sum),
        ["scatter"] = x => x[0].Scatter(1, x[1], x[2]),
        ["scatter_add"] = x => x[0].ScatterAdd(1, x[1], x[2]),
        ["scatter_reduce_mean"] = x => x[0].ScatterReduce(1, x[1], x[2], ScatterReduction.Mean),
        ["scatter_reduce_amax_exclude"] = x => x[0].ScatterReduce(1, x[1], x[2], ScatterReduction.Amax, includeSelf: false),
        ["scatter_reduce_prod"] = x => x[0].ScatterReduce(1, x[1], x[2], ScatterReduction.Prod),
        ["tril"] = x => x[0].Tril(),
        ["triu_offset"] = x => x[0].Triu(1),
        ["tril_negative"] = x => x[0].Tril(-1),
        ["roll_two_dims"] = x => x[0].Roll([1, -2], [0, 2]),
        ["roll_flat"] = x => x[0].Roll([5]),
        ["nonzero"] = x => x[0].Nonzero(),
        ["unique_values"] = x => x[0].Unique().Values,
        ["unique_inverse"] = x => x[0].Unique(returnInverse: true).Inverse!,
        ["unique_counts"] = x => x[0].Unique(returnCounts: true).Counts!,
        ["unfold_patches"] = x => x[0].Unfold(1, 3, 2),
        ["einsum_bmm"] = x => Tensors.Einsum("bij,bjk->bik", x[0], x[1]),
        ["einsum_channels"] = x => Tensors.Einsum("bchw,bc->bhw", x[0], x[1]),
        ["einsum_trace"] = x => Tensors.Einsum("ii", x[0]),
        ["cdist_l2"] = x => Tensors.Cdist(x[0], x[1]),
        ["cdist_l1"] = x => Tensors.Cdist(x[0], x[1], p: 1),
        ["eye_rect"] = x => Tensors.Eye(3, 4, ScalarType.Float64),
        ["cumprod"] = x => x[0].CumProd(1),
        ["logit"] = x => x[0].Logit(),
        ["logit_eps"] = x => x[0].Logit(eps: 0.05),
        ["bincount"] = x => x[0].Bincount(),
        ["bincount_weights_minlength"] = x => x[0].Bincount(x[1], minLength: 6),
        ["median_all"] = x => x[0].Median(),
        ["median_dim"] = x => x[0].Median(1).Values,
        ["median_dim_indices"] = x => x[0].Median(0, keepDim: true).Indices,
        ["quantile_all"] = x => x[0].Quantile(0.3),
        ["quantile_dim_vector"] = x => x[0].Quantile(x[1], dim: 1, keepDim: true),
        ["quantile_nearest"] = x => x[0].Quantile(0.4, dim: 0, interpolation: QuantileInterpolation.Nearest),
        ["quantile_midpoint"] = x => x[0].Quantile(0.75, dim: 0, interpolation: QuantileInterpolation.Midpoint),
    };

    private static Tensor MaxValues(Tensor x, long dim)
    {
        var (values, indices) = x.Max(dim);
        indices.Dispose();
        return values;
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Specs.Keys.Order(StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    [Fact]
    public void EveryCaseOfTheFixture_HasAnOp_AndEveryOpACase()
    {
        Specs.Keys.Should().BeEquivalentTo(Ops.Keys);
        Specs.Count.Should().BeGreaterThan(100);
        Reference.Value.Metadata["torch"].Should().StartWith("1.13");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var spec = Specs[name];
        using var scope = Tensors.NewDisposeScope();
        var reference = Reference.Value;
        var inputs = Enumerable.Range(0, spec.Inputs).Select(i =>
        {
            var x = reference[$"{name}.in{i}"].Clone();
            if (spec.Grad.Contains(i)) x.RequiresGrad = true;
            return x;
        }).ToArray();

        var output = Ops[name](inputs);
        var expected = reference[$"{name}.out"];
        output.ScalarType.Should().Be(expected.ScalarType, "the output type follows PyTorch's");
        output.Shape.Should().Equal(expected.Shape, "the output shape follows PyTorch's");
        ExpectClose(output, expected, spec, "output");

        if (spec.Grad.Length == 0) return;
        (output * reference[$"{name}.w"]).Sum().Backward();
        foreach (var i in spec.Grad)
        {
            var grad = inputs[i].Grad;
            var want = reference[$"{name}.grad{i}"];
            if (grad is null)
            {
                want.Abs().Max().Item().Should().Be(0, $"input {i} got no gradient, so PyTorch's must be zero");
                continue;
            }
            grad.Shape.Should().Equal(want.Shape);
            ExpectClose(grad, want, spec, $"gradient of input {i}");
        }
    }

    [Fact]
    public void GridSample_RefusesModesThatLibtorchWouldSilentlyMisread()
    {
        using var scope = Tensors.NewDisposeScope();
        var image = Tensors.Randn(1, 1, 4, 4);
        var grid = Tensors.Zeros(1, 2, 2, 2);
        // libtorch takes any integer here and samples some other way without a word
        FluentActions.Invoking(() => F.GridSample(image, grid, (GridSampleMode)5)).Should().Throw<ArgumentOutOfRangeException>()
            .Which.Message.Should().Contain("Bilinear, Nearest, Bicubic");
        FluentActions.Invoking(() => F.GridSample(image, grid, paddingMode: (GridPaddingMode)7)).Should().Throw<ArgumentOutOfRangeException>()
            .Which.Message.Should().Contain("Zeros, Border, Reflection");
        FluentActions.Invoking(() => F.GridSample(Tensors.Randn(1, 1, 2, 4, 4), Tensors.Zeros(1, 1, 2, 2, 3), GridSampleMode.Bicubic))
            .Should().Throw<ArgumentException>().WithMessage("*2-D inputs*");
        F.GridSample(image, grid, GridSampleMode.Nearest).Shape.Should().Equal(1, 1, 2, 2);
    }

    private static void ExpectClose(Tensor actual, Tensor expected, Spec spec, string what)
    {
        if (!expected.ScalarType.IsFloatingPoint())
        {
            actual.To(ScalarType.Int64).ToArray<long>().Should().Equal(expected.To(ScalarType.Int64).ToArray<long>(), what);
            return;
        }
        ReferenceAssert.Close(actual, expected, spec.Rtol, spec.Atol, $"{spec.Name}: {what}");
    }
}
