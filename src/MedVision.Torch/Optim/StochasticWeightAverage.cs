using System.Globalization;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Optim;

/// <summary>
/// Stochastic weight averaging (Izmailov et al., 2018; torch.optim.swa_utils.AveragedModel with its default equal-weight
/// average): the running mean of the weights at each <see cref="WeightAverage.Update"/> — usually once per epoch, late in
/// training, with a constant or cyclical learning rate (<see cref="SwaLR"/>). The first update copies the model's
/// weights; the n-th folds them in with weight 1/n. Only parameters are averaged unless <c>includeBuffers</c>: batch
/// norm's running statistics do not belong to the averaged weights, so recompute them with
/// <see cref="UpdateBatchNorm(Module{Tensor, Tensor}, IEnumerable{Tensor})"/> (PyTorch's <c>update_bn</c>) after copying the average in.
/// </summary>
/// <example><code>
/// using var swa = new StochasticWeightAverage(model);
/// var swaScheduler = new SwaLR(optimizer, swaLearningRate: 0.05);
/// for (int epoch = 0; epoch &lt; 100; epoch++)
/// {
///     TrainOneEpoch(model, optimizer);
///     if (epoch &gt;= 75) { swa.Update(model); swaScheduler.Step(); } else scheduler.Step();
/// }
/// swa.CopyTo(model);
/// StochasticWeightAverage.UpdateBatchNorm(model, trainImages);
/// </code></example>
public sealed class StochasticWeightAverage : WeightAverage
{
    /// <summary>Prepares an average of <paramref name="model"/>'s weights; nothing is averaged until the first update.</summary>
    /// <param name="model">The model whose weights are averaged.</param>
    /// <param name="includeBuffers">Whether buffers are averaged too (PyTorch's <c>use_buffers</c>); by default only parameters.</param>
    public StochasticWeightAverage(Module model, bool includeBuffers = false) : base(model, includeBuffers)
    {
    }

    /// <inheritdoc />
    protected override void Fold(Tensor average, Tensor weight, long updates)
    {
        if (updates == 0) average.CopyInPlace(weight);
        else average.LerpInPlace(weight, 1.0 / (updates + 1));
    }

    /// <inheritdoc />
    protected override void RequireUsable()
    {
        if (Updates == 0) throw new InvalidOperationException("No weights have been averaged yet: call Update(model) at least once before using the average.");
    }

    /// <inheritdoc />
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"StochasticWeightAverage({Updates} updates, {StateDict.Count} tensors, {(IncludeBuffers ? "parameters and buffers" : "parameters")})");

    /// <summary>
    /// Recomputes the running statistics of every batch-norm layer of <paramref name="model"/> from
    /// <paramref name="inputs"/> (torch.optim.swa_utils.update_bn): the statistics are reset, one training-mode forward
    /// pass is made over the inputs with each layer's momentum set to null (a cumulative average over the batches), and
    /// the momenta and the model's mode are restored. Needed after copying averaged weights into a model, whose old
    /// statistics belong to other weights. Nothing happens when the model has no batch norm.
    /// </summary>
    /// <param name="model">The model, called as <c>model.Call(input)</c>.</param>
    /// <param name="inputs">The batches (typically the training images; owned by the caller).</param>
    /// <returns>The number of batches passed through the model (0 when it has no batch norm).</returns>
    public static int UpdateBatchNorm(Module<Tensor, Tensor> model, IEnumerable<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        return UpdateBatchNorm(model, inputs, input => model.Call(input));
    }

    /// <summary>
    /// <see cref="UpdateBatchNorm(Module{Tensor, Tensor}, IEnumerable{Tensor})"/> for a model with any forward signature:
    /// <paramref name="forward"/> runs the model on one batch (e.g. both branches of a Siamese network); tensors it
    /// creates are freed after each batch.
    /// </summary>
    /// <typeparam name="TBatch">The batch type.</typeparam>
    /// <param name="model">The model whose batch-norm layers are updated.</param>
    /// <param name="batches">The batches (owned by the caller).</param>
    /// <param name="forward">Runs the model on one batch.</param>
    /// <returns>The number of batches passed through the model (0 when it has no batch norm).</returns>
    /// <exception cref="ArgumentException">There are batch-norm layers but <paramref name="batches"/> is empty.</exception>
    public static int UpdateBatchNorm<TBatch>(Module model, IEnumerable<TBatch> batches, Action<TBatch> forward)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(forward);
        var layers = model.Modules().OfType<BatchNorm>().Where(b => b.TrackRunningStats).ToList();
        if (layers.Count == 0) return 0;
        var momenta = layers.Select(b => b.Momentum).ToList();
        bool wasTraining = model.Training;
        var saved = new List<(Tensor Mean, Tensor Var, Tensor Count)>();
        using var noGrad = Tensors.NoGrad();
        try
        {
            foreach (var layer in layers)
            {
                saved.Add((DisposeScope.Detach(layer.RunningMean!.Clone()), DisposeScope.Detach(layer.RunningVar!.Clone()), DisposeScope.Detach(layer.NumBatchesTracked!.Clone())));
                layer.RunningMean!.FillInPlace(0);
                layer.RunningVar!.FillInPlace(1);
                layer.NumBatchesTracked!.FillInPlace(0);
                layer.Momentum = null;
            }
            model.Train();
            int count = 0;
            foreach (var batch in batches)
            {
                using (Tensors.NewDisposeScope()) forward(batch);
                count++;
            }
            if (count == 0) throw new ArgumentException("There are no batches to compute the batch-norm statistics from.", nameof(batches));
            return count;
        }
        catch
        {
            // A failed pass leaves the statistics as they were, not half recomputed.
            for (int i = 0; i < saved.Count; i++)
            {
                layers[i].RunningMean!.CopyInPlace(saved[i].Mean);
                layers[i].RunningVar!.CopyInPlace(saved[i].Var);
                layers[i].NumBatchesTracked!.CopyInPlace(saved[i].Count);
            }
            throw;
        }
        finally
        {
            foreach (var s in saved) { s.Mean.Dispose(); s.Var.Dispose(); s.Count.Dispose(); }
            for (int i = 0; i < layers.Count; i++) layers[i].Momentum = momenta[i];
            model.Train(wasTraining);
        }
    }
}
