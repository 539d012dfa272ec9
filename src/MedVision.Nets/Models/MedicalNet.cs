using System.Globalization;
using System.Text.RegularExpressions;
using MedVision.Nets.Blocks;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Models;

/// <summary>
/// MedicalNet's 3-D ResNets (Chen, Ma and Zheng, "Med3D: Transfer Learning for 3D Medical Image Analysis", arXiv
/// 1904.00625; github.com/Tencent/MedicalNet, MIT licence): ResNet-10/18/34/50/101/152/200 pretrained on 23 medical
/// segmentation data sets of CT and MRI, a common start for 3-D medical classification. This class builds the matching
/// <see cref="ResNet"/> (<see cref="CreateBuilder(int)"/>) and reads MedicalNet's <c>.pth</c> files without Python
/// (<see cref="LoadStateDict"/>, <see cref="CreateModel(string, int)"/>).
/// </summary>
/// <remarks>
/// <para>The network: one input channel (N, 1, D, H, W) — for several co-registered modalities, one per channel,
/// <see cref="CreateModel(string, int, int)"/> adapts the pretrained stem —; a 7×7×7 stride-2 convolution and a 3×3×3 stride-2 max pool;
/// layer2 halves the resolution, layer3 and layer4 keep it and dilate all their 3×3×3 convolutions by 2 and 4 (output
/// stride 8); ResNet-18 and 34 use the parameter-free zero-padding shortcut ("--resnet_shortcut A"), the other depths the
/// projection ("B"). MedicalNet's segmentation head <c>conv_seg</c> is left out; the ResNet adds global average pooling
/// and a new classifier <c>fc</c> (or returns the pooled features as a backbone).</para>
/// <para>The weights are not downloaded by this library: MedicalNet publishes them through links in its README (no
/// checksums to verify them against). Inputs should be prepared as MedicalNet's training prepared them: each volume
/// normalised to mean 0 and standard deviation 1 over its non-zero voxels
/// (<see cref="Transforms.TransformPipelineBuilder.NormalizeIntensity"/> with <c>nonZero: true</c>).</para>
/// <para>One difference from MedicalNet's code, for training only: its zero-padding shortcut concatenates
/// <c>out.data</c>, so no gradient flows through the shortcut of the blocks that use it; here it flows as through any
/// identity shortcut (He et al.'s option A). Forward values are the same (tested against a PyTorch reference).</para>
/// </remarks>
/// <example><code>
/// // resnet_50_23dataset.pth from MedicalNet's release, fine-tuned for a two-class task:
/// using var model = MedicalNet.CreateModel("pretrain/resnet_50_23dataset.pth", numClasses: 2);
/// Console.WriteLine(model.Summary(1, 1, 56, 112, 112));
/// </code></example>
public static partial class MedicalNet
{
    /// <summary>The depths MedicalNet publishes weights for: 10, 18, 34, 50, 101, 152 and 200.</summary>
    public static IReadOnlyList<int> Depths { get; } = new[] { 10, 18, 34, 50, 101, 152, 200 };

    /// <summary>The shortcut MedicalNet's network of a depth uses: zero padding for 18 and 34, the projection otherwise.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The depth is not one of <see cref="Depths"/>.</exception>
    public static ResidualShortcut ShortcutOf(int depth) => RequireDepth(depth) is 18 or 34 ? ResidualShortcut.ZeroPadding : ResidualShortcut.Projection;

    /// <summary>A builder of MedicalNet's network of a depth (<see cref="ResNetBuilder.LikeMedicalNet"/>); set the classes or <c>AsBackbone()</c> next.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The depth is not one of <see cref="Depths"/>.</exception>
    public static ResNetBuilder CreateBuilder(int depth) => ResNet.Builder().LikeMedicalNet(depth);

    internal static int RequireDepth(int depth) => Depths.Contains(depth)
        ? depth
        : throw new ArgumentOutOfRangeException(nameof(depth), depth, "MedicalNet's 3-D ResNets have depth 10, 18, 34, 50, 101, 152 or 200.");

