using MedVision.Torch;
using MedVision.Torch.Nn;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Cuda;

/// <summary>
/// The same inputs (drawn once with System.Random, so independent of any device's generator) placed on a device in a
/// dtype, for comparing one op between devices or dtypes.
/// </summary>
public sealed class OpInputs : IDisposable
{
    private readonly List<Tensor> _all = new();

    public OpInputs(ScalarType type, Device device)
    {
        Tensor Make(double[] values, params long[] shape)
        {
            using var cpu = Tensors.FromArray(values, shape);
            var t = cpu.To(type, device);
            _all.Add(t);
            return t;
        }
        Tensor Longs(long[] values, params long[] shape)
        {
            using var cpu = Tensors.FromArray(values, shape);
            var t = cpu.To(device);
            _all.Add(t);
            return t;
        }
        X = Make(Values(2 * 3 * 6 * 6, 1), 2, 3, 6, 6);
        Y = Make(Values(2 * 3 * 6 * 6, 2), 2, 3, 6, 6);
        W2 = Make(Values(4 * 3 * 3 * 3, 3, 0.3), 4, 3, 3, 3);
        B = Make(Values(4, 4), 4);
        X3 = Make(Values(1 * 2 * 5 * 5 * 5, 5), 1, 2, 5, 5, 5);
        W3 = Make(Values(3 * 2 * 3 * 3 * 3, 6, 0.3), 3, 2, 3, 3, 3);
        WT2 = Make(Values(3 * 4 * 3 * 3, 7, 0.3), 3, 4, 3, 3);
        WT3 = Make(Values(2 * 3 * 3 * 3 * 3, 8, 0.3), 2, 3, 3, 3, 3);
        M = Make(Values(5 * 7, 9), 5, 7);
        N = Make(Values(7 * 4, 10), 7, 4);
        Logits = Make(Values(6 * 5, 11, 2), 6, 5);
        Labels = Longs(new long[] { 0, 4, 2, 2, 1, 3 }, 6);
        Targets01 = Make(Enumerable.Range(0, 30).Select(i => (double)(i * 7 % 3 == 0 ? 1 : 0)).ToArray(), 6, 5);
        ClassWeight = Make(new[] { 1.0, 2.0, 0.5, 1.5, 1.0 }, 5);
        Index = Longs(new long[] { 2, 0, 1 }, 3);
    }

    public Tensor X { get; }
    public Tensor Y { get; }
    public Tensor W2 { get; }
    public Tensor B { get; }
    public Tensor X3 { get; }
    public Tensor W3 { get; }
    public Tensor WT2 { get; }
    public Tensor WT3 { get; }
    public Tensor M { get; }
    public Tensor N { get; }
    public Tensor Logits { get; }
    public Tensor Labels { get; }
    public Tensor Targets01 { get; }
    public Tensor ClassWeight { get; }
    public Tensor Index { get; }

    public void Dispose()
    {
        foreach (var t in _all) t.Dispose();
    }

    private static double[] Values(int n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => scale * (2 * r.NextDouble() - 1)).ToArray();
    }
}

