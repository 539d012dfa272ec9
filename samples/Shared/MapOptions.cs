using System.CommandLine;
using System.Globalization;
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
        Description = $"Draw the {mapOption} maps from a gradient attribution on the pixels instead of Grad-CAM: IntegratedGradients, SmoothGrad or Saliency (any libtorch model, TorchScript included), GuidedBackprop or DeepLift (not TorchScript), GuidedGradCam (ResNet model files), or GradientShap and DeepLiftShap (not TorchScript for DeepLiftShap) against the --references images.",
        HelpName = "METHOD",
    }.Must(Enum.IsDefined, "IntegratedGradients, SmoothGrad, Saliency, GuidedBackprop, GuidedGradCam, DeepLift, GradientShap or DeepLiftShap");

    /// <summary>
    /// <c>--references PATH</c>, given once per path: the reference images of <c>--attribution GradientShap</c> and
    /// <c>DeepLiftShap</c>, read as the command's inputs are; <paramref name="what"/> says what a path may be.
    /// </summary>
    public static Option<string[]> References(string what) => new("--references")
    {
        Description = $"The reference images --attribution GradientShap and DeepLiftShap explain against (typically a few dozen training images; DeepLiftShap runs the network twice per reference): {what}. Give --references once per path.",
        HelpName = "PATH",
        Arity = ArgumentArity.OneOrMore,
    };

    /// <summary>
    /// Refuses <c>--attribution</c> without the map option it chooses for, a SHAP method without
    /// <c>--references</c>, and <c>--references</c> without a SHAP method.
    /// </summary>
    public static void RequireMaps(Command command, Option<AttributionMethod> attribution, Option<string?> maps, Option<string[]>? references = null)
    {
        command.Check(r => r.GetResult(attribution) is not null && r.GetValue(maps) is null ? $"--attribution chooses the map for {maps.Name}; give {maps.Name} FOLDER too." : null);
        command.Check(r =>
        {
            bool shap = Chosen(r, attribution) is AttributionMethod.GradientShap or AttributionMethod.DeepLiftShap;
            bool given = references is not null && r.GetResult(references) is not null;
            return shap && !given ? $"--attribution {Chosen(r, attribution)} explains against reference images{(references is null ? ", which this command does not take" : ": give --references PATH (e.g. a few dozen training images)")}."
                : !shap && given ? "--references gives the reference images of --attribution GradientShap or DeepLiftShap; give one of them, or leave --references out."
                : null;
        });
    }

    /// <summary>The method given, or null when <c>--attribution</c> was not.</summary>
    public static AttributionMethod? Chosen(ParseResult result, Option<AttributionMethod> attribution)
        => result.GetResult(attribution) is null ? null : result.GetValue(attribution);

    /// <summary>
    /// The <c>--references</c> paths (null when not given), with folders expanded to their JPEG and PNG files, sorted by
    /// name, when <paramref name="imageFolders"/> (a 2-D model's references are image files; a 3-D model's folders are
    /// DICOM series or subject folders, read whole). A path that does not exist, or a folder with no images, is refused by name.
    /// </summary>
    public static string[]? ReferenceFiles(ParseResult result, Option<string[]> references, bool imageFolders)
    {
        if (result.GetResult(references) is null) return null;
        var files = new List<string>();
        foreach (var path in result.GetValue(references)!)
        {
            if (imageFolders && Directory.Exists(path))
            {
                var found = SampleCommandLine.ImageFilesIn(path);
                if (found.Count == 0) throw new ArgumentException($"--references {path}: the folder holds no JPEG or PNG images.");
                files.AddRange(found);
            }
            else if (File.Exists(path) || Directory.Exists(path)) files.Add(path);
            else throw new ArgumentException($"--references {path}: no such file or folder.");
        }
        return files.ToArray();
    }

    /// <summary>
    /// The line that reports how far the attributions miss the logit changes they share out (the largest
    /// <see cref="Explanation.ConvergenceDelta"/> relative to its <see cref="Explanation.ScoreChange"/>), for the methods
    /// that add up; null for the others, and when nothing was explained.
    /// </summary>
    public static string? ConvergenceLine(IReadOnlyList<(string Input, Explanation Explanation)> explained)
    {
        var reported = explained.Where(e => e.Explanation.ConvergenceDelta is not null).ToList();
        if (reported.Count == 0) return null;
        var worst = reported.MaxBy(e => Math.Abs(e.Explanation.ConvergenceDelta!.Value) / Math.Max(Math.Abs(e.Explanation.ScoreChange!.Value), 1e-12));
        var (delta, change) = (worst.Explanation.ConvergenceDelta!.Value, worst.Explanation.ScoreChange!.Value);
        return string.Create(CultureInfo.InvariantCulture,
            $"Convergence delta (the attributions' sum minus the logit change they share out), largest relative to its change: {delta:G3} of {change:G4} ({Path.GetFileName(Path.TrimEndingDirectorySeparator(worst.Input))}; {reported.Count} input(s)).");
    }
}

