using System.CommandLine;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;

namespace MedVision.Samples.MedMnist;

/// <summary>The options shared by the commands that load a saved model (predict, evaluate).</summary>
internal static class ModelOptions
{
    /// <summary>--model FILE (required).</summary>
    public static Option<string> Model() => new("--model")
    {
        Description = "A model file written by the train command (model.safetensors), or a TorchScript file with a model card.",
        Required = true,
    };

    /// <summary>--dataset NAME, checked against the catalogue while parsing (only 2-D datasets when <paramref name="twoDimensional"/>).</summary>
    public static Option<string?> Dataset(string description, bool twoDimensional)
    {
        var names = MedMnistCatalog.All.Where(d => !twoDimensional || !d.Is3D).Select(d => d.Name).ToList();
        return new Option<string?>("--dataset") { Description = description }
            .Must(v => v is null || (MedMnistCatalog.TryGet(v, out var info) && (!twoDimensional || !info.Is3D)),
                $"{(twoDimensional ? "a 2-D" : "a")} MedMNIST dataset ({string.Join(", ", names)})");
    }

    /// <summary>--mixed-precision: the network under bfloat16 autocast.</summary>
    public static Option<bool> MixedPrecision(string description) => new("--mixed-precision") { Description = description };

    /// <summary>--flips: test-time augmentation.</summary>
    public static Option<TestTimeFlips> Flips() => new Option<TestTimeFlips>("--flips")
    {
        Description = "Test-time augmentation: average over flipped copies (None, Horizontal, Vertical, or \"Horizontal, Vertical\").",
        DefaultValueFactory = _ => TestTimeFlips.None,
    }.Known();
}
