using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Fully connected layer y = x·Wᵀ + b (torch.nn.Linear); weight (out, in), bias (out).</summary>
public sealed class Linear : Module<Tensor, Tensor>, IResettable
{
    /// <summary>Creates the layer, initialised as PyTorch does.</summary>
    public Linear(long inFeatures, long outFeatures, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        DisposeIfThrows(() =>
        {
            var w = RegisterParameter("weight", Tensors.Empty(new[] { outFeatures, inFeatures }))!;
            var b = RegisterParameter("bias", bias ? Tensors.Empty(new[] { outFeatures }) : null);
            Init.DefaultLinearOrConv(w, b);
        });
    }

    /// <summary>Input features.</summary>
    public long InFeatures { get; }
    /// <summary>Output features.</summary>
    public long OutFeatures { get; }
    /// <summary>The weight (out, in).</summary>
    public Tensor Weight => GetParameter("weight")!;
    /// <summary>The bias (out), or null.</summary>
    public Tensor? Bias => GetParameter("bias");

    /// <inheritdoc />
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        Init.DefaultLinearOrConv(Weight, Bias);
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias);

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is not null ? "True" : "False")}");
}
