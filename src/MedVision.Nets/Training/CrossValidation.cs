using MedVision.Nets.Data.Loading;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Training;

/// <summary>
/// k-fold cross-validation of a training recipe (scikit-learn's <c>cross_validate</c> and <c>cross_val_predict</c> in
/// one): the samples are split into folds (<see cref="DataSplits"/>), and for every fold a fresh model is trained on
/// the other folds, selected on its own fold by validation AUC (the <see cref="Trainer"/>'s rule), and then predicts
/// that fold — so that every sample gets an out-of-fold prediction from a model that never saw it — and, when a test
/// split is given, the test split. The result reports each fold, the mean and spread over the folds, the pooled
/// out-of-fold metrics and the fold models' soft-voting ensemble on the test split.
/// </summary>
/// <example>
/// <code>
/// var result = CrossValidation.Create(new MedMnistImageSource(pool), MedMnistTask.OrdinalRegression)
///     .WithFolds(5)
///     .StratifyBy(labels)
///     .TrainWith(new DataLoaderOptions { BatchSize = 128, Shuffle = true, Transform = augment })
///     .EvaluateWith(new DataLoaderOptions { BatchSize = 128, Transform = preprocess })
///     .TestOn(new MedMnistImageSource(data.Test))
///     .SaveTo("runs/cv")
///     .Run(fold => Trainer.Create(new ClassificationTask(NewResNet(), MedMnistTask.OrdinalRegression))
///         .UseAdam(1e-3).WithMultiStepSchedule().ForEpochs(20).WithSeed(fold.Index));
/// Console.WriteLine($"out-of-fold AUC {result.OutOfFold.Auc:F4}, ensemble test AUC {result.EnsembleTest.Auc:F4}");
/// </code>
/// </example>
public static class CrossValidation
{
    /// <summary>Starts a cross-validation of the samples of <paramref name="source"/> for a task of type <paramref name="taskType"/>.</summary>
    /// <param name="source">The samples to split into folds (e.g. MedMNIST's training and validation splits pooled).</param>
    /// <param name="taskType">How predictions are scored (AUC and ACC as MedMNIST defines them).</param>
    public static CrossValidationBuilder Create(ILabeledImageSource source, MedMnistTask taskType) => new(source, taskType);
}
