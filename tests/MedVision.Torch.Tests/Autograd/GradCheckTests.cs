using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;
using In = MedVision.Torch.Tests.Support.GradCheck.Input;

namespace MedVision.Torch.Tests.Autograd;

/// <summary>Autograd gradients of the functional ops against central finite differences in float64.</summary>
public class GradCheckTests
{
    private static In R(int seed, params long[] shape) => new(H.Uniform((int)H.Prod(shape), seed), shape);

    [Fact]
    public void Conv2d_StridePaddingDilationGroups()
        => GradCheck.Run(t => F.Conv2d(t[0], t[1], t[2], stride: 2, padding: 1, dilation: 1, groups: 2),
            R(1, 2, 4, 5, 5), R(2, 6, 2, 3, 3), R(3, 6));

    [Fact]
    public void Conv2d_Dilated()
        => GradCheck.Run(t => F.Conv2d(t[0], t[1], null, padding: 2, dilation: 2), R(4, 1, 2, 5, 5), R(5, 3, 2, 3, 3));

    [Fact]
    public void Conv3d()
        => GradCheck.Run(t => F.Conv3d(t[0], t[1], t[2], stride: 1, padding: 1), R(6, 1, 2, 3, 4, 3), R(7, 2, 2, 2, 2, 2), R(8, 2));

    [Fact]
    public void ConvTranspose2d()
        => GradCheck.Run(t => F.ConvTranspose2d(t[0], t[1], t[2], stride: 2, padding: 1, outputPadding: 1),
            R(9, 1, 2, 3, 3), R(10, 2, 3, 3, 3), R(11, 3));

    [Fact]
    public void Linear()
        => GradCheck.Run(t => F.Linear(t[0], t[1], t[2]), R(12, 4, 5), R(13, 3, 5), R(14, 3));

    [Fact]
    public void BatchNorm_Training()
        => GradCheck.Run(t => F.BatchNorm(t[0], null, null, t[1], t[2], training: true),
            R(15, 4, 3, 2, 2), new In(H.Uniform(3, 16, 0.5, 1.5), new long[] { 3 }), R(17, 3));

    [Fact]
    public void MaxPool2d_And_AvgPool2d()
    {
        GradCheck.Run(t => F.MaxPool(t[0], 2, new long[] { 2 }, new long[] { 2 }), R(18, 1, 2, 4, 4));
        GradCheck.Run(t => F.MaxPool(t[0], 2, new long[] { 3 }, new long[] { 1 }, new long[] { 1 }), R(19, 1, 1, 4, 4));
        GradCheck.Run(t => F.AvgPool2d(t[0], 3, 2, 1), R(20, 1, 2, 5, 5));
        GradCheck.Run(t => F.AvgPool3d(t[0], 2), R(21, 1, 1, 4, 4, 4));
    }

    [Fact]
    public void AdaptiveAvgPool()
        => GradCheck.Run(t => F.AdaptiveAvgPool2d(t[0], 3, 2), R(22, 1, 2, 5, 7));

    [Fact]
    public void InterpolateBilinear()
        => GradCheck.Run(t => F.Interpolate(t[0], new long[] { 7, 5 }, InterpolationMode.Linear), R(23, 1, 2, 4, 3));

    [Fact]
    public void CrossEntropy_WithLabelSmoothingAndClassWeights()
    {
        var target = Tensors.FromArray(new long[] { 0, 3, 2, 2, 1 });
        try
        {
            GradCheck.Run(t => F.CrossEntropy(t[0], target, t[1], labelSmoothing: 0.2),
                R(24, 5, 4), new In(new double[] { 0.5, 1.0, 2.0, 0.25 }, new long[] { 4 }, Differentiable: false));
        }
        finally { target.Dispose(); }
    }

    [Fact]
    public void BceWithLogits_WithPosWeight()
        => GradCheck.Run(t => F.BinaryCrossEntropyWithLogits(t[0], t[1], posWeight: t[2]),
            R(25, 4, 3), new In(H.Uniform(12, 26, 0, 1), new long[] { 4, 3 }), new In(new double[] { 0.5, 2, 3 }, new long[] { 3 }, false));

    [Fact]
    public void SmoothL1()
    {
        // keep |x − y| away from beta, where the loss has no second derivative
        var x = H.Uniform(10, 27, -2, 2);
        var y = x.Select((v, i) => v + (i % 2 == 0 ? 0.3 : -1.7) * (i % 3 == 0 ? 1 : -1)).ToArray();
        GradCheck.Run(t => F.SmoothL1Loss(t[0], t[1], beta: 1.0), new In(x, new long[] { 10 }), new In(y, new long[] { 10 }));
    }

    [Fact]
    public void PairwiseDistance()
        => GradCheck.Run(t => F.PairwiseDistance(t[0], t[1]), R(28, 3, 4), R(29, 3, 4));

    [Fact]
    public void L2Normalize()
        => GradCheck.Run(t => F.Normalize(t[0], 2, 1), R(30, 3, 4));
}
