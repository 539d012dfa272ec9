using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Samples;

/// <summary>
/// --class-weights and --label-smoothing, the cross-entropy's settings for imbalanced classes and over-confident
/// models, and --head (a linear or CORAL classifier), as the classification samples declare them (medmnist train,
/// fundus-folder train, volume-folder train), and the training task they make.
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

    /// <summary>--head linear|coral: the classifier a ResNet ends in.</summary>
    public static Option<string> Head() => new Option<string>("--head")
    {
        Description = "linear: one logit per class, softmax cross-entropy (the recipe). coral: a CORAL ordinal head for disease grades (Cao et al. 2020) — one severity score and K − 1 ordered thresholds, trained with a binary cross-entropy per threshold, so the grades it predicts stay in order; ordinal tasks only.",
        DefaultValueFactory = _ => "linear",
    }.OneOf("linear", "coral");

    /// <summary>The <see cref="ClassifierHead"/> a --head value names.</summary>
    public static ClassifierHead ParseHead(string value) => value == "coral" ? ClassifierHead.Coral : ClassifierHead.Linear;

    /// <summary>
    /// The training task of <paramref name="network"/>: for a linear head the classification task with the chosen
    /// weights (from the training labels) and smoothing; for a CORAL head a <see cref="CoralTask"/>. Returned with the
    /// weights' tensor (the caller disposes it; null without weights) and a line saying what the loss is (null for the
    /// plain cross-entropy).
    /// </summary>
    /// <exception cref="ArgumentException">Weights or smoothing for a multi-label task or a CORAL head, a CORAL head for a task that is not ordinal, or balanced weights with a class absent from the training labels.</exception>
    public static (ITrainingTask Task, Tensor? Weights, string? Description) Create(Module<Tensor, Tensor> network, MedMnistTask task, string classWeights, double labelSmoothing,
        IReadOnlyList<int> trainingLabels, int classCount, ClassifierHead head = ClassifierHead.Linear)
    {
        bool balanced = classWeights == "balanced";
        if (head == ClassifierHead.Coral)
        {
            if (task != MedMnistTask.OrdinalRegression)
                throw new ArgumentException($"--head coral ranks ordered grades; this is a {task} task (use --head linear).");
            if (balanced || labelSmoothing != 0)
                throw new ArgumentException("--class-weights and --label-smoothing set the softmax cross-entropy of a linear head; --head coral trains a binary cross-entropy per grade threshold.");
            return (new CoralTask(network), null, $"Loss: CORAL (a binary cross-entropy for each of the {classCount - 1} thresholds grade > k)");
        }
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

    /// <summary>The task with its training batches mixed (a classification or CORAL task).</summary>
    public static ITrainingTask WithBatchMixing(ITrainingTask task, BatchMixing mixing) => task switch
    {
        ClassificationTask classification => classification.WithBatchMixing(mixing),
        CoralTask coral => coral.WithBatchMixing(mixing),
        _ => throw new InvalidOperationException($"A {task.GetType().Name} mixes no batches."),
    };
}