/// <summary>
/// One entry per tensor or functional op (issue #2, items 4 and 6): run on CPU and on CUDA, or in float32 and float64,
/// the results must agree. Ops that draw random numbers are left out (their streams differ between devices); the
/// CUDA tests check those separately for reproducibility under a seed.
/// </summary>
public static class OpTable
{
    public static readonly IReadOnlyDictionary<string, Func<OpInputs, Tensor>> Ops = new Dictionary<string, Func<OpInputs, Tensor>>
    {
        ["add"] = i => i.X + i.Y,
        ["sub scalar"] = i => i.X - 0.25,
        ["mul"] = i => i.X * i.Y,
        ["div"] = i => i.X / (i.Y.Abs() + 1),
        ["neg abs"] = i => (-i.X).Abs(),
        ["exp log"] = i => i.X.Exp() + (i.Y.Abs() + 0.5).Log(),
        ["sqrt pow"] = i => i.X.Abs().Sqrt() + i.Y.Pow(2),
        ["clamp"] = i => i.X.Clamp(-0.3, 0.4),
        ["sigmoid tanh"] = i => i.X.Sigmoid() * i.Y.Tanh(),
        ["relu leaky relu"] = i => i.X.Relu() + i.Y.LeakyRelu(0.1),
        ["softmax"] = i => i.X.Softmax(1),
        ["log softmax"] = i => i.Logits.LogSoftmax(1),
        ["sum mean keepdim"] = i => i.X.Sum(1, keepDim: true) + i.X.Mean(new long[] { 2, 3 }, keepDim: true),
        ["max min over dim"] = i => i.X.Max(3).Values - i.X.Min(),
        ["argmax"] = i => i.Logits.ArgMax(1).To(ScalarType.Float32),
        ["std var"] = i => i.X.Std(new long[] { 2, 3 }) + i.Y.Var(new long[] { 1 }).Mean(new long[] { 1, 2 }).Unsqueeze(1),
        ["comparisons where"] = i => Tensors.Where(i.X > i.Y, i.X, i.Y * 2) + (i.X >= 0.1).To(i.X.ScalarType),
        ["matmul"] = i => i.M.MatMul(i.N),
        ["bmm"] = i => i.X.Reshape(6, 6, 6).Bmm(i.Y.Reshape(6, 6, 6)),
        ["view permute transpose"] = i => i.X.Permute(0, 2, 3, 1).Transpose(1, 2).Contiguous().View(2, -1),
        ["expand squeeze unsqueeze"] = i => i.B.Unsqueeze(0).Expand(3, 4).Unsqueeze(2).Squeeze(2) * 2,
        ["cat stack"] = i => Tensors.Cat(new[] { i.X, i.Y }, 1) .Sum(1) + Tensors.Stack(new[] { i.X, i.Y }, 0).Mean(0).Sum(1),
        ["split chunk narrow"] = i => i.X.Split(2, 3)[1] + i.Y.Chunk(3, 3)[2] + i.X.Narrow(3, 1, 2),
        ["index select gather"] = i => i.X.IndexSelect(1, i.Index).Sum(1) + i.Logits.Gather(1, i.Labels.Unsqueeze(1)).Sum(),
        ["masked fill"] = i => i.X.MaskedFill(i.Y > 0.2, -3),
        ["slice"] = i => i.X.Slice(2, 1, 5, 2) * 3,
        ["in-place optimizer ops"] = i =>
        {
            var t = i.X.Clone();
            t.AddInPlace(i.Y, 0.5).MulInPlace(1.5).AddcmulInPlace(i.X, i.Y, 0.1).AddcdivInPlace(i.X, i.Y.Abs() + 1, 0.2).LerpInPlace(i.Y, 0.3);
            var z = i.Y.Clone().ZeroInPlace().AddInPlace(1.0).CopyInPlace(t).FillInPlace(0).AddInPlace(t);
            return z.ReluInPlace();
        },
        ["conv2d stride padding bias"] = i => F.Conv2d(i.X, i.W2, i.B, stride: 2, padding: 1),
        ["conv2d dilation"] = i => F.Conv2d(i.X, i.W2, null, padding: 2, dilation: 2),
        ["conv1d"] = i => F.Conv1d(i.X.Reshape(2, 3, 36), i.W2.Reshape(4, 3, 9), i.B, padding: 4),
        ["conv3d"] = i => F.Conv3d(i.X3, i.W3, null, padding: 1),
        ["conv transpose 2d"] = i => F.ConvTranspose2d(i.X, i.WT2, null, stride: 2, padding: 1, outputPadding: 1),
        ["conv transpose 3d"] = i => F.ConvTranspose3d(i.X3.Narrow(1, 0, 2), i.WT3, null, stride: 2),
        ["linear"] = i => F.Linear(i.M, i.N.T(), null),
        ["batch norm eval"] = i => F.BatchNorm(i.X, i.X.Mean(new long[] { 0, 2, 3 }), i.Y.Var(new long[] { 0, 2, 3 }) + 0.5, null, null, training: false),
        ["batch norm training updates stats"] = i =>
        {
            var mean = i.B.Narrow(0, 0, 3).Clone();
            var variance = i.B.Narrow(0, 1, 3).Abs() + 1;
            var y = F.BatchNorm(i.X, mean, variance, null, null, training: true, momentum: 0.3);
            return y.Sum(new long[] { 0, 2, 3 }) + mean + variance;
        },
        ["instance group layer norm"] = i => F.InstanceNorm(i.X) + F.GroupNorm(i.Y, 3) + F.LayerNorm(i.X, new long[] { 6, 6 }),
        ["max avg pool 2d"] = i => F.MaxPool2d(i.X, 3, 2, 1) + F.AvgPool2d(i.Y, 3, 2, 1),
        ["max avg pool 3d"] = i => F.MaxPool3d(i.X3, 2) + F.AvgPool3d(i.X3, 2),
        ["adaptive avg pool 2d 3d"] = i => F.AdaptiveAvgPool2d(i.X, 4, 3).Sum() + F.AdaptiveAvgPool3d(i.X3, 2, 3, 2).Sum(),
        ["dropout off"] = i => F.Dropout(i.X, 0.5, training: false),
        ["pairwise distance normalize"] = i => F.PairwiseDistance(i.M, i.M.Flip0()) + F.Normalize(i.M).Sum(1),
        ["interpolate nearest bilinear"] = i => F.Interpolate(i.X, new long[] { 9, 5 }) + F.Interpolate(i.Y, new long[] { 9, 5 }, InterpolationMode.Linear),
        ["interpolate trilinear"] = i => F.Interpolate(i.X3, new long[] { 7, 4, 6 }, InterpolationMode.Linear),
        ["pad"] = i => F.Pad(i.X, new long[] { 1, 2, 0, 1 }, value: 0.5),
        ["pad reflect replicate circular"] = i => F.Pad(i.X, [1, 2, 2, 1], PaddingMode.Reflect) + F.Pad(i.Y, [1, 2, 2, 1], PaddingMode.Replicate) + F.Pad(i.X, [1, 2, 2, 1], PaddingMode.Circular),
        ["interpolate by scale factors"] = i => F.Interpolate(i.X, [1.7]) + F.Interpolate(i.Y, [1.7, 1.7], InterpolationMode.Linear),
        ["grid sample"] = i => F.GridSample(i.X, i.Y.Narrow(1, 0, 2).Permute(0, 2, 3, 1).Tanh(), GridSampleMode.Bilinear, GridPaddingMode.Border)
            + F.GridSample(i.Y, i.X.Narrow(1, 1, 2).Permute(0, 2, 3, 1).Tanh(), GridSampleMode.Nearest, GridPaddingMode.Reflection, alignCorners: true),
        ["prelu hardtanh relu6"] = i => F.PRelu(i.X, i.B.Narrow(0, 0, 3)) + F.Hardtanh(i.Y, -0.5, 0.5) + F.Relu6(i.X * 8),
        ["cross entropy weights smoothing ignore"] = i => F.CrossEntropy(i.Logits, i.Labels, i.ClassWeight, ignoreIndex: 2, labelSmoothing: 0.1),
        ["nll loss"] = i => F.NllLoss(i.Logits.LogSoftmax(1), i.Labels, reduction: Reduction.Sum),
        ["bce with logits pos weight"] = i => F.BinaryCrossEntropyWithLogits(i.Logits, i.Targets01, posWeight: i.ClassWeight),
        ["mse l1 smooth l1"] = i => F.MseLoss(i.X, i.Y) + F.L1Loss(i.X, i.Y) + F.SmoothL1Loss(i.X, i.Y, beta: 0.5),
    };

    /// <summary>Names for [MemberData].</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Ops.Keys) data.Add(name);
            return data;
        }
    }

    /// <summary>Runs one op on the given dtype and device and returns the result as float64 values on the CPU, with its shape.</summary>
    public static (double[] Values, long[] Shape) Run(string name, ScalarType type, Device device)
    {
        using var inputs = new OpInputs(type, device);
        using var scope = Tensors.NewDisposeScope();
        var y = Ops[name](inputs);
        y.Device.Type.Should().Be(device.Type, "{0} keeps its result on the inputs' device", name);
        return (y.To(ScalarType.Float64, Device.Cpu).ToArray<double>(), y.Shape.ToArray());
    }

    private static Tensor Flip0(this Tensor t) => t.IndexSelect(0, Tensors.Arange(t.Size(0) - 1, -1, -1, ScalarType.Int64, t.Device));
}
