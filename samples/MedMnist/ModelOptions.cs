using System.CommandLine;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Torch;

namespace MedVision.Samples.MedMnist;

/// <summary>The options shared by the commands that load a saved model (predict, evaluate).</summary>
internal static class ModelOptions
{
    /// <summary>--model FILE (required).</summary>
    public static Option<string> Model() => new("--model")
    {
        Description = "A model file written by the train command (model.safetensors), a TorchScript file with a model card, or an ONNX file written by the export command (model.onnx, run by ONNX Runtime on the CPU).",
        Required = true,
    };

    /// <summary>--model FILE, once or more (required): more than once, the models predict as an ensemble.</summary>
    public static Option<string[]> Models() => new("--model")
    {
        Description = "A model file written by the train command (model.safetensors), a TorchScript file with a model card, or an ONNX file written by the export command (model.onnx, run by ONNX Runtime on the CPU). Give --model more than once to predict with an ensemble: the models' probabilities averaged (e.g. runs of different seeds, or the folds of a cross-validation); or give an ensemble manifest (a .json file written by the ensemble command, cross-validate or EnsemblePredictor.SaveManifest) alone.",
        Required = true,
        Arity = ArgumentArity.OneOrMore,
    };

    /// <summary>--dataset NAME, checked against the catalogue while parsing (2-D and 3-D datasets, names matched ignoring case).</summary>
    public static Option<string?> Dataset(string description)
    {
        var names = MedMnistCatalog.All.Select(d => d.Name).ToList();
        return new Option<string?>("--dataset") { Description = description }
            .Must(v => v is null || MedMnistCatalog.TryGet(v, out _), $"a MedMNIST dataset ({string.Join(", ", names)})");
    }

    /// <summary>--data-file: an .npz read instead of the shipped copy or the cache.</summary>
    public static Option<string?> DataFile() => new("--data-file") { Description = "Read the dataset from this .npz file instead of the shipped copy or the cache; which dataset it holds comes from its name (pathmnist_64.npz) or from --dataset." };

    /// <summary>--model of the training commands: the ResNet trained.</summary>
    public static Option<string> Architecture() => new Option<string>("--model") { Description = "resnet18 or resnet50 (MedMNIST's baselines), vit-tiny or vit-small (a vision transformer of DeiT's size in 4×4 patches at 28×28, 16×16 at 224, from scratch: it needs more data, epochs and a lower rate than a ResNet, e.g. --optimizer adamw --lr 5e-4), or vit-b16 or vit-b32 (torchvision's ViT-B/16 and ViT-B/32, 86–88 M parameters, at --resolution 224; --init-weights imagenet starts them from torchvision's ImageNet weights).", DefaultValueFactory = _ => "resnet18" }.OneOf("resnet18", "resnet50", "vit-tiny", "vit-small", "vit-b16", "vit-b32");

    /// <summary>--resolution of the training commands.</summary>
    public static Option<int> Resolution() => new Option<int>("--resolution") { Description = "28: small-input stem on 28×28; 224: ImageNet stem on images upsampled to 224×224 with nearest neighbour. 2-D images only: 3-D volumes train at their own size (28³ or 64³) with the small-input stem.", DefaultValueFactory = _ => 28 }.OneOf(28, 224);

    /// <summary>--lr of the training commands.</summary>
    public static Option<double> LearningRate() => new Option<double>("--lr") { Description = "Learning rate (the peak with --schedule onecycle).", DefaultValueFactory = _ => 1e-3 }.Positive();

    /// <summary>--device of the training commands.</summary>
    public static Option<string> DeviceChoice() => new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();

    /// <summary>--threads of the training commands.</summary>
    public static Option<int> Threads() => SampleCommandLine.Threads();

    /// <summary>--mixed-precision: the network under bfloat16 autocast.</summary>
    public static Option<bool> MixedPrecision(string description) => new("--mixed-precision") { Description = description };

    /// <summary>--flips: test-time augmentation.</summary>
    public static Option<TestTimeFlips> Flips() => new Option<TestTimeFlips>("--flips")
    {
        Description = "Test-time augmentation: average over flipped copies (None, Horizontal, Vertical, or \"Horizontal, Vertical\").",
        DefaultValueFactory = _ => TestTimeFlips.None,
    }.Known();
}
