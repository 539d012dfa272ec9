using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// ResetParameters draws a layer's parameters again exactly as its constructor does (PyTorch's reset_parameters), in
/// place, and resets normalisation layers' running statistics.
/// </summary>
[Collection(SerialCollection.Name)]
public class ResetParametersTests
{
    public static TheoryData<string> Drawn => new() { "Conv1d", "Conv2d no bias", "Conv3d groups 2", "ConvTranspose2d", "ConvTranspose3d", "Linear", "Linear no bias" };

    private static Module<Tensor, Tensor> MakeDrawn(string name) => name switch
    {
        "Conv1d" => new Conv1d(3, 5, 3),
        "Conv2d no bias" => new Conv2d(4, 6, 3, bias: false),
        "Conv3d groups 2" => new Conv3d(4, 6, 3, groups: 2),
        "ConvTranspose2d" => new ConvTranspose2d(4, 6, 2, stride: 2),
        "ConvTranspose3d" => new ConvTranspose3d(2, 3, 3),
        "Linear" => new Linear(7, 4),
        _ => new Linear(7, 4, bias: false),
    };

    [Theory]
    [MemberData(nameof(Drawn))]
    public void Convolutions_and_linear_layers_draw_what_their_constructor_drew_from_the_same_seed(string name)
    {
        Tensors.ManualSeed(1234);
        using var layer = MakeDrawn(name);
        var initial = layer.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.ToArray<float>());
        var handles = layer.Parameters().ToArray();
        foreach (var p in handles)
        {
            using var noGrad = Tensors.NoGrad();
            p.FillInPlace(7);
        }

        Tensors.ManualSeed(1234);
        ((IResettable)layer).ResetParameters();

        layer.Parameters().Should().Equal(handles, (a, b) => ReferenceEquals(a, b), "the same tensors are changed in place");
        foreach (var (pName, p) in layer.NamedParameters())
        {
            p.ToArray<float>().Should().Equal(initial[pName], $"{pName} is drawn as the constructor drew it");
            p.RequiresGrad.Should().BeTrue($"{pName} stays a trainable parameter");
        }
        Tensors.ManualSeed(99);
        ((IResettable)layer).ResetParameters();
        layer.Parameters().First().ToArray<float>().Should().NotEqual(initial["weight"], "another seed draws another weight");
    }

    [Fact]
    public void Batch_norm_resets_running_statistics_then_scale_and_shift()
    {
        using var bn = new BatchNorm2d(3);
        using (var scope = Tensors.NewDisposeScope())
        {
            Tensors.ManualSeed(5);
            bn.Train();
            bn.Call(Tensors.Randn(new long[] { 4, 3, 5, 5 }) * 3 + 2);
            using var noGrad = Tensors.NoGrad();
            bn.Weight!.FillInPlace(2);
            bn.Bias!.FillInPlace(-1);
        }
        bn.NumBatchesTracked!.Item<long>().Should().Be(1);
        bn.RunningMean!.ToArray<float>().Should().NotEqual(new float[3], "the forward pass updated the running mean");

        bn.ResetParameters();

        bn.RunningMean!.ToArray<float>().Should().Equal(0f, 0f, 0f);
        bn.RunningVar!.ToArray<float>().Should().Equal(1f, 1f, 1f);
        bn.NumBatchesTracked!.Item<long>().Should().Be(0);
        bn.Weight!.ToArray<float>().Should().Equal(1f, 1f, 1f);
        bn.Bias!.ToArray<float>().Should().Equal(0f, 0f, 0f);
    }

    [Fact]
    public void Reset_running_stats_leaves_the_scale_and_shift()
    {
        using var bn = new BatchNorm1d(2);
        using (var noGrad = Tensors.NoGrad())
        {
            bn.Weight!.FillInPlace(3);
            bn.RunningMean!.FillInPlace(4);
        }
        bn.ResetRunningStats();
        bn.RunningMean!.ToArray<float>().Should().Equal(0f, 0f);
        bn.Weight!.ToArray<float>().Should().Equal(3f, 3f);
    }

    [Fact]
    public void Instance_group_and_layer_norm_return_to_ones_and_zeros_and_layers_without_parameters_are_left_alone()
    {
        using var instance = new InstanceNorm2d(2, affine: true, trackRunningStats: true);
        using var group = new GroupNorm(2, 4);
        using var layer = new LayerNorm(new long[] { 3, 2 });
        using var bare = new LayerNorm(3, elementwiseAffine: false);
        using var bareGroup = new GroupNorm(1, 2, affine: false);
        using (var noGrad = Tensors.NoGrad())
        {
            foreach (var p in new Module[] { instance, group, layer }.SelectMany(m => m.Parameters())) p.FillInPlace(5);
            instance.RunningVar!.FillInPlace(9);
        }

        foreach (var m in new IResettable[] { instance, group, layer, bare, bareGroup }) m.ResetParameters();

        instance.RunningVar!.ToArray<float>().Should().Equal(1f, 1f);
        foreach (var m in new Module[] { instance, group, layer })
        {
            m.NamedParameters().Single(p => p.Name == "weight").Parameter.ToArray<float>().Should().OnlyContain(v => v == 1f, m.TypeName);
            m.NamedParameters().Single(p => p.Name == "bias").Parameter.ToArray<float>().Should().OnlyContain(v => v == 0f, m.TypeName);
        }
        bare.Parameters().Should().BeEmpty();
    }

    [Fact]
    public void PReLU_returns_to_its_initial_slope()
    {
        using var prelu = new PReLU(3, init: 0.1);
        prelu.InitialSlope.Should().Be(0.1);
        using (var noGrad = Tensors.NoGrad()) prelu.Weight.FillInPlace(0.7);
        prelu.ResetParameters();
        prelu.Weight.ToArray<float>().Should().Equal(0.1f, 0.1f, 0.1f);
    }

    [Fact]
    public void A_convolution_holding_a_packed_weight_computes_with_the_new_weight_after_a_reset()
    {
        Tensors.ManualSeed(3);
        using var conv = new Conv2d(4, 5, 3, padding: 1);
        conv.Eval();
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(new long[] { 1, 4, 6, 6 });
        float[] before, after, expected;
        using (var noGrad = Tensors.NoGrad())
        {
            before = conv.Call(x).ToArray<float>();
            conv.ResetParameters();
            after = conv.Call(x).ToArray<float>();
            expected = Functional.Conv2d(x, conv.Weight, conv.Bias, padding: 1).ToArray<float>();
        }
        after.Should().NotEqual(before, "the weight was drawn again");
        H.Close(after.Select(v => (double)v).ToArray(), expected.Select(v => (double)v).ToArray(), 1e-5, 1e-4, "the packed copy follows the reset weight");
    }
}
