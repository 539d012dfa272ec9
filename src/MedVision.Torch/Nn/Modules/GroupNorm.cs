using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Group normalisation (torch.nn.GroupNorm).</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>, IResettable
{
    /// <summary>Creates the layer; arguments in PyTorch's order.</summary>
    public GroupNorm(long numGroups, long numChannels, double eps = 1e-5, bool affine = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numGroups, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numChannels, 1);
        if (numChannels % numGroups != 0) throw new ArgumentException($"num_channels ({numChannels}) must be divisible by num_groups ({numGroups}).");
        Guard.PositiveFinite(eps);
        NumGroups = numGroups;
        NumChannels = numChannels;
        Eps = eps;
        DisposeIfThrows(() =>
        {
            RegisterParameter("weight", affine ? Tensors.Ones(new[] { numChannels }) : null);
            RegisterParameter("bias", affine ? Tensors.Zeros(new[] { numChannels }) : null);
        });
    }

    /// <summary>Number of groups.</summary>
    public long NumGroups { get; }
    /// <summary>Channels.</summary>
    public long NumChannels { get; }
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
    public override Tensor Forward(Tensor input) => Functional.GroupNorm(input, NumGroups, GetParameter("weight"), GetParameter("bias"), Eps);

    /// <inheritdoc />
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"{NumGroups}, {NumChannels}, eps={Eps}");
}
