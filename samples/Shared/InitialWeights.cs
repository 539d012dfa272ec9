using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>
/// --init-weights / --init-entry of the training samples: start a ResNet or a vision transformer from torchvision's
/// ImageNet weights ('imagenet') or from a state dict file (safetensors or torch.save), copying what fits and listing the rest. An RGB
/// stem going into a network of another channel count (grey MedMNIST images) is adapted as timm adapts it
/// (<see cref="PretrainedWeights.AdaptInputChannels"/>).
/// </summary>
internal static class InitialWeights
{
    public static Option<string?> WeightsOption(string whichModel, string hint) => new("--init-weights")
    {
        Description = $"Start from these weights instead of a random initialisation: 'imagenet' for torchvision's ImageNet weights of {whichModel} (downloaded once into $MEDVISION_DATA/weights or ~/.medvision/weights, SHA-256-checked; {hint}), or a state dict file, .safetensors or torch.save .pth/.pt. Tensors whose shapes differ from the model's (the classifier, a small-input stem) keep their random initialisation and are listed; an RGB stem for grey images has its kernels summed over R, G and B (timm's adapt_input_conv).",
    };

    public static Option<string?> EntryOption() => new("--init-entry")
    {
        Description = "For --init-weights from a training checkpoint: the key of its state dict (e.g. state_dict or model; nested keys with dots).",
    };

    public static void Check(Command command, Option<string?> weights, Option<string?> entry)
    {
        command.Check(r => r.GetValue(entry) is not null && r.GetValue(weights) is null ? "--init-entry needs --init-weights." : null);
        command.Check(r => r.GetValue(entry) is not null && string.Equals(r.GetValue(weights), "imagenet", StringComparison.OrdinalIgnoreCase) ? "--init-entry applies to checkpoint files, not to --init-weights imagenet." : null);
    }

    /// <summary>Copies the weights named by <paramref name="weights"/> into <paramref name="network"/> (a ResNet of <paramref name="depth"/>).</summary>
    public static void Apply(ResNet network, int depth, string weights, string? entry)
    {
        var path = weights;
        if (IsImageNet(weights))
        {
            var pretrained = PretrainedWeights.Default(depth);
            AnsiConsole.MarkupLine(Markup.Escape($"torchvision's {pretrained.Name} ({pretrained.Dataset} top-1 {pretrained.Top1Accuracy.ToString(CultureInfo.InvariantCulture)}%): {pretrained.Source}"));
            path = pretrained.DownloadAsync().GetAwaiter().GetResult();
        }
        using var loaded = Load(path, entry);
        CopyInto(network, loaded, path, "conv1.weight", "ResNet", safetensors: IsSafeTensors(path), entry);
    }

    /// <summary>
    /// Copies the weights named by <paramref name="weights"/> into <paramref name="network"/>, the vision transformer of
    /// --model <paramref name="model"/>: 'imagenet' is torchvision's ViT-B/16 or ViT-B/32 file (position embeddings
    /// resized to the network's patch grid, the patch projection adapted to its channels); a file may hold this
    /// library's names or torchvision's (<c>encoder.layers.encoder_layer_0…</c>).
    /// </summary>
    public static void Apply(VisionTransformer network, string model, string weights, string? entry)
    {
        if (IsImageNet(weights))
        {
            var pretrained = model.ToLowerInvariant() switch
            {
                "vit-b16" => PretrainedVisionTransformerWeights.VitB16ImageNet1KV1,
                "vit-b32" => PretrainedVisionTransformerWeights.VitB32ImageNet1KV1,
                _ => throw new ArgumentException($"--init-weights imagenet: torchvision has ImageNet weights for ViT-B/16 and ViT-B/32 (--model vit-b16 or vit-b32, at --resolution 224); --model {model} trains from scratch, or from a state dict file of its own layout."),
            };
            pretrained = pretrained.ForInputChannels(network.Options.InChannels);
            AnsiConsole.MarkupLine(Markup.Escape($"torchvision's {pretrained.Name} (ImageNet-1K top-1 {pretrained.Top1Accuracy.ToString(CultureInfo.InvariantCulture)}%): {pretrained.Source}"));
            var path = pretrained.DownloadAsync().GetAwaiter().GetResult();
            // Loaded with the position embeddings sized for the network's patch grid and the stem adapted to its channels.
            using var imagenet = pretrained.LoadStateDictAsync(imageSize: network.Options.ImageSize[0]).GetAwaiter().GetResult();
            if (network.Options.InChannels != 3)
                AnsiConsole.MarkupLine(Markup.Escape($"conv_proj.weight: {StemAdaptation(network.Options.InChannels)}"));
            CopyInto(network, imagenet, path, null, "vision transformer", safetensors: false, entry: null);
            return;
        }
        using var loaded = Load(weights, entry);
        if (loaded.Keys.Any(k => k.StartsWith("encoder.layers.encoder_layer_", StringComparison.Ordinal)))
            loaded.RenameKeys(VisionTransformer.FromTorchvisionKey);
        CopyInto(network, loaded, weights, "conv_proj.weight", "vision transformer", safetensors: IsSafeTensors(weights), entry);
    }

