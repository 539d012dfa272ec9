using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;

namespace MedVision.Benchmarks;

/// <summary>
/// A classifier with fixed random inputs and labels on a device, and the two timed operations the model benchmarks
/// share: a forward pass (eval mode, no gradients) and a full training step (cross-entropy, backward, Adam).
/// </summary>
public sealed class ClassifierWorkload : IDisposable
{
    private readonly Module<Tensor, Tensor> _model;
    private readonly Adam _optimizer;
    private readonly Tensor _inputs;
    private readonly Tensor _labels;
    private readonly Device _device;
    private readonly bool _mixedPrecision;

    /// <summary>
    /// Moves <paramref name="model"/> to <paramref name="device"/> and draws inputs of <paramref name="inputShape"/> and
    /// labels below <paramref name="classes"/>; with <paramref name="mixedPrecision"/> the forward passes (and the loss)
    /// run under bfloat16 autocast.
    /// </summary>
    public ClassifierWorkload(Module<Tensor, Tensor> model, long[] inputShape, int classes, Device device, bool mixedPrecision = false)
    {
        _mixedPrecision = mixedPrecision;
        _model = model;
        _device = device;
        _model.To(device);
        _optimizer = new Adam(_model.Parameters(), 1e-3);
        _inputs = Tensors.Randn(inputShape, device: device);
        _labels = Tensors.RandInt(0, classes, new[] { inputShape[0] }, device: device);
    }

    /// <summary>Forward pass in eval mode without gradients; returns the batch size.</summary>
    public long Inference()
    {
        _model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        using var autocast = Autocast();
        var logits = _model.Call(_inputs);
        BenchmarkSettings.Synchronize(_device);
        return logits.Size(0);
    }

    /// <summary>Forward, cross-entropy, backward and one Adam step; returns the loss.</summary>
    public double TrainingStep()
    {
        _model.Train();
        using var scope = Tensors.NewDisposeScope();
        _optimizer.ZeroGrad();
        Tensor loss;
        using (Autocast()) loss = Functional.CrossEntropy(_model.Call(_inputs), _labels);
        loss.Backward();
        _optimizer.Step();
        return loss.Item();
    }

    private AutocastScope? Autocast() => _mixedPrecision ? Tensors.Autocast(_device.Type, ScalarType.BFloat16) : null;

    /// <summary>Frees the model, optimizer state and tensors.</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _inputs.Dispose();
        _labels.Dispose();
    }
}
