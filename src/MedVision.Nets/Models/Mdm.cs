using MedVision.Nets.Blocks;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;


/// <summary>
/// The multi-modal diagnosis module (MDM) of CDSF (Pan et al., MICCAI 2021): a 3-D classifier of (MRI, PET) pairs.
/// Feature extraction: five convolutions (16, 32, 64, 64, 64 channels, k3, pad 1), each followed by normalisation and
/// ReLU; a max-pool (k3, stride 2, pad 1) after each of the first four and an average pool (k3, stride 2, pad 1) after
/// the last. Spatial representation: the output is L2-normalised along channels, reshaped to (N, C, positions) and
/// L2-normalised again (over the whole representation of each subject), then flattened; a fully connected layer
/// gives the class logits (softmax gives the probabilities). The FC input size follows from the volume size given at
/// construction; each size must be at least 33. Input (N, 2, D, H, W) = (MRI, PET) stacked on channels; output logits (N, classes).
/// With <c>inputChannels: 1</c> the same network classifies one modality (N, 1, D, H, W), e.g. an MRI-only baseline.
/// </summary>
public sealed class Mdm : Module<Tensor, Tensor>
{
    private static readonly int[] Channels = { 16, 32, 64, 64, 64 };
    private readonly long[] _volume;
    private readonly Sequential _features;
    private readonly Linear _classifier;

    /// <summary>Creates the classifier for volumes of <paramref name="volumeSize"/> (D, H, W).</summary>
    /// <param name="volumeSize">(D, H, W) of the input volumes.</param>
    /// <param name="numClasses">Diagnostic classes (2 in the paper: patients and controls).</param>
    /// <param name="normalization">Batch (default) or instance normalisation after each convolution.</param>
    /// <param name="inputChannels">Modalities stacked on the channel axis: 2 for CDSF's (MRI, PET) pairs (default), 1 for
    /// a single-modality classifier with the same architecture.</param>
    public Mdm(IReadOnlyList<long> volumeSize, int numClasses = 2, NormalizationKind normalization = NormalizationKind.Batch, int inputChannels = 2)
    {
        ArgumentNullException.ThrowIfNull(volumeSize);
        if (volumeSize.Count != 3 || volumeSize.Any(s => s < 1)) throw new ArgumentException($"The volume size must be three positive sizes (D, H, W), got [{string.Join(", ", volumeSize)}].", nameof(volumeSize));
        if (numClasses < 2) throw new ArgumentException($"Diagnosis needs at least 2 classes, got {numClasses}.", nameof(numClasses));
        if (!Enum.IsDefined(normalization)) throw new ArgumentException($"Unknown normalisation {normalization}.", nameof(normalization));
        if (inputChannels < 1) throw new ArgumentException($"The input needs at least one channel (modality), got {inputChannels}.", nameof(inputChannels));
        _volume = volumeSize.ToArray();
        NumClasses = numClasses;
        Normalization = normalization;
        InputChannels = inputChannels;
        // Each pool (k3, s2, p1) maps a size n to ⌊(n − 1) / 2⌋ + 1. Average pooling, unlike max pooling, needs at
        // least a full 3-wide window (as in PyTorch), so every size must reach 3 after the four max-pools: at least 33.
        // Checked before anything is built (a constructor that throws leaves its layers to nobody).
        var beforeAvgPool = _volume.Select(n => Enumerable.Range(0, Channels.Length - 1).Aggregate(n, (size, _) => (size - 1) / 2 + 1)).ToArray();
        if (beforeAvgPool.Any(n => n < 3))
            throw new ArgumentException($"Every volume size must be at least {MinimumVolumeSize} (the final average pool needs a 3-wide map after four stride-2 max-pools), got [{string.Join(", ", _volume)}].", nameof(volumeSize));
        try
        {
            Positions = beforeAvgPool.Select(n => (n - 1) / 2 + 1).Aggregate(1L, (a, b) => checked(a * b));
            FeatureCount = checked(Channels[^1] * Positions);
        }
        catch (OverflowException)
        {
            throw new ArgumentException($"The volume size [{string.Join(", ", _volume)}] is too large: its feature count overflows.", nameof(volumeSize));
        }
        const int dims = 3;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        try
        {
            long inChannels = inputChannels;
            for (int i = 0; i < Channels.Length; i++)
            {
                bool last = i == Channels.Length - 1;
                layers.Add(($"conv{i + 1}", Layers.Conv(dims, inChannels, Channels[i], 3, 1, 1, bias: true)));
                layers.Add(($"norm{i + 1}", Layers.Norm(normalization, dims, Channels[i])));
                layers.Add(($"relu{i + 1}", new ReLU()));
                layers.Add(($"pool{i + 1}", last ? Layers.AvgPool(dims, 3, 2, 1) : Layers.MaxPool(dims, 3, 2, 1)));
                inChannels = Channels[i];
            }
            _features = RegisterModule("features", new Sequential(layers));
            layers.Clear();
            _classifier = RegisterModule("classifier", new Linear(FeatureCount, numClasses));
        }
        catch
        {
            // e.g. out of memory for a huge classifier: free what was built
            foreach (var (_, layer) in layers) layer.Dispose();
            Dispose();
            throw;
        }
    }

