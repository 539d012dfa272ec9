using System.CommandLine;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;

namespace MedVision.Samples;

/// <summary>
/// <c>--attribution METHOD</c> beside a sample's map option (<c>--heatmaps</c>, <c>--explain</c>): the maps drawn from a
/// gradient attribution on the pixels instead of a class-activation map, which also explains models whose layers the
/// predictor does not know (TorchScript).
/// </summary>
internal static class MapOptions
{
    /// <summary>The option; <paramref name="mapOption"/> names the option whose maps it chooses.</summary>
    public static Option<AttributionMethod> Attribution(string mapOption) => new Option<AttributionMethod>("--attribution")
    {
        Description = $"Draw the {mapOption} maps from a gradient attribution on the pixels instead of Grad-CAM: IntegratedGradients, SmoothGrad or Saliency (any libtorch model, TorchScript included), GuidedBackprop or DeepLift (not TorchScript) or GuidedGradCam (ResNet model files).",
        HelpName = "METHOD",
    }.Must(v => Enum.IsDefined(v) && v is not (AttributionMethod.GradientShap or AttributionMethod.DeepLiftShap),
        "IntegratedGradients, SmoothGrad, Saliency, GuidedBackprop, GuidedGradCam or DeepLift (GradientShap and DeepLiftShap explain against reference images, which this command does not take)");

    /// <summary>Refuses <c>--attribution</c> without the map option it chooses for.</summary>
    public static void RequireMaps(Command command, Option<AttributionMethod> attribution, Option<string?> maps)
        => command.Check(r => r.GetResult(attribution) is not null && r.GetValue(maps) is null ? $"--attribution chooses the map for {maps.Name}; give {maps.Name} FOLDER too." : null);

    /// <summary>The method given, or null when <c>--attribution</c> was not.</summary>
    public static AttributionMethod? Chosen(ParseResult result, Option<AttributionMethod> attribution)
        => result.GetResult(attribution) is null ? null : result.GetValue(attribution);
}

/// <summary>The map a sample draws: a class-activation map, or a gradient attribution when <c>--attribution</c> is given.</summary>
/// <param name="Cam">The class-activation method, used when no attribution is chosen.</param>
/// <param name="Attribution">The attribution, or null.</param>
internal sealed record MapMethod(CamMethod Cam, AttributionMethod? Attribution)
{
    /// <summary>The method's name for messages.</summary>
    public string Name => Attribution?.ToString() ?? Cam.ToString();

    /// <summary>The file-name tag: the attribution in lower case, else <paramref name="camTag"/> (the sample's own, e.g. "gradcam").</summary>
    public string Tag(string camTag) => Attribution?.ToString().ToLowerInvariant() ?? camTag;

    /// <summary>Whether the model can draw this map (a ResNet for class-activation maps, any libtorch network for attributions but the guided ones and DeepLIFT; see <see cref="Predictor.CanAttributeWith"/>).</summary>
    public bool Supports(Predictor predictor) => Attribution is { } a ? predictor.CanAttributeWith(a) : predictor.CanExplain;

    /// <summary>Why a guided attribution or DeepLIFT cannot explain a model that gives gradients, for messages; null when it can or when the model gives none.</summary>
    public string? GuidedRefusal(Predictor predictor) =>
        Attribution is { } a && predictor.CanAttribute && !predictor.CanAttributeWith(a)
            ? a == AttributionMethod.GuidedGradCam
                ? $"--attribution GuidedGradCam needs a ResNet model file (Grad-CAM is taken on its last stage); this one holds a {predictor.Card.Architecture} model: use IntegratedGradients, SmoothGrad, Saliency, GuidedBackprop or DeepLift"
                : $"--attribution {a} changes the backward pass of the ReLUs this library runs, and a {predictor.Card.Architecture} model runs its own: use IntegratedGradients, SmoothGrad or Saliency"
            : null;

    /// <summary>What the model would need, for messages: "layers" or "gradients".</summary>
    public string Needs => Attribution is null ? "layers" : "gradients";

    /// <summary>Explains one file with one model.</summary>
    public Explanation Explain(Predictor predictor, string file, int? targetClass = null)
        => Attribution is { } a ? predictor.ExplainFile(file, a, targetClass) : predictor.ExplainFile(file, Cam, targetClass);

    /// <summary>Explains one file with an ensemble (the members' maps averaged).</summary>
    public Explanation Explain(EnsemblePredictor ensemble, string file, int? targetClass = null)
        => Attribution is { } a ? ensemble.ExplainFile(file, a, targetClass) : ensemble.ExplainFile(file, Cam, targetClass);
}