/// <summary>The map a sample draws: a class-activation map, or a gradient attribution when <c>--attribution</c> is given.</summary>
/// <param name="Cam">The class-activation method, used when no attribution is chosen; null: the model's own (attention rollout for a vision transformer, Grad-CAM otherwise).</param>
/// <param name="Attribution">The attribution, or null.</param>
/// <param name="ReferenceFiles">The SHAP methods' reference files (<c>--references</c>), or null.</param>
internal sealed record MapMethod(CamMethod? Cam, AttributionMethod? Attribution, IReadOnlyList<string>? ReferenceFiles = null)
{
    /// <summary>The class-activation method for <paramref name="predictor"/>: the one asked for, else the model's own.</summary>
    public CamMethod CamFor(Predictor predictor) => Cam ?? OwnCam(predictor);

    /// <summary>The model's own class-activation method: attention rollout for a vision transformer, Grad-CAM otherwise.</summary>
    public static CamMethod OwnCam(Predictor predictor) => predictor.CanExplainWith(CamMethod.AttentionRollout) ? CamMethod.AttentionRollout : CamMethod.GradCam;

    /// <summary>This method with the class-activation method chosen for <paramref name="predictor"/> (an ensemble's first member), so that its name and tag say which.</summary>
    public MapMethod For(Predictor predictor) => Attribution is null && Cam is null ? this with { Cam = CamFor(predictor) } : this;

    // The SHAP methods read the reference files as the inputs are read; the other methods take the defaults.
    private AttributionOptions? Options => ReferenceFiles is null ? null : AttributionOptions.Default with { ReferenceFiles = ReferenceFiles };

    /// <summary>The method's name for messages.</summary>
    public string Name => Attribution?.ToString() ?? (Cam ?? CamMethod.GradCam).ToString();

    /// <summary>The file-name tag: the attribution in lower case, "rollout" for attention rollout, "gradrollout" for the gradient-weighted one, else <paramref name="camTag"/> (the sample's own, e.g. "gradcam").</summary>
    public string Tag(string camTag) => Attribution?.ToString().ToLowerInvariant() ?? Cam switch
    {
        CamMethod.AttentionRollout => "rollout",
        CamMethod.GradientAttentionRollout => "gradrollout",
        _ => camTag,
    };

    /// <summary>Whether <paramref name="method"/> maps a vision transformer's attention (not a ResNet's feature map).</summary>
    public static bool MapsAttention(CamMethod? method) => method is CamMethod.AttentionRollout or CamMethod.GradientAttentionRollout;

    /// <summary>Whether the model can draw this map (a ResNet for Grad-CAM, a vision transformer for attention rollout, any libtorch network for attributions but the guided ones and DeepLIFT; see <see cref="Predictor.CanExplainWith"/> and <see cref="Predictor.CanAttributeWith"/>).</summary>
    public bool Supports(Predictor predictor) => Attribution is { } a ? predictor.CanAttributeWith(a) : predictor.CanExplainWith(CamFor(predictor));

    /// <summary>Why a guided attribution or DeepLIFT cannot explain a model that gives gradients, for messages; null when it can or when the model gives none.</summary>
    public string? GuidedRefusal(Predictor predictor) =>
        Attribution is { } a && predictor.CanAttribute && !predictor.CanAttributeWith(a)
            ? a == AttributionMethod.GuidedGradCam
                ? $"--attribution GuidedGradCam needs a ResNet model file (Grad-CAM is taken on its last stage); this one holds a {predictor.Card.Architecture} model: use IntegratedGradients, SmoothGrad, Saliency, GuidedBackprop or DeepLift"
                : $"--attribution {a} changes the backward pass of the ReLUs this library runs, and a {predictor.Card.Architecture} model runs its own: use IntegratedGradients, SmoothGrad, Saliency or GradientShap"
            : null;

    /// <summary>What the model would need, for messages: "layers" or "gradients".</summary>
    public string Needs => Attribution is null ? "layers" : "gradients";

    /// <summary>Explains one file with one model.</summary>
    public Explanation Explain(Predictor predictor, string file, int? targetClass = null)
        => Attribution is { } a ? predictor.ExplainFile(file, a, targetClass, Options) : predictor.ExplainFile(file, CamFor(predictor), targetClass);

    /// <summary>Explains one file with an ensemble (the members' maps averaged).</summary>
    public Explanation Explain(EnsemblePredictor ensemble, string file, int? targetClass = null)
        => Attribution is { } a ? ensemble.ExplainFile(file, a, targetClass, Options) : ensemble.ExplainFile(file, CamFor(ensemble.Members[0]), targetClass);
}
