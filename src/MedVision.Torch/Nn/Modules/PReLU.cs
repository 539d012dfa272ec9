using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// PReLU: x where x &gt; 0, a·x elsewhere, with a learnt slope a: one for all channels or one per channel
/// (torch.nn.PReLU; parameter "weight", initialised to 0.25).
/// </summary>
public sealed class PReLU : Module<Tensor, Tensor>, IResettable
{
    /// <summary>Creates the layer.</summary>
    /// <param name="numParameters">1, or the number of channels (dimension 1 of the input).</param>
    /// <param name="init">Initial slope.</param>
    public PReLU(long numParameters = 1, double init = 0.25)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numParameters, 1);
        if (!double.IsFinite(init)) throw new ArgumentOutOfRangeException(nameof(init), init, "init must be finite");
        NumParameters = numParameters;
        InitialSlope = init;
        RegisterParameter("weight", Tensors.Full(new[] { numParameters }, init));
    }

    /// <summary>Number of slopes.</summary>
    public long NumParameters { get; }

    /// <summary>The slope the layer starts from (and <see cref="ResetParameters"/> restores).</summary>
    public double InitialSlope { get; }

    /// <summary>The slopes (NumParameters).</summary>
    public Tensor Weight => GetParameter("weight")!;

    /// <inheritdoc />
    /// <remarks>Every slope back to <see cref="InitialSlope"/>.</remarks>
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        Init.Constant(Weight, InitialSlope);
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.PRelu(input, Weight);

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"num_parameters={NumParameters}");
}
