using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Samples;

/// <summary>
/// --class-weights and --label-smoothing, the cross-entropy's settings for imbalanced classes and over-confident
/// models, as the classification samples declare them (medmnist train, fundus-folder train), and the task they make.
/// </summary>
internal static class ClassImbalanceOptions
{
    /// <summary>--class-weights none|balanced.</summary>
    public static Option<string> ClassWeights() => new Option<string>("--class-weights")
    {
        Description = "balanced: weigh each training image's cross-entropy by n / (K · n_k), its class's inverse frequency (scikit-learn's \"balanced\"; torch's CrossEntropyLoss(weight=…)), so rare classes — severe grades, positive findings — count as much as common ones. none: every image alike.",
        DefaultValueFactory = _ => "none",
    }.OneOf("none", "balanced");

    /// <summary>--label-smoothing ε.</summary>
    public static Option<double> LabelSmoothing() => new Option<double>("--label-smoothing")
    {
        Description = "ε: train against targets of 1 − ε on the labelled class and ε/K spread over all K (torch's CrossEntropyLoss(label_smoothing=ε)); e.g. 0.1. Default 0.",
        DefaultValueFactory = _ => 0,
    }.Must(v => v is >= 0 and < 1, "in [0, 1)");

    /// <summary>
    /// The classification task of <paramref name="network"/> with the chosen weights (from the training labels) and
    /// smoothing, the weights' tensor (the caller disposes it; null without weights), and a line saying what the loss is
    /// (null for the plain cross-entropy).
    /// </summary>
    /// <exception cref="ArgumentException">Weights or smoothing for a multi-label task, or balanced weights with a class absent from the training labels.</exception>
    public static (ClassificationTask Task, Tensor? Weights, string? Description) Create(Module<Tensor, Tensor> network, MedMnistTask task, string classWeights, double labelSmoothing,
        IReadOnlyList<int> trainingLabels, int classCount)
    {
        bool balanced = classWeights == "balanced";
        if (task == MedMnistTask.MultiLabel && (balanced || labelSmoothing != 0))
            throw new ArgumentException("--class-weights and --label-smoothing set the cross-entropy of single-label tasks; a multi-label task trains a binary cross-entropy per label.");
        float[]? weights;
        try
        {
            weights = balanced ? Nets.Training.ClassWeights.Balanced(trainingLabels, classCount) : null;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--class-weights balanced: {e.Message}", e);
        }
        var tensor = weights is null ? null : Tensors.FromArray(weights);
        var parts = new List<string> { "cross-entropy" };
        if (weights is not null) parts.Add("balanced class weights " + string.Join(", ", weights.Select(w => w.ToString("0.###", CultureInfo.InvariantCulture))));
        if (labelSmoothing != 0) parts.Add("label smoothing " + labelSmoothing.ToString(CultureInfo.InvariantCulture));
        return (new ClassificationTask(network, task, tensor, labelSmoothing), tensor, parts.Count > 1 ? "Loss: " + string.Join(", ", parts) : null);
    }
}
