using System.Text.Json;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// torch.nn modules against PyTorch 1.13: every case of Fixtures/module_reference.safetensors (written by
/// Fixtures/make_module_reference.py, run once with the system Python) builds the same layer here — per-axis kernel
/// sizes, padding modes, pooling with tuples, activations, resampling by scale factors, normalisation with running
/// statistics — loads PyTorch's initial state dict strictly (so the parameter and buffer names must match), runs the
/// same training passes and compares the output, the gradients of the input and of every parameter, the state after
/// the passes, and the evaluation-mode output without gradients (pre-packed oneDNN weights for float32 convolutions).
/// </summary>
public sealed class ModuleReferenceTests
{
    private static readonly Lazy<SafeTensorDictionary> Reference =
        new(() => SafeTensors.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "module_reference.safetensors")));

    private sealed record Spec(string Name, int Passes, double Rtol, double Atol);

    private static readonly Lazy<IReadOnlyDictionary<string, Spec>> Specs = new(() =>
    {
        using var doc = JsonDocument.Parse(Reference.Value.Metadata["cases"]);
        return doc.RootElement.EnumerateArray().Select(c => new Spec(c.GetProperty("name").GetString()!, c.GetProperty("passes").GetInt32(),
            c.GetProperty("rtol").GetDouble(), c.GetProperty("atol").GetDouble())).ToDictionary(s => s.Name);
    });

    // The layers of make_module_reference.py, in MedVision.Torch's names and argument order.
    private static readonly Dictionary<string, Func<Module<Tensor, Tensor>>> Modules = new()
    {
        ["conv2d_anisotropic_reflect"] = () => new Conv2d(3, 4, kernelSize: [3, 1], stride: [2, 1], padding: [1, 0], paddingMode: PaddingMode.Reflect),
        ["conv2d_replicate_dilated"] = () => new Conv2d(2, 4, 3, padding: 2, dilation: 2, paddingMode: PaddingMode.Replicate),
        ["conv2d_circular_groups"] = () => new Conv2d(4, 4, 3, padding: 1, groups: 2, bias: false, paddingMode: PaddingMode.Circular),
        ["conv2d_per_axis_padding"] = () => new Conv2d(3, 8, kernelSize: [5, 3], stride: [1, 2], padding: [2, 1], dilation: [1, 2]),
        ["conv3d_anisotropic"] = () => new Conv3d(2, 3, kernelSize: [3, 3, 1], stride: [1, 2, 1], padding: [1, 1, 0]),
        ["conv3d_reflect"] = () => new Conv3d(2, 2, 3, padding: 1, paddingMode: PaddingMode.Reflect),
        ["conv1d_reflect"] = () => new Conv1d(2, 3, 5, padding: 2, paddingMode: PaddingMode.Reflect),
        ["conv_transpose2d_anisotropic"] = () => new ConvTranspose2d(4, 2, kernelSize: [2, 3], stride: [2, 1], padding: [0, 1], outputPadding: [1, 0]),
        ["conv_transpose3d_anisotropic"] = () => new ConvTranspose3d(2, 2, kernelSize: [2, 2, 1], stride: [2, 2, 1]),
        ["linear_no_bias"] = () => new Linear(5, 3, bias: false),

        ["max_pool2d_tuple"] = () => new MaxPool2d(kernelSize: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2], ceilMode: true),
        ["avg_pool3d_tuple"] = () => new AvgPool3d(kernelSize: [2, 2, 1], stride: [2, 1, 1], padding: [1, 0, 0], countIncludePad: false),
        ["avg_pool2d_tuple_ceil"] = () => new AvgPool2d(kernelSize: [3, 2], stride: [2, 2], padding: [1, 1], ceilMode: true),
        ["max_pool1d"] = () => new MaxPool1d(3, stride: 2, padding: 1),
        ["avg_pool1d_ceil"] = () => new AvgPool1d(3, stride: 2, padding: 1, ceilMode: true),
        ["adaptive_avg_pool2d_tuple"] = () => new AdaptiveAvgPool2d(3, 5),
        ["adaptive_avg_pool3d_tuple"] = () => new AdaptiveAvgPool3d(2, 3, 1),
        ["adaptive_max_pool2d"] = () => new AdaptiveMaxPool2d(2),
        ["adaptive_max_pool3d_tuple"] = () => new AdaptiveMaxPool3d(2, 3, 2),

        ["gelu"] = () => new GELU(),
        ["silu"] = () => new SiLU(),
        ["elu"] = () => new ELU(alpha: 0.5),
        ["softplus"] = () => new Softplus(beta: 2, threshold: 3),
        ["relu6"] = () => new ReLU6(),
        ["hardtanh"] = () => new Hardtanh(-0.5, 2.0),
        ["log_sigmoid"] = () => new LogSigmoid(),
        ["log_softmax"] = () => new LogSoftmax(dim: 1),
        ["prelu_per_channel"] = () => new PReLU(numParameters: 3, init: 0.1),
        ["prelu_single"] = () => new PReLU(),

        ["upsample_nearest_2"] = () => new Upsample(2),
        ["upsample_nearest_1_7"] = () => new Upsample(1.7),
        ["upsample_bilinear_1_5"] = () => new Upsample(1.5, InterpolationMode.Linear),
        ["upsample_bilinear_align"] = () => new Upsample(2, InterpolationMode.Linear, alignCorners: true),
        ["upsample_trilinear_per_axis"] = () => new Upsample(scaleFactor: [2, 1.5, 1], mode: InterpolationMode.Linear),
        ["upsample_size_bicubic_align"] = () => new Upsample(size: [7, 9], mode: InterpolationMode.Bicubic, alignCorners: true),
        ["upsample_linear_1d"] = () => new Upsample(2.5, InterpolationMode.Linear),

        ["batch_norm2d_cumulative"] = () => new BatchNorm2d(3, momentum: null),
        ["batch_norm3d_momentum"] = () => new BatchNorm3d(2, eps: 1e-3, momentum: 0.3),
        ["batch_norm1d_2d_input"] = () => new BatchNorm1d(5),
        ["instance_norm2d_tracked"] = () => new InstanceNorm2d(3, affine: true, trackRunningStats: true),
        ["layer_norm_no_affine"] = () => new LayerNorm([4, 5], elementwiseAffine: false),
        ["group_norm"] = () => new GroupNorm(2, 4),
    };

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Specs.Value.Keys.Order(StringComparer.Ordinal)) data.Add(name);
        return data;
    }

    [Fact]
    public void EveryCaseOfTheFixture_HasAModule_AndEveryModuleACase()
    {
        Specs.Value.Keys.Should().BeEquivalentTo(Modules.Keys);
        Reference.Value.Metadata["torch"].Should().StartWith("1.13");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var spec = Specs.Value[name];
        var reference = Reference.Value;
        using var scope = Tensors.NewDisposeScope();
        using var module = Modules[name]();
        var state = ReferenceAssert.Prefixed(reference, $"{name}.state.");
        var loaded = module.LoadStateDict(state, strict: true);
        loaded.MissingKeys.Should().BeEmpty();

        module.Train();
        for (int i = 0; i < spec.Passes - 1; i++) module.Call(reference[$"{name}.in{i}"]);
        var input = reference[$"{name}.in{spec.Passes - 1}"].Clone().RequiresGradInPlace();
        var output = module.Call(input);
        Close(output, reference[$"{name}.out"], spec, "training output");
        (output * reference[$"{name}.w"]).Sum().Backward();
        Close(input.Grad!, reference[$"{name}.grad"], spec, "input gradient");
        foreach (var (parameter, grad) in ReferenceAssert.Prefixed(reference, $"{name}.pgrad."))
            Close(module.NamedParameters().Single(p => p.Name == parameter).Parameter.Grad!, grad, spec, $"gradient of {parameter}");
        var after = module.StateDict();
        foreach (var (key, value) in ReferenceAssert.Prefixed(reference, $"{name}.after."))
            Close(after[key], value, spec, $"state '{key}' after {spec.Passes} training pass(es)");

        module.Eval();
        using (Tensors.NoGrad())
        {
            using var evaluated = module.Call(reference[$"{name}.in{spec.Passes - 1}"]);
            Close(evaluated, reference[$"{name}.eval"], spec, "evaluation output");
        }
    }

    [Fact]
    public void PerAxisOptions_AreReportedAsPyTorchPrintsThem()
    {
        using var conv = new Conv2d(3, 4, kernelSize: [3, 1], stride: [2, 1], padding: [1, 0], paddingMode: PaddingMode.Reflect);
        conv.KernelSize.Should().Equal(3, 1);
        conv.ToString().Should().Contain("Conv2d(3, 4, kernel_size=(3, 1), stride=(2, 1), padding=(1, 0), padding_mode=reflect)");
        using var plain = new Conv3d(2, 8, 3, padding: 1, bias: false);
        plain.ToString().Should().Contain("Conv3d(2, 8, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1), bias=False)");
        using var up = new ConvTranspose2d(4, 2, kernelSize: [2, 3], stride: [2, 1], outputPadding: [1, 0]);
        up.ToString().Should().Contain("ConvTranspose2d(4, 2, kernel_size=(2, 3), stride=(2, 1), output_padding=(1, 0))");
        using var pool = new MaxPool2d(kernelSize: [3, 2], stride: [2, 1]);
        pool.Stride.Should().Equal(2, 1);
        pool.ToString().Should().Contain("MaxPool2d(kernel_size=(3, 2), stride=(2, 1), padding=0, dilation=1, ceil_mode=False)");
        new Upsample(scaleFactor: [2, 1.5]).ToString().Should().Contain("Upsample(scale_factor=(2, 1.5), mode='nearest')");
    }

    [Fact]
    public void BadPerAxisOptions_AreRefusedByName()
    {
        FluentActions.Invoking(() => new Conv2d(3, 4, kernelSize: [3, 3, 3])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("kernelSize");
        FluentActions.Invoking(() => new Conv3d(3, 4, kernelSize: [3, 0, 3])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("kernelSize");
        FluentActions.Invoking(() => new Conv2d(3, 4, kernelSize: [3, 3], padding: [1, -1])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("padding");
        FluentActions.Invoking(() => new Conv2d(3, 4, kernelSize: [], padding: [1])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("kernelSize");
        FluentActions.Invoking(() => new Conv2d(3, 4, 3, paddingMode: (PaddingMode)9)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("paddingMode");
        FluentActions.Invoking(() => new ConvTranspose2d(4, 2, kernelSize: [2, 2], stride: [2, 1], outputPadding: [1, 1])).Should().Throw<ArgumentOutOfRangeException>()
            .Which.ParamName.Should().Be("outputPadding");
        FluentActions.Invoking(() => new MaxPool2d(kernelSize: [3, 2], padding: [1, 2])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("padding");
        FluentActions.Invoking(() => new AvgPool3d(kernelSize: [2, 2], stride: [1, 1, 1, 1])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("kernelSize");
        FluentActions.Invoking(() => new AdaptiveAvgPool2d(3, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("outputWidth");
        FluentActions.Invoking(() => new Upsample(0.0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("scaleFactor");
        FluentActions.Invoking(() => new Upsample(2, alignCorners: true)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("alignCorners");
        FluentActions.Invoking(() => new Hardtanh(1, -1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("minValue");
        using var prelu = new PReLU(3);
        using var scope = Tensors.NewDisposeScope();
        prelu.Invoking(p => p.Call(Tensors.Zeros(2, 4, 5))).Should().Throw<ArgumentException>().WithMessage("*3 slopes*4 channels*");
        using var dropout = new Dropout2d(0.3);
        dropout.Invoking(d => d.Call(Tensors.Zeros(2, 4, 5))).Should().Throw<ArgumentException>().WithMessage("*4-D input*");
        using var upsample = new Upsample(size: [4, 4]);
        upsample.Invoking(u => u.Call(Tensors.Zeros(1, 1, 2, 2, 2))).Should().Throw<ArgumentException>().WithMessage("*2 spatial dimensions*");
    }

    [Fact]
    public void ChannelDropout_ZeroesWholeChannels_AndScalesTheRest()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(7);
        using var dropout = new Dropout3d(0.5);
        var y = dropout.Call(Tensors.Ones(4, 16, 2, 3, 2)).Reshape(64, 12).ToArray<float>();
        var channels = Enumerable.Range(0, 64).Select(c => y.Skip(12 * c).Take(12).Distinct().ToArray()).ToList();
        channels.Should().OnlyContain(v => v.Length == 1 && (v[0] == 0f || v[0] == 2f), "a channel is dropped or kept whole, kept ones scaled by 1 / (1 − p)");
        channels.Count(v => v[0] == 0f).Should().BeInRange(16, 48);
        dropout.Eval();
        dropout.Call(Tensors.Ones(1, 2, 1, 1, 1)).ToArray<float>().Should().Equal(1f, 1f);
    }

    private static void Close(Tensor actual, Tensor expected, Spec spec, string what)
        => ReferenceAssert.Close(actual, expected, spec.Rtol, spec.Atol, $"{spec.Name}: {what}");
}