    private static bool IsImageNet(string weights) => string.Equals(weights, "imagenet", StringComparison.OrdinalIgnoreCase);

    // The state dict of `path` (safetensors, or a torch.save file), DataParallel's "module." prefix removed when every key has it.
    private static SafeTensorDictionary Load(string path, string? entry)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--init-weights: '{path}' does not exist.", path);
        bool safetensors = IsSafeTensors(path);
        if (safetensors && entry is not null) throw new ArgumentException("--init-entry applies to torch.save checkpoints; a safetensors file holds one state dict.");
        var weights = safetensors ? SafeTensors.Load(path) : PyTorchFile.LoadStateDict(path, entry);
        if (weights.Count > 0 && weights.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal))) weights.RenameKeys(k => k["module.".Length..]);
        return weights;
    }

    /// <summary>
    /// Copies the tensors of <paramref name="weights"/> (read from <paramref name="path"/>) that fit the network into it;
    /// the others keep their initialisation and are listed. An RGB stem under <paramref name="stemKey"/> is adapted to
    /// the network's channels first. A file of which fewer than half the network's weights fit is refused.
    /// </summary>
    private static void CopyInto(Module network, SafeTensorDictionary weights, string path, string? stemKey, string kind, bool safetensors, string? entry)
    {
        var adapted = stemKey is null ? null : AdaptStem(network, weights, stemKey);
        var result = network.LoadStateDict(weights, strict: false);
        var own = network.StateDict();
        int total = own.Count;
        int copied = total - result.MissingKeys.Count - result.ShapeMismatches.Count;
        // Batch norm's step counters (int64 scalars) fit any ResNet, and a classifier's bias may fit by chance: the file
        // fits when most weights and statistics do.
        var skipped = result.MissingKeys.Concat(result.ShapeMismatches.Select(m => m[..m.IndexOf(':')])).ToHashSet(StringComparer.Ordinal);
        var floating = own.Where(kv => kv.Value.ScalarType.IsFloatingPoint()).Select(kv => kv.Key).ToList();
        int fitting = floating.Count(k => !skipped.Contains(k));
        if (2 * fitting < floating.Count)
            throw new ArgumentException($"--init-weights: only {fitting} of the model's {floating.Count} weight tensors have a counterpart of the same shape among the {weights.Count} tensors in '{path}' (first keys: {string.Join(", ", weights.Keys.Take(3))}); is it a state dict of this {kind}{(!safetensors && entry is null ? ", or does the checkpoint keep it under a key (--init-entry)" : "")}?");
        if (adapted is not null) AnsiConsole.MarkupLine(Markup.Escape(adapted));
        AnsiConsole.MarkupLine(Markup.Escape($"Initial weights from {path}: {copied} of {total} tensors copied") +
            (result.IsExactMatch ? "." : Markup.Escape($"; kept initialised: {string.Join("; ", result.ShapeMismatches.Concat(result.MissingKeys))}{(result.UnexpectedKeys.Count > 0 ? $"; not used: {result.UnexpectedKeys.Count} tensors" : "")}.")));
    }

    // An RGB stem ((out, 3, k…)) for a network of another channel count whose kernels are otherwise the same shape:
    // adapted in place (summed over R, G and B for grey images). Returns what was done, or null.
    private static string? AdaptStem(Module network, SafeTensorDictionary weights, string key)
    {
        if (!weights.TryGetValue(key, out var stem)) return null;
        var parameter = network.NamedParameters().FirstOrDefault(p => p.Name == key).Parameter;
        if (parameter is null) return null;
        var own = parameter.Shape;
        var theirs = stem.Shape;
        if (own[1] == 3 || theirs.Length != own.Length || theirs[1] != 3 || theirs[0] != own[0] || !theirs.Skip(2).SequenceEqual(own.Skip(2))) return null;
        weights.Replace(key, PretrainedWeights.AdaptInputChannels(stem, (int)own[1]));
        return $"{key}: {StemAdaptation(own[1])}";
    }

    private static string StemAdaptation(long channels) => channels == 1
        ? "the RGB kernels summed for the model's 1 input channel (timm's adapt_input_conv)"
        : $"the RGB kernels repeated over the model's {channels} input channels and scaled by 3/{channels} (timm's adapt_input_conv)";

    // A safetensors file starts with its header's length (8 bytes) and the header's '{'; torch.save files are zip
    // archives ('PK') or, in the legacy format, pickles (0x80).
    private static bool IsSafeTensors(string path)
    {
        Span<byte> head = stackalloc byte[9];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, 9, throwOnEndOfStream: false) == 9 && head[8] == (byte)'{';
    }
}
