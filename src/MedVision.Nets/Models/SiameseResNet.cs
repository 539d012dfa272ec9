using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;


/// <summary>
/// A Siamese network (Bromley et al., NIPS 1993; Chopra, Hadsell and LeCun, CVPR 2005) over a ResNet backbone: one
/// shared, features-only <see cref="ResNet"/> (a single set of parameters, named <c>backbone.*</c>) embeds both inputs,
/// and the pair's distance is returned with the embeddings. Train it with <see cref="Losses.ContrastiveLoss"/>.
/// Inputs: two batches (N, C, H, W) or (N, C, D, H, W) of the same shape; output (N, E) embeddings and (N) distances.
/// </summary>
public sealed class SiameseResNet : Module<(Tensor First, Tensor Second), SiameseOutput>
{
    private readonly ResNet _backbone;

    /// <summary>Creates the network; the backbone is built from <paramref name="backbone"/> in features-only mode.</summary>
    public SiameseResNet(ResNetOptions backbone, EmbeddingDistance distance = EmbeddingDistance.Euclidean)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        if (!Enum.IsDefined(distance)) throw new ArgumentException($"Unknown distance {distance}.", nameof(distance));
        var options = backbone.Clone();
        options.FeaturesOnly = true;
        options.Validate();
        _backbone = RegisterModule("backbone", new ResNet(options));
        Distance = distance;
    }

    /// <summary>The shared backbone.</summary>
    public ResNet Backbone => _backbone;

    /// <summary>The distance between embeddings.</summary>
    public EmbeddingDistance Distance { get; }

    /// <summary>Size of each embedding.</summary>
    public long EmbeddingSize => _backbone.FeatureCount;

    /// <summary>A fluent builder, e.g. <c>SiameseResNet.Builder().WithBackbone(b =&gt; b.WithDepth(34)).WithDistance(EmbeddingDistance.Cosine).Build()</c>.</summary>
    public static SiameseResNetBuilder Builder() => new();

    /// <summary>The embedding (N, E) of one batch.</summary>
    public Tensor Embed(Tensor input) => _backbone.Call(input);

    /// <summary>Embeds both batches with the shared backbone and measures each pair's distance.</summary>
    public override SiameseOutput Forward((Tensor First, Tensor Second) input)
    {
        ArgumentNullException.ThrowIfNull(input.First);
        ArgumentNullException.ThrowIfNull(input.Second);
        if (!input.First.Shape.SequenceEqual(input.Second.Shape))
            throw new ArgumentException($"Both inputs must have the same shape, got [{string.Join(", ", input.First.Shape)}] and [{string.Join(", ", input.Second.Shape)}].", nameof(input));
        using var scope = Tensors.NewDisposeScope();
        var first = _backbone.Call(input.First);
        var second = _backbone.Call(input.Second);
        var distance = Measure(first, second);
        scope.MoveToOuter(first, second, distance);
        return new SiameseOutput(first, second, distance);
    }

    /// <summary>The distance (N) between embeddings (N, E) under <see cref="Distance"/>.</summary>
    public Tensor Measure(Tensor first, Tensor second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (Distance == EmbeddingDistance.Euclidean) return Functional.PairwiseDistance(first, second);
        using var scope = Tensors.NewDisposeScope();
        var similarity = Functional.CosineSimilarity(first, second, dim: 1);
        var distance = 1.0 - similarity;
        return scope.MoveToOuter(distance);
    }

    /// <summary>A layer-by-layer summary of the shared backbone on one input of <paramref name="inputShape"/> (both branches run the same layers).</summary>
    public ModelSummary Summary(params long[] inputShape) => _backbone.Summary(inputShape);
}
