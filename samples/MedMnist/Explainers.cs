using System.CommandLine;
using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

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
/// Gauss–Legendre points from zeros), GradientSHAP as expected gradients (50 draws from training images), DeepLIFT
/// (rescale rule, from zeros) and DeepLIFT SHAP (against each of the first 16 of those training images), SmoothGrad (25
/// copies, 15 % noise), saliency, guided backpropagation and guided Grad-CAM (on the last stage, nearest upsampling),
/// each as Captum visualises them (absolute, top 2 % saturated); occlusion sensitivity. For a vision transformer:
/// attention rollout (heads averaged), gradient-weighted attention rollout (Chefer et al.) and the methods that need no
/// ReLUs or convolutional stages — integrated gradients,
/// GradientSHAP, SmoothGrad, saliency, occlusion.
/// </summary>
internal static class Explainers
{
    /// <summary>Every method's <c>--methods</c> name, in the tables' order.</summary>
    public static readonly string[] Ids = ["grad-cam", "grad-cam++", "attention-rollout", "gradient-rollout", "integrated-gradients", "gradient-shap", "deeplift", "deeplift-shap", "smoothgrad", "saliency", "guided-backprop", "guided-grad-cam", "occlusion"];

    /// <summary>The methods that apply to each kind of model: Grad-CAM's family and the ReLU rules need a ResNet, the attention rollouts a vision transformer.</summary>
    public static bool AppliesTo(string id, Module<Tensor, Tensor> model) => model is VisionTransformer
        ? id is "attention-rollout" or "gradient-rollout" or "integrated-gradients" or "gradient-shap" or "smoothgrad" or "saliency" or "occlusion"
        : id is not ("attention-rollout" or "gradient-rollout");

    /// <summary>Training images GradientSHAP draws its baselines from.</summary>
    public const int ShapBaselines = 64;

    /// <summary>
    /// The first of those DeepLIFT SHAP uses, every one for every image: a pass of 2 × 16 rows per image, where GradientSHAP's
    /// 50 draws take 50.
    /// </summary>
    public const int DeepLiftShapReferences = 16;

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

    /// <summary>Whether <c>--methods</c> asks for every method (<c>all</c>): then those that do not apply to the model are left out rather than refused.</summary>
    public static bool IsAll(string? value) => value is not null && value.Trim().Equals("all", StringComparison.OrdinalIgnoreCase);

