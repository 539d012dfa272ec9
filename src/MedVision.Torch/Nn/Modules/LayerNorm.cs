using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Layer normalisation over the trailing dimensions (torch.nn.LayerNorm).</summary>
public sealed class LayerNorm : Module<Tensor, Tensor>, IResettable
{
    private readonly long[] _shape;

    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(s => s < 1)) throw new ArgumentException("normalized_shape needs positive sizes.", nameof(normalizedShape));
        Guard.PositiveFinite(eps);
        _shape = (long[])normalizedShape.Clone();
        Eps = eps;
        DisposeIfThrows(() =>
        {
            RegisterParameter("weight", elementwiseAffine ? Tensors.Ones(_shape) : null);
            RegisterParameter("bias", elementwiseAffine ? Tensors.Zeros(_shape) : null);
        });
    }

    /// <summary>Creates the layer over one trailing dimension.</summary>
    public LayerNorm(long normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) : this(new[] { normalizedShape }, eps, elementwiseAffine) { }

    /// <summary>The normalised trailing shape.</summary>
    public IReadOnlyList<long> NormalizedShape => _shape;
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }

    /// <inheritdoc />
    /// <remarks>The scale back to ones and the shift to zeros; nothing without them.</remarks>
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        if (GetParameter("weight") is { } weight) Init.Ones(weight);
        if (GetParameter("bias") is { } bias) Init.Zeros(bias);
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.LayerNorm(input, _shape, GetParameter("weight"), GetParameter("bias"), Eps);

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"({string.Join(", ", _shape)}), eps={Eps}");
}