    /// <summary>The smallest size along each axis the MDM accepts (33).</summary>
    public const long MinimumVolumeSize = 33;

    /// <summary>(D, H, W) of the input volumes.</summary>
    public IReadOnlyList<long> VolumeSize => _volume;

    /// <summary>Diagnostic classes.</summary>
    public int NumClasses { get; }

    /// <summary>Modalities stacked on the input's channel axis (2 for (MRI, PET) pairs).</summary>
    public int InputChannels { get; }

    /// <summary>The normalisation after each convolution.</summary>
    public NormalizationKind Normalization { get; }

    /// <summary>Spatial positions of the final feature map.</summary>
    public long Positions { get; }

    /// <summary>Length of the flattened spatial representation, the classifier's input (64 × positions).</summary>
    public long FeatureCount { get; }

    /// <summary>The number of convolution blocks (conv, norm, ReLU, pool), 5.</summary>
    public static int BlockCount => Channels.Length;

    /// <summary>
    /// The ReLU of convolution block <paramref name="block"/> (1 to <see cref="BlockCount"/>): a target layer for
    /// <see cref="Explainability.GradCam"/>. Its map has the input's size halved <paramref name="block"/> − 1 times
    /// (9³ for block 3 of a 36³ volume); the last block's (3³) is coarse for small lesions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">No such block.</exception>
    public Module<Tensor, Tensor> BlockActivation(int block)
    {
        if (block < 1 || block > Channels.Length) throw new ArgumentOutOfRangeException(nameof(block), block, $"The MDM has blocks 1 to {Channels.Length}.");
        return _features[(block - 1) * 4 + 2];
    }

    /// <summary>The normalised spatial representation (N, <see cref="FeatureCount"/>) used for the feature-consistency loss.</summary>
    public Tensor ExtractFeatures(Tensor input)
    {
        CheckInput(input);
        using var scope = Tensors.NewDisposeScope();
        var maps = _features.Call(input);
        var channelNormalised = Functional.Normalize(maps, p: 2, dim: 1);
        var spatial = channelNormalised.Reshape(input.Size(0), Channels[^1], Positions);
        // Normalising the (C, positions) representation as a whole equals normalising its flattened form.
        var flat = spatial.Flatten(1);
        var features = Functional.Normalize(flat, p: 2, dim: 1);
        return scope.MoveToOuter(features);
    }

    /// <summary>The features (N, <see cref="FeatureCount"/>) and the logits (N, classes) of one forward pass.</summary>
    public (Tensor Features, Tensor Logits) ForwardWithFeatures(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var features = ExtractFeatures(input);
        var logits = _classifier.Call(features);
        scope.MoveToOuter(features, logits);
        return (features, logits);
    }

    /// <summary>Class logits (N, classes) of (MRI, PET) pairs (N, 2, D, H, W), or of (N, <see cref="InputChannels"/>, D, H, W).</summary>
    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var features = ExtractFeatures(input);
        var logits = _classifier.Call(features);
        return scope.MoveToOuter(logits);
    }

    /// <summary>Class probabilities (N, classes): the softmax of the logits.</summary>
    public Tensor Probabilities(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Call(input);
        var probabilities = logits.Softmax(1);
        return scope.MoveToOuter(probabilities);
    }

    /// <summary>A layer-by-layer summary on zeros of <paramref name="inputShape"/>, e.g. (1, 2, D, H, W).</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);

    private void CheckInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Length != 5 || shape[1] != InputChannels || !shape.Skip(2).SequenceEqual(_volume))
        {
            string expected = InputChannels == 2 ? "(MRI, PET) pairs (N, 2, " : $"(N, {InputChannels}, ";
            throw new ArgumentException($"MDM expects {expected}{string.Join(", ", _volume)}), got [{string.Join(", ", shape)}].", nameof(input));
        }
    }
}