    /// <summary>The chosen ids in <see cref="Ids"/>' order, or null when a name is unknown or none is given.</summary>
    public static string[]? Parse(string? value)
    {
        if (value is null) return null;
        if (IsAll(value)) return Ids;
        var names = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.ToLowerInvariant()).ToArray();
        return names.Length == 0 || names.Any(n => !Ids.Contains(n)) ? null : Ids.Where(names.Contains).ToArray();
    }

    /// <summary>
    /// The chosen methods that apply to <paramref name="model"/> (in evaluation mode; see <see cref="AppliesTo"/>). With
    /// <paramref name="allMethods"/> the others are left out; named, they are refused.
    /// </summary>
    /// <param name="model">The model explained: a ResNet or a vision transformer.</param>
    /// <param name="ids">The chosen ids (see <see cref="Parse"/>).</param>
    /// <param name="allMethods">Whether every method was asked for (--methods all).</param>
    /// <param name="baselines">Preprocessed training images for GradientSHAP and DeepLIFT SHAP; kept alive by the caller while the methods are used.</param>
    /// <param name="occlusionPatch">The occlusion patch's side.</param>
    /// <param name="score">The model's output probability (<see cref="FaithfulnessScore"/>): occlusion maps its drop. For a
    /// CORAL head (<see cref="FaithfulnessScore.CoralGrade"/>) the targets are grades: occlusion follows the grade's
    /// probability, and the gradient methods map the one severity score every grade's probability moves with (logit 0,
    /// as the predictor's explanations).</param>
    /// <exception cref="ArgumentException">A method named that does not apply to the model.</exception>
    public static IReadOnlyList<Explainer> Create(Module<Tensor, Tensor> model, IReadOnlyList<string> ids, bool allMethods, Tensor baselines, int occlusionPatch, FaithfulnessScore score = FaithfulnessScore.Softmax)
    {
        if (!allMethods && ids.FirstOrDefault(id => !AppliesTo(id, model)) is { } refused)
            throw new ArgumentException(model is VisionTransformer
                ? $"--methods {refused} needs a ResNet; a vision transformer is compared with attention-rollout, gradient-rollout, integrated-gradients, gradient-shap, smoothgrad, saliency and occlusion."
                : $"--methods {refused} maps a vision transformer's attention; this model is a ResNet.");
        ids = ids.Where(id => AppliesTo(id, model)).ToArray();
        if (model is VisionTransformer vit) return ForVisionTransformer(vit, ids, baselines, occlusionPatch, score);
        var resnet = (ResNet)model;
        var gradCam = GradCam.ForResNet(resnet);
        var gradCamPlusPlus = GradCam.ForResNet(resnet, CamMethod.GradCamPlusPlus);
        var integrated = new IntegratedGradients(resnet);
        var shap = new GradientShap(resnet, samples: 50);
        var deepLift = new DeepLift(resnet);
        var deepLiftShap = new DeepLiftShap(resnet);
        var references = baselines.Narrow(0, 0, Math.Min(DeepLiftShapReferences, baselines.Size(0)));
        var smooth = new SmoothGrad(resnet);
        var saliency = new Saliency(resnet);
        var guided = new GuidedBackprop(resnet);
        var guidedGradCam = GuidedGradCam.ForResNet(resnet);
        var occlusion = new OcclusionSensitivity(resnet, [occlusionPatch, occlusionPatch]) { Score = score };
        var all = new Explainer[]
        {
            new("grad-cam", "Grad-CAM", "CAM", (x, t) => gradCam.Compute(x, t)),
            new("grad-cam++", "Grad-CAM++", "CAM++", (x, t) => gradCamPlusPlus.Compute(x, t)),
            new("integrated-gradients", "integrated gradients", "IG", (x, t) => Maps(integrated.Compute(x, t))),
            new("gradient-shap", "GradientSHAP", "SHAP", (x, t) => Maps(shap.Compute(x, baselines, t))),
            new("deeplift", "DeepLIFT", "DL", (x, t) => Maps(deepLift.Compute(x, t))),
            new("deeplift-shap", "DeepLIFT SHAP", "DLS", (x, t) => Maps(deepLiftShap.Compute(x, references, t))),
            new("smoothgrad", "SmoothGrad", "SG", (x, t) => Maps(smooth.Compute(x, t))),
            new("saliency", "saliency", "sal.", (x, t) => Maps(saliency.Compute(x, t))),
            new("guided-backprop", "guided backprop", "GBP", (x, t) => Maps(guided.Compute(x, t))),
            new("guided-grad-cam", "guided Grad-CAM", "GGC", (x, t) => Maps(guidedGradCam.Compute(x, t))),
            new("occlusion", "occlusion", "occl.", (x, t) => occlusion.Compute(x, t)),
        };
        return Chosen(all, ids, score);
    }

    // The chosen methods; for a CORAL head the gradient methods explain logit 0 whatever grade is asked for.
    private static Explainer[] Chosen(Explainer[] all, IReadOnlyList<string> ids, FaithfulnessScore score) =>
        all.Where(e => ids.Contains(e.Id))
            .Select(e => score != FaithfulnessScore.CoralGrade || e.Id == "occlusion" ? e : e with { Explain = (x, t) => e.Explain(x, new long[t.Count]) })
            .ToArray();

    private static IReadOnlyList<Explainer> ForVisionTransformer(VisionTransformer vit, IReadOnlyList<string> ids, Tensor baselines, int occlusionPatch, FaithfulnessScore score)
    {
        var rollout = new AttentionRollout(vit);
        var gradientRollout = new GradientAttentionRollout(vit);
        var integrated = new IntegratedGradients(vit);
        var shap = new GradientShap(vit, samples: 50);
        var smooth = new SmoothGrad(vit);
        var saliency = new Saliency(vit);
        var occlusion = new OcclusionSensitivity(vit, [occlusionPatch, occlusionPatch]) { Score = score };
        var all = new Explainer[]
        {
            new("attention-rollout", "attention rollout", "roll.", (x, t) => rollout.Compute(x, t)),
            new("gradient-rollout", "gradient rollout", "g-roll.", (x, t) => gradientRollout.Compute(x, t)),
            new("integrated-gradients", "integrated gradients", "IG", (x, t) => Maps(integrated.Compute(x, t))),
            new("gradient-shap", "GradientSHAP", "SHAP", (x, t) => Maps(shap.Compute(x, baselines, t))),
            new("smoothgrad", "SmoothGrad", "SG", (x, t) => Maps(smooth.Compute(x, t))),
            new("saliency", "saliency", "sal.", (x, t) => Maps(saliency.Compute(x, t))),
            new("occlusion", "occlusion", "occl.", (x, t) => occlusion.Compute(x, t)),
        };
        return Chosen(all, ids, score);
    }

    private static ClassActivationMaps Maps(Attributions attributions)
    {
        using (attributions) return attributions.ToMaps();
    }
}

