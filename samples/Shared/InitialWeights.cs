using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>
/// --init-weights / --init-entry of the training samples: start a ResNet from torchvision's ImageNet weights
/// ('imagenet') or from a state dict file (safetensors or torch.save), copying what fits and listing the rest.
/// </summary>
internal static class InitialWeights
{
    public static Option<string?> WeightsOption(string whichModel, string hint) => new("--init-weights")
    {
        Description = $"Start from these weights instead of a random initialisation: 'imagenet' for torchvision's ImageNet weights of {whichModel} (downloaded once into $MEDVISION_DATA/weights or ~/.medvision/weights, SHA-256-checked; {hint}), or a state dict file, .safetensors or torch.save .pth/.pt. Tensors whose shapes differ from the model's (the classifier, a small-input stem) keep their random initialisation and are listed.",
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
        if (string.Equals(weights, "imagenet", StringComparison.OrdinalIgnoreCase))
        {
            var pretrained = PretrainedWeights.Default(depth);
            AnsiConsole.MarkupLine(Markup.Escape($"torchvision's {pretrained.Name} ({pretrained.Dataset} top-1 {pretrained.Top1Accuracy.ToString(CultureInfo.InvariantCulture)}%): {pretrained.Source}"));
            path = pretrained.DownloadAsync().GetAwaiter().GetResult();
        }
        InitialiseFrom(network, path, entry);
    }

    /// <summary>
    /// Copies the tensors of <paramref name="path"/> (safetensors, or a torch.save file) that fit the network into it;
    /// the others keep their initialisation and are listed. DataParallel's "module." prefix is removed when every key has it.
    /// </summary>
    private static void InitialiseFrom(ResNet network, string path, string? entry)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--init-weights: '{path}' does not exist.", path);
        bool safetensors = IsSafeTensors(path);
        if (safetensors && entry is not null) throw new ArgumentException("--init-entry applies to torch.save checkpoints; a safetensors file holds one state dict.");
        using var weights = safetensors ? SafeTensors.Load(path) : PyTorchFile.LoadStateDict(path, entry);
        if (weights.Count > 0 && weights.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal))) weights.RenameKeys(k => k["module.".Length..]);
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
            throw new ArgumentException($"--init-weights: only {fitting} of the model's {floating.Count} weight tensors have a counterpart of the same shape among the {weights.Count} tensors in '{path}' (first keys: {string.Join(", ", weights.Keys.Take(3))}); is it a state dict of this ResNet{(!safetensors && entry is null ? ", or does the checkpoint keep it under a key (--init-entry)" : "")}?");
        AnsiConsole.MarkupLine(Markup.Escape($"Initial weights from {path}: {copied} of {total} tensors copied") +
            (result.IsExactMatch ? "." : Markup.Escape($"; kept initialised: {string.Join("; ", result.ShapeMismatches.Concat(result.MissingKeys))}{(result.UnexpectedKeys.Count > 0 ? $"; not used: {result.UnexpectedKeys.Count} tensors" : "")}.")));
    }

    // A safetensors file starts with its header's length (8 bytes) and the header's '{'; torch.save files are zip
    // archives ('PK') or, in the legacy format, pickles (0x80).
    private static bool IsSafeTensors(string path)
    {
        Span<byte> head = stackalloc byte[9];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, 9, throwOnEndOfStream: false) == 9 && head[8] == (byte)'{';
    }
}
