namespace MedVision.Nets.Models;

/// <summary>
/// Builds an <see cref="Mtcsnn"/>: <c>Mtcsnn.Builder().WithBackbone(b =&gt; b.WithDepth(18).ForInput(3).WithSmallInputStem())
/// .WithClasses(5).WithDifferenceWeight(0.5).Build()</c>. Defaults are those of <see cref="MtcsnnOptions"/>. Options are
/// checked when set and in <see cref="Build"/>; a builder cannot be used after <see cref="Build"/>.
/// </summary>
public sealed class MtcsnnBuilder
{
    private readonly MtcsnnOptions _options = new();
    private bool _built;

    internal MtcsnnBuilder() { }

    /// <summary>Configures the shared backbone (depth, stem, input); it is always built features-only.</summary>
    public MtcsnnBuilder WithBackbone(Action<ResNetBuilder> configure)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(configure);
        var builder = ResNet.Builder();
        configure(builder);
        _options.Backbone = builder.AsBackbone().BuildOptions();
        return this;
    }

    /// <summary>The number of classes (grades) of the classification head.</summary>
    public MtcsnnBuilder WithClasses(int numClasses)
    {
        EnsureUsable();
        if (numClasses < 2) throw new ArgumentException($"Classification needs at least 2 classes, got {numClasses}.", nameof(numClasses));
        _options.NumClasses = numClasses;
        return this;
    }

    /// <summary>λ, the weight of the difference term (0.5 in the paper).</summary>
    public MtcsnnBuilder WithDifferenceWeight(double weight)
    {
        EnsureUsable();
        if (!(weight >= 0) || double.IsInfinity(weight)) throw new ArgumentException($"The difference weight must be finite and non-negative, got {weight}.", nameof(weight));
        _options.DifferenceWeight = weight;
        return this;
    }

    /// <summary>Predicts the signed difference s₁ − s₂ against y₁ − y₂ instead of absolute differences.</summary>
    public MtcsnnBuilder WithSignedDifference(bool enabled = true)
    {
        EnsureUsable();
        _options.SignedDifference = enabled;
        return this;
    }

    /// <summary>The classification head: linear (cross-entropy, the paper's) or CORAL (<see cref="WithCoralHead"/>).</summary>
    public MtcsnnBuilder WithHead(ClassifierHead head)
    {
        EnsureUsable();
        if (head is not (ClassifierHead.Linear or ClassifierHead.Coral)) throw new ArgumentOutOfRangeException(nameof(head), head, "Unknown classifier head.");
        _options.Head = head;
        return this;
    }

    /// <summary>
    /// A CORAL ordinal head (<see cref="Heads.CoralHead"/>) instead of the linear one: K − 1 cumulative logits of one
    /// severity score, trained with <see cref="Losses.CoralLoss"/> beside the difference task; the grade is their median.
    /// </summary>
    public MtcsnnBuilder WithCoralHead() => WithHead(ClassifierHead.Coral);

    /// <summary>Creates the network; the builder cannot be used afterwards.</summary>
    public Mtcsnn Build()
    {
        EnsureUsable();
        _options.Validate();
        _built = true;
        return new Mtcsnn(_options);
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its model; create a new one with Builder().");
    }
}