/// <summary>
/// A 2-D ResNet model file with the dataset whose test images it explains, as the faithfulness and sanity-check
/// commands load them: the predictor (for its preprocessing) and the network itself (for its layers), in evaluation mode.
/// </summary>
internal sealed class ExplainedModel : IDisposable
{
    private ExplainedModel(MedVision.Nets.Data.MedMnist.MedMnistDataset data, MedVision.Nets.Inference.Predictor predictor, Module<Tensor, Tensor> model, MedVision.Nets.Inference.ModelCard card)
        => (Data, Predictor, Model, Card) = (data, predictor, model, card);

    /// <summary>The dataset.</summary>
    public MedVision.Nets.Data.MedMnist.MedMnistDataset Data { get; }

    /// <summary>The model file's predictor.</summary>
    public MedVision.Nets.Inference.Predictor Predictor { get; }

    /// <summary>The network, in evaluation mode: a ResNet, or a vision transformer where the command allows one.</summary>
    public Module<Tensor, Tensor> Model { get; }

    /// <summary>The model file's card.</summary>
    public MedVision.Nets.Inference.ModelCard Card { get; }

    /// <summary>Loads both, refusing 3-D datasets, models other than 2-D ResNets (and vision transformers, when allowed), and class counts that differ.</summary>
    /// <param name="modelPath">The model file.</param>
    /// <param name="datasetName">The MedMNIST dataset (null: RetinaMNIST, shipped).</param>
    /// <param name="dataFile">An .npz file to read it from, or null.</param>
    /// <param name="what">What the command does with the maps, for messages ("scores", "checks").</param>
    /// <param name="allowVisionTransformer">Whether a 2-D vision transformer is explained too.</param>
    public static ExplainedModel Load(string modelPath, string? datasetName, string? dataFile, string what, bool allowVisionTransformer = false)
    {
        var data = TrainCommand.LoadDataset(datasetName, dataFile);
        if (data.Test.SampleShape.Count == 3 && data.Test.SampleShape[2] is not (1 or 3))
            throw new ArgumentException($"{data.Info!.Name} holds 3-D volumes; this command {what} maps of 2-D images.");
        var predictor = MedVision.Nets.Inference.Predictor.Load(modelPath);
        var (network, card) = MedVision.Nets.Inference.ModelFile.Load(modelPath);
        try
        {
            if (network is not (ResNet or VisionTransformer) || (network is VisionTransformer && !allowVisionTransformer) || card.Preprocessing.InputSize.Count != 2)
                throw new ArgumentException($"{Path.GetFileName(modelPath)} holds a {card.Architecture} model of {card.Preprocessing.InputSize.Count}-D inputs; this command needs a 2-D ResNet{(allowVisionTransformer ? " or vision-transformer" : "")} model file (Grad-CAM needs its layers).");
            if (card.ClassNames.Count != data.Info!.ClassCount)
                throw new ArgumentException($"The model has {card.ClassNames.Count} classes but {data.Info.Name} has {data.Info.ClassCount}.");
            var model = (Module<Tensor, Tensor>)network;
            model.Eval();
            return new ExplainedModel(data, predictor, model, card);
        }
        catch
        {
            network.Dispose();
            predictor.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The probability the model's output is read as: each label's sigmoid for a multi-label dataset (labels that are
    /// not exclusive), the grades' probabilities of a CORAL head's cumulative logits, else the softmax.
    /// </summary>
    public FaithfulnessScore Score => Data.Info!.Task == MedVision.Nets.Metrics.MedMnistTask.MultiLabel ? FaithfulnessScore.Sigmoid
        : Card.HasCoralHead ? FaithfulnessScore.CoralGrade : FaithfulnessScore.Softmax;

    /// <summary>
    /// The class each sample of a preprocessed batch is explained for: the most probable one, a CORAL head's median
    /// grade (its prediction).
    /// </summary>
    public long[] PredictedClasses(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var logits = Model.Call(input);
        var classes = Score == FaithfulnessScore.CoralGrade ? MedVision.Nets.Losses.OrdinalDecoding.ToGrades(logits) : logits.ArgMax(1);
        return classes.To(ScalarType.Int64, Device.Cpu).ToArray<long>();
    }

    /// <summary>Test image <paramref name="index"/> as a [0, 1] image.</summary>
    public MedVision.Nets.Transforms.FloatImage TestImage(int index)
    {
        var test = Data.Test;
        int height = test.SampleShape[0], width = test.SampleShape[1], channels = test.SampleShape.Count == 3 ? 3 : 1;
        return MedVision.Nets.Transforms.FloatImage.FromBytesHwc(test.GetImage(index).ToArray(), height, width, channels);
    }

    /// <summary>Frees the network and the predictor.</summary>
    public void Dispose()
    {
        Model.Dispose();
        Predictor.Dispose();
    }
}
