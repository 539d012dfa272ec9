using MedVision.Torch.Native;

namespace MedVision.Torch;

public sealed partial class Tensor
{
    private Tensor InPlace(InPlaceOp op, Tensor other, double alpha = 1.0, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(other))] string? otherName = null)
    {
        ArgumentNullException.ThrowIfNull(other, otherName);
        Check(NativeMethods.mvt_inplace_binary((int)op, Handle, other.Handle, alpha));
        return this;
    }

    private Tensor InPlace(InPlaceScalarOp op, double s)
    {
        Check(NativeMethods.mvt_inplace_scalar((int)op, Handle, s));
        return this;
    }

    /// <summary>In place: this += alpha·other (torch add_). Returns this tensor.</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1.0) => InPlace(InPlaceOp.Add, other, alpha);
    /// <summary>In place: this += s.</summary>
    public Tensor AddInPlace(double s) => InPlace(InPlaceScalarOp.Add, s);
    /// <summary>In place: this −= alpha·other (torch sub_).</summary>
    public Tensor SubInPlace(Tensor other, double alpha = 1.0) => InPlace(InPlaceOp.Sub, other, alpha);
    /// <summary>In place: this ·= other (torch mul_).</summary>
    public Tensor MulInPlace(Tensor other) => InPlace(InPlaceOp.Mul, other);
    /// <summary>In place: this ·= s.</summary>
    public Tensor MulInPlace(double s) => InPlace(InPlaceScalarOp.Mul, s);
    /// <summary>In place: this /= other (torch div_).</summary>
    public Tensor DivInPlace(Tensor other) => InPlace(InPlaceOp.Div, other);
    /// <summary>In place: this /= s.</summary>
    public Tensor DivInPlace(double s) => InPlace(InPlaceScalarOp.Div, s);
    /// <summary>In place: this = max(this, other) elementwise.</summary>
    public Tensor MaximumInPlace(Tensor other) => InPlace(InPlaceOp.Maximum, other);
    /// <summary>In place: copies <paramref name="source"/> (broadcast, converted) into this tensor (torch copy_).</summary>
    public Tensor CopyInPlace(Tensor source) => InPlace(InPlaceOp.Copy, source);
    /// <summary>In place: sets every element to <paramref name="value"/> (torch fill_).</summary>
    public Tensor FillInPlace(double value) => InPlace(InPlaceScalarOp.Fill, value);
    /// <summary>In place: sets every element to zero (torch zero_).</summary>
    public Tensor ZeroInPlace() => InPlace(InPlaceScalarOp.Zero, 0);
    /// <summary>In place: square root (torch sqrt_).</summary>
    public Tensor SqrtInPlace() => InPlace(InPlaceScalarOp.Sqrt, 0);
    /// <summary>In place: max(x, 0) (torch relu_). Autograd accepts it where no earlier op needs the overwritten values for its backward (after batch norm or an addition, as in torchvision's ResNet blocks).</summary>
    public Tensor ReluInPlace() => InPlace(InPlaceScalarOp.Relu, 0);
    /// <summary>In place: power (torch pow_).</summary>
    public Tensor PowInPlace(double exponent) => InPlace(InPlaceScalarOp.Pow, exponent);

    /// <summary>In place: clamps into [min, max] (torch clamp_).</summary>
    public Tensor ClampInPlace(double? min = null, double? max = null)
    {
        if (min is null && max is null) throw new ArgumentException("ClampInPlace needs at least one of min and max.");
        if (min is not null) InPlace(InPlaceScalarOp.ClampMin, min.Value);
        if (max is not null) InPlace(InPlaceScalarOp.ClampMax, max.Value);
        return this;
    }

    /// <summary>In place: this += value·t1·t2 (torch addcmul_).</summary>
    public Tensor AddcmulInPlace(Tensor tensor1, Tensor tensor2, double value = 1.0)
    {
        Check(NativeMethods.mvt_addcmul_(Handle, NotNull(tensor1).Handle, NotNull(tensor2).Handle, value, 0));
        return this;
    }

    /// <summary>In place: this += value·t1/t2 (torch addcdiv_).</summary>
    public Tensor AddcdivInPlace(Tensor tensor1, Tensor tensor2, double value = 1.0)
    {
        Check(NativeMethods.mvt_addcmul_(Handle, NotNull(tensor1).Handle, NotNull(tensor2).Handle, value, 1));
        return this;
    }

    /// <summary>In place: this += weight·(end − this) (torch lerp_).</summary>
    public Tensor LerpInPlace(Tensor end, double weight)
    {
        Check(NativeMethods.mvt_lerp_(Handle, NotNull(end).Handle, weight));
        return this;
    }
}
