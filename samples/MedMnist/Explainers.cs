using System.CommandLine;
using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Samples.MedMnist;

/// <summary>One explanation method the faithfulness and sanity-check commands compare.</summary>
/// <param name="Id">Its <c>--methods</c> name.</param>
/// <param name="Name">Its name in tables and CSV headers.</param>
/// <param name="Short">Its column heading in narrow tables.</param>
/// <param name="Explain">Maps (N, 1, H, W) of a preprocessed batch for the given classes.</param>
internal sealed record Explainer(string Id, string Name, string Short, Func<Tensor, IReadOnlyList<long>, ClassActivationMaps> Explain)
{
    /// <summary>The name in machine-readable lines: no spaces.</summary>
    public string LineName => Name.Replace(' ', '-');
}

/// <summary>
/// The maps of a 2-D ResNet the commands compare: Grad-CAM and Grad-CAM++ on the last stage; integrated gradients (50
/// Gauss–Legendre points from zeros), GradientSHAP as expected gradients (50 draws from training images), SmoothGrad (25
/// copies, 15 % noise) and saliency, each as Captum visualises them (absolute, top 2 % saturated); occlusion sensitivity.
/// </summary>
internal static class Explainers
{
    /// <summary>Every method's <c>--methods</c> name, in the tables' order.</summary>
    public static readonly string[] Ids = ["grad-cam", "grad-cam++", "integrated-gradients", "gradient-shap", "smoothgrad", "saliency", "occlusion"];

    /// <summary>Training images GradientSHAP draws its baselines from.</summary>
    public const int ShapBaselines = 64;

    /// <summary>The first <see cref="ShapBaselines"/> training images, preprocessed as the predictor prepares its input.</summary>
    public static Tensor Baselines(MedVision.Nets.Inference.Predictor predictor, MedVision.Nets.Data.MedMnist.MedMnistSplitData train)
    {
        int height = train.SampleShape[0], width = train.SampleShape[1], channels = train.SampleShape.Count == 3 ? 3 : 1;
        var images = Enumerable.Range(0, Math.Min(ShapBaselines, train.Count))
            .Select(i => MedVision.Nets.Transforms.FloatImage.FromBytesHwc(train.GetImage(i).ToArray(), height, width, channels)).ToArray();
        return predictor.Preprocess(images);
    }

    /// <summary>The <c>--methods</c> option: a comma-separated subset of <see cref="Ids"/>, or all.</summary>
    public static Option<string> Option(string reference) => new Option<string>("--methods")
    {
        Description = $"Comma-separated methods to compare, of {string.Join(", ", Ids)} (default all); {reference} is always shown.",
        DefaultValueFactory = _ => "all",
        HelpName = "LIST",
    }.Must(v => Parse(v) is not null, $"all or a comma-separated list of {string.Join(", ", Ids)}");

    /// <summary>The chosen ids in <see cref="Ids"/>' order, or null when a name is unknown or none is given.</summary>
    public static string[]? Parse(string? value)
    {
        if (value is null) return null;
        if (value.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) return Ids;
        var names = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.ToLowerInvariant()).ToArray();
        return names.Length == 0 || names.Any(n => !Ids.Contains(n)) ? null : Ids.Where(names.Contains).ToArray();
    }

    /// <summary>The chosen methods for <paramref name="resnet"/> (in evaluation mode).</summary>
    /// <param name="resnet">The model explained.</param>
    /// <param name="ids">The chosen ids (see <see cref="Parse"/>).</param>
    /// <param name="baselines">Preprocessed training images for GradientSHAP; kept alive by the caller while the methods are used.</param>
    /// <param name="occlusionPatch">The occlusion patch's side.</param>
    public static IReadOnlyList<Explainer> Create(ResNet resnet, IReadOnlyList<string> ids, Tensor baselines, int occlusionPatch)
    {
        var gradCam = GradCam.ForResNet(resnet);
        var gradCamPlusPlus = GradCam.ForResNet(resnet, CamMethod.GradCamPlusPlus);
        var integrated = new IntegratedGradients(resnet);
        var shap = new GradientShap(resnet, samples: 50);
        var smooth = new SmoothGrad(resnet);
        var saliency = new Saliency(resnet);
        var occlusion = new OcclusionSensitivity(resnet, [occlusionPatch, occlusionPatch]);
        var all = new Explainer[]
        {
            new("grad-cam", "Grad-CAM", "CAM", (x, t) => gradCam.Compute(x, t)),
            new("grad-cam++", "Grad-CAM++", "CAM++", (x, t) => gradCamPlusPlus.Compute(x, t)),
            new("integrated-gradients", "integrated gradients", "IG", (x, t) => Maps(integrated.Compute(x, t))),
            new("gradient-shap", "GradientSHAP", "SHAP", (x, t) => Maps(shap.Compute(x, baselines, t))),
            new("smoothgrad", "SmoothGrad", "SG", (x, t) => Maps(smooth.Compute(x, t))),
            new("saliency", "saliency", "sal.", (x, t) => Maps(saliency.Compute(x, t))),
            new("occlusion", "occlusion", "occl.", (x, t) => occlusion.Compute(x, t)),
        };
        return all.Where(e => ids.Contains(e.Id)).ToArray();
    }

    private static ClassActivationMaps Maps(Attributions attributions)
    {
        using (attributions) return attributions.ToMaps();
    }
}
