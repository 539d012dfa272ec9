using System.CommandLine;
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

    /// <summary>--flips: test-time augmentation.</summary>
    public static Option<TestTimeFlips> Flips() => new Option<TestTimeFlips>("--flips")
    {
        Description = "Test-time augmentation: average over flipped copies (None, Horizontal, Vertical, or \"Horizontal, Vertical\").",
        DefaultValueFactory = _ => TestTimeFlips.None,
    }.Known();
}
