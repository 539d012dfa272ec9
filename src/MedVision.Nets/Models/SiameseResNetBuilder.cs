namespace MedVision.Nets.Models;

/// <summary>
/// Builds a <see cref="SiameseResNet"/>: <c>SiameseResNet.Builder().WithBackbone(b =&gt; b.WithDepth(18).ForInput(1)
/// .WithSmallInputStem()).WithDistance(EmbeddingDistance.Cosine).Build()</c>. The backbone defaults to ResNet-18 with
/// the ImageNet stem on 3-channel images, the distance to Euclidean. A builder cannot be used after <see cref="Build"/>.
/// </summary>
public sealed class SiameseResNetBuilder
{
    private ResNetOptions _backbone = new();
    private EmbeddingDistance _distance = EmbeddingDistance.Euclidean;
    private bool _built;

    internal SiameseResNetBuilder() { }

    /// <summary>Configures the shared backbone (it is always built features-only; classes are ignored).</summary>
    public SiameseResNetBuilder WithBackbone(Action<ResNetBuilder> configure)
    {
        EnsureUsable();
        ArgumentNullException.ThrowIfNull(configure);
        var builder = ResNet.Builder();
        configure(builder);
        _backbone = builder.AsBackbone().BuildOptions();
        return this;
    }

    /// <summary>The distance between the two embeddings.</summary>
    public SiameseResNetBuilder WithDistance(EmbeddingDistance distance)
    {
        EnsureUsable();
        if (!Enum.IsDefined(distance)) throw new ArgumentException($"Unknown distance {distance}.", nameof(distance));
        _distance = distance;
        return this;
    }

    /// <summary>Creates the network; the builder cannot be used afterwards.</summary>
    public SiameseResNet Build()
    {
        EnsureUsable();
        _backbone.FeaturesOnly = true;
        _backbone.Validate();
        _built = true;
        return new SiameseResNet(_backbone, _distance);
    }

    private void EnsureUsable()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its model; create a new one with Builder().");
    }
}