    /// <summary>
    /// Reads a MedicalNet weights file (<c>resnet_10.pth</c>, <c>resnet_50_23dataset.pth</c>, …, or a checkpoint that
    /// MedicalNet's training wrote, with its optimizer's state beside the model's): the state dict under
    /// <c>state_dict</c> (or the whole file when it is a plain state dict), with the <c>module.</c> prefix of PyTorch's DataParallel removed and the segmentation head <c>conv_seg</c>
    /// dropped, so the keys are those of <see cref="CreateBuilder(int)"/>'s network. The caller disposes the result.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="PyTorchFormatException">The file is not a readable torch.save file.</exception>
    /// <exception cref="InvalidDataException">The file holds no ResNet state dict (no <c>conv1.weight</c>).</exception>
    public static SafeTensorDictionary LoadStateDict(string path)
    {
        var weights = PyTorchFile.LoadStateDict(path);
        try
        {
            // A training checkpoint holds the model under "state_dict" beside the optimizer's state ("optimizer.…"): keep
            // the model's tensors only. A plain state dict is taken whole.
            if (weights.Keys.Any(k => k.StartsWith("state_dict.", StringComparison.Ordinal)))
                foreach (var key in weights.Keys.Where(k => !k.StartsWith("state_dict.", StringComparison.Ordinal)).ToList()) weights.Take(key).Dispose();
            weights.RenameKeys(key => StripPrefix(StripPrefix(key, "state_dict."), "module."));
            foreach (var key in weights.Keys.Where(k => k.StartsWith("conv_seg.", StringComparison.Ordinal)).ToList()) weights.Take(key).Dispose();
            if (!weights.TryGetValue("conv1.weight", out var stem) || stem.Dim != 5)
                throw new InvalidDataException($"'{Path.GetFullPath(path)}' holds no MedicalNet 3-D ResNet: there is no 5-dimensional conv1.weight among its {weights.Count} tensors (first keys: {string.Join(", ", weights.Keys.Take(5))}).");
            return weights;
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The network of a MedicalNet weights file with those weights loaded and a new classifier of
    /// <paramref name="numClasses"/> classes, ready to fine-tune (training mode). Depth, block kind, widths, input channels
    /// and shortcut are read from the file, so checkpoints of MedicalNet's training with other settings load too.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a MedicalNet ResNet (see <see cref="LoadStateDict"/>), or a stage has no block.</exception>
    /// <exception cref="StateDictMismatchException">A backbone tensor of the file does not fit the network (or one is missing).</exception>
    public static ResNet CreateModel(string path, int numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        return Create(path, null, b => b.WithClasses(numClasses));
    }

    /// <summary>
    /// <see cref="CreateModel(string, int)"/> for inputs of <paramref name="inputChannels"/> channels, e.g. the
    /// co-registered modalities of a subject (T1, T1ce, T2, FLAIR) one per channel: the file's one-channel stem is
    /// adapted by <see cref="PretrainedWeights.AdaptInputChannels"/> (its kernels repeated over the channels and scaled
    /// by 1 / <paramref name="inputChannels"/>, so the stem first responds to the channels' mean as it responded to one
    /// volume); every other pretrained tensor is loaded unchanged. For the file's own channel count this is
    /// <see cref="CreateModel(string, int)"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> or <paramref name="inputChannels"/> is below 1.</exception>
    /// <exception cref="InvalidDataException">The file is not a MedicalNet ResNet, or its stem has neither 1 nor 3 channels (and not <paramref name="inputChannels"/>), so it cannot be adapted.</exception>
    /// <exception cref="StateDictMismatchException">A backbone tensor of the file does not fit the network (or one is missing).</exception>
    public static ResNet CreateModel(string path, int numClasses, int inputChannels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        return Create(path, inputChannels, b => b.WithClasses(numClasses));
    }

    /// <summary>
    /// <see cref="CreateModel(string, int, int)"/> ending in <paramref name="head"/>: a new linear classifier, or a CORAL
    /// head for <paramref name="numClasses"/> ordered grades (<see cref="ResNetBuilder.WithCoralHead"/>: its
    /// <c>fc.weight</c> (1, features) and <c>fc.bias</c> (K − 1) take their own initialisation, as a new classifier does).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> or <paramref name="inputChannels"/> is below 1.</exception>
    /// <exception cref="ArgumentException">An unknown head, or a CORAL head for fewer than 2 grades.</exception>
    /// <exception cref="InvalidDataException">The file is not a MedicalNet ResNet, or its stem cannot be adapted to <paramref name="inputChannels"/>.</exception>
    /// <exception cref="StateDictMismatchException">A backbone tensor of the file does not fit the network (or one is missing).</exception>
    public static ResNet CreateModel(string path, int numClasses, int inputChannels, ClassifierHead head)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        return Create(path, inputChannels, b => b.WithClasses(numClasses).WithHead(head));
    }

    /// <summary>
    /// The network of a MedicalNet weights file as a backbone (<see cref="ResNetBuilder.AsBackbone"/>: the forward pass
    /// returns the pooled layer4 features), with the file's weights loaded strictly, in evaluation mode.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a MedicalNet ResNet, or a stage has no block.</exception>
    /// <exception cref="StateDictMismatchException">A tensor of the file does not fit the network.</exception>
    public static ResNet CreateBackbone(string path)
    {
        var model = Create(path, null, b => b.AsBackbone());
        model.Eval();
        return model;
    }

    /// <summary>
    /// <see cref="CreateBackbone(string)"/> for inputs of <paramref name="inputChannels"/> channels: the file's stem is
    /// adapted as <see cref="CreateModel(string, int, int)"/> adapts it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputChannels"/> is below 1.</exception>
    /// <exception cref="InvalidDataException">The file is not a MedicalNet ResNet, or its stem cannot be adapted to <paramref name="inputChannels"/>.</exception>
    /// <exception cref="StateDictMismatchException">A tensor of the file does not fit the network.</exception>
    public static ResNet CreateBackbone(string path, int inputChannels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        var model = Create(path, inputChannels, b => b.AsBackbone());
        model.Eval();
        return model;
    }

    private static ResNet Create(string path, int? inputChannels, Func<ResNetBuilder, ResNetBuilder> head)
    {
        using var weights = LoadStateDict(path);
        if (inputChannels is int channels) AdaptStem(weights, channels, $"'{Path.GetFullPath(path)}'");
        var model = head(BuilderFor(weights, $"'{Path.GetFullPath(path)}'")).Build();
        try
        {
            var result = model.LoadStateDict(weights, strict: false);
            // Only the new classifier may be missing; everything of the file must fit.
            if (result.UnexpectedKeys.Count > 0 || result.ShapeMismatches.Count > 0 || result.MissingKeys.Any(k => !k.StartsWith("fc.", StringComparison.Ordinal)))
                throw new StateDictMismatchException(result);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A builder of the network that a MedicalNet state dict (as <see cref="LoadStateDict"/> returns it) belongs to: its
    /// blocks per stage give the depth (any counts, not only MedicalNet's seven), <c>layer1.0.conv3</c> a bottleneck, <c>layer{i}.0.conv1</c> the widths,
    /// <c>conv1.weight</c> the input channels, a <c>downsample</c> in layer2's first block (which halves the resolution)
    /// the projection shortcut.
    /// </summary>
    /// <exception cref="InvalidDataException">The keys are not those of a four-stage 3-D ResNet.</exception>
    public static ResNetBuilder CreateBuilder(IReadOnlyDictionary<string, Tensor> weights) => BuilderFor(weights, "the state dict");

    private static ResNetBuilder BuilderFor(IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var blocks = new int[4];
        foreach (var key in weights.Keys)
        {
            var match = BlockKey().Match(key);
            if (!match.Success) continue;
            int stage = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            int block = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
            if (stage is < 1 or > 4)
                throw new InvalidDataException($"{source} has a stage layer{stage}; MedicalNet's ResNets have layer1 to layer4.");
            blocks[stage - 1] = Math.Max(blocks[stage - 1], block + 1);
        }
        if (Array.IndexOf(blocks, 0) is var empty and >= 0)
            throw new InvalidDataException($"{source} has no block in layer{empty + 1}; MedicalNet's ResNets have four stages (blocks per stage found: [{string.Join(", ", blocks)}]).");
        var kind = weights.ContainsKey("layer1.0.conv3.weight") ? ResidualBlockKind.Bottleneck : ResidualBlockKind.Basic;
        var stem = Shape(weights, "conv1.weight", source);
        var widths = Enumerable.Range(1, 4).Select(i => checked((int)Shape(weights, $"layer{i}.0.conv1.weight", source)[0])).ToArray();
        if (stem.Length != 5 || stem[0] != widths[0])
            throw new InvalidDataException($"{source}: conv1.weight has shape [{string.Join(", ", stem)}]; a MedicalNet ResNet's stem is (layer1's width {widths[0]}, channels, 7, 7, 7).");
        // layer2's first block halves the resolution, so it has a shortcut: a projection leaves downsample weights.
        var shortcut = weights.ContainsKey("layer2.0.downsample.0.weight") ? ResidualShortcut.Projection : ResidualShortcut.ZeroPadding;
        return ResNet.Builder().WithBlocks(kind, blocks).WithMedicalNetLayout().WithWidths(widths)
            .ForInput(checked((int)stem[1]), spatialDims: 3).WithShortcut(shortcut);
    }

    // conv1.weight (checked 5-D by LoadStateDict) adapted to `channels` input channels, when it has another count.
    private static void AdaptStem(SafeTensorDictionary weights, int channels, string source)
    {
        var stem = weights["conv1.weight"];
        long own = stem.Size(1);
        if (own == channels) return;
        if (own is not (1 or 3))
            throw new InvalidDataException($"{source}: conv1.weight has {own} input channels; only a one-channel (or RGB) stem can be adapted to {channels}.");
        weights.Replace("conv1.weight", PretrainedWeights.AdaptInputChannels(stem, channels));
    }

    private static long[] Shape(IReadOnlyDictionary<string, Tensor> weights, string key, string source)
        => weights.TryGetValue(key, out var t) ? t.Shape.ToArray() : throw new InvalidDataException($"{source} has no '{key}'; it is not a MedicalNet ResNet.");

    private static string StripPrefix(string key, string prefix) => key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;

    [GeneratedRegex(@"^layer(\d+)\.(\d+)\.conv1\.weight$")]
    private static partial Regex BlockKey();
}
