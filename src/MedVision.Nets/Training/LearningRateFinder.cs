using MedVision.Nets.Data.Loading;
using MedVision.Torch;
using MedVision.Torch.Optim;

namespace MedVision.Nets.Training;

/// <summary>
/// The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks"; fast.ai's lr_find,
/// pytorch-lr-finder): trains for a few dozen steps while the learning rate grows from tiny to huge, records the loss,
/// and suggests where it falls fastest — a good peak for <see cref="TrainerBuilder.WithOneCycleSchedule"/> or a start
/// for a constant or stepped schedule. The model's weights and buffers (batch-norm statistics) are restored afterwards,
/// so the test can run right before training.
/// <code>
/// var sweep = LearningRateFinder.Run(task, trainLoader, p =&gt; new Sgd(p, 1e-3, momentum: 0.9));
/// Console.WriteLine($"suggested: {sweep.SuggestedLearningRate:G2}");
/// </code>
/// </summary>
public static class LearningRateFinder
{
    /// <summary>Runs the sweep over batches of <paramref name="loader"/> (its epochs repeat when the sweep is longer).</summary>
    /// <param name="task">The model and its loss; the model must be on the device of the loader's batches.</param>
    /// <param name="loader">Training batches.</param>
    /// <param name="optimizerFactory">Creates the optimizer over the model's parameters (its learning rate is overridden at every step; its state is discarded afterwards).</param>
    /// <param name="options">The range, length, smoothing and stopping rule (defaults: 1e-7 to 10 geometrically in 100 steps).</param>
    /// <param name="cancellationToken">Stops the sweep (the model is restored first).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of its range.</exception>
    /// <exception cref="InvalidOperationException">The loader produced no batch, or the first loss was not finite.</exception>
    public static LearningRateFinderResult Run(ITrainingTask task, DataLoader loader, Func<IReadOnlyList<Tensor>, Optimizer> optimizerFactory,
        LearningRateFinderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(optimizerFactory);
        options ??= new LearningRateFinderOptions();
        options.Validate();

        var model = task.Model;
        bool wasTraining = model.Training;
        var saved = model.CloneStateDict();
        var lrs = new List<double>();
        var losses = new List<double>();
        var smoothed = new List<double>();
        bool diverged = false;
        try
        {
            using var optimizer = optimizerFactory(model.Parameters().ToList())
                ?? throw new InvalidOperationException("The optimizer factory returned null.");
            model.Train();
            double best = double.PositiveInfinity;
            int epoch = 0;
            while (lrs.Count < options.Steps && !diverged)
            {
                int before = lrs.Count;
                foreach (var batch in loader.Epoch(epoch, cancellationToken))
                {
                    using var batchOwner = batch;
                    using var scope = Tensors.NewDisposeScope();
                    cancellationToken.ThrowIfCancellationRequested();
                    double lr = LearningRateAt(options, lrs.Count);
                    foreach (var group in optimizer.ParameterGroups) group.LearningRate = lr;
                    optimizer.ZeroGrad();
                    using var loss = task.ComputeLoss(batch, 0);
                    double value = loss.Total.Item();
                    if (!double.IsFinite(value))
                    {
                        if (lrs.Count == 0) throw new InvalidOperationException($"The first loss of the sweep is {value} (at learning rate {lr:G3}, before any update): check the data and the model.");
                        diverged = true;
                        break;
                    }
                    loss.Total.Backward();
                    optimizer.Step();
                    double average = smoothed.Count == 0 ? value : options.Smoothing * value + (1 - options.Smoothing) * smoothed[^1];
                    lrs.Add(lr);
                    losses.Add(value);
                    smoothed.Add(average);
                    best = Math.Min(best, average);
                    if (average > options.DivergenceFactor * best) { diverged = true; break; }
                    if (lrs.Count == options.Steps) break;
                }
                if (lrs.Count == before && !diverged) throw new InvalidOperationException("The loader produced no batch.");
                epoch++;
            }
        }
        finally
        {
            model.LoadStateDict(saved);
            foreach (var t in saved.Values) t.Dispose();
            if (wasTraining) model.Train(); else model.Eval();
            model.ZeroGrad();
        }
        return new LearningRateFinderResult(lrs.ToArray(), losses.ToArray(), smoothed.ToArray(), diverged, options.SkipStart);
    }

    /// <summary>The learning rate of step <paramref name="step"/> of a sweep with <paramref name="options"/>.</summary>
    public static double LearningRateAt(LearningRateFinderOptions options, int step)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        double r = (double)step / (options.Steps - 1);
        return options.Linear
            ? options.StartLearningRate + (options.EndLearningRate - options.StartLearningRate) * r
            : options.StartLearningRate * Math.Pow(options.EndLearningRate / options.StartLearningRate, r);
    }
}
