using MedVision.Torch.Native;

namespace MedVision.Torch.Autograd;

/// <summary>
/// Gradients of outputs with respect to chosen inputs, returned rather than accumulated into <see cref="Tensor.Grad"/>
/// (torch.autograd.grad). Useful for gradient penalties, input saliency and class-activation maps, where the
/// gradient of an intermediate activation is wanted without touching the parameters' gradients.
/// </summary>
/// <example><code>
/// using var x = Tensors.FromArray(new[] { 1f, 2f, 3f }).RequiresGradInPlace();
/// using var y = (x * x).Sum();
/// using var dx = Gradients.Compute(y, x);   // 2x = [2, 4, 6]
/// </code></example>
public static class Gradients
{
    /// <summary>
    /// The gradient of <paramref name="output"/> with respect to <paramref name="input"/>. A non-scalar output needs
    /// <paramref name="gradOutput"/> (the vector of the vector-Jacobian product) of its shape.
    /// </summary>
    /// <param name="output">The tensor to differentiate.</param>
    /// <param name="input">A tensor the output depends on (a leaf or an intermediate result).</param>
    /// <param name="gradOutput">The gradient flowing into <paramref name="output"/>; null for a scalar output (1).</param>
    /// <param name="retainGraph">Keep the graph so that it can be differentiated again.</param>
    /// <param name="createGraph">Record the gradient computation itself, for higher-order derivatives.</param>
    /// <exception cref="InvalidOperationException">The output does not depend on the input, neither requires
    /// gradients, or the graph was already freed by an earlier backward pass.</exception>
    public static Tensor Compute(Tensor output, Tensor input, Tensor? gradOutput = null, bool retainGraph = false, bool createGraph = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(input);
        var gradOutputs = gradOutput is null ? null : new[] { gradOutput };
        return Compute(new[] { output }, new[] { input }, gradOutputs, retainGraph, createGraph)[0]!;
    }

    /// <summary>
    /// Gradients of the sum of <paramref name="outputs"/> (each weighted by its entry of <paramref name="gradOutputs"/>)
    /// with respect to each of <paramref name="inputs"/>, in the order of <paramref name="inputs"/>.
    /// </summary>
    /// <param name="outputs">Tensors to differentiate.</param>
    /// <param name="inputs">Tensors to differentiate with respect to.</param>
    /// <param name="gradOutputs">One entry per output (null entries: 1 for a scalar output), or null for all scalars.</param>
    /// <param name="retainGraph">Keep the graph so that it can be differentiated again.</param>
    /// <param name="createGraph">Record the gradient computation itself, for higher-order derivatives.</param>
    /// <param name="allowUnused">Return null for an input the outputs do not depend on instead of throwing.</param>
    /// <returns>New tensors (registered in the current dispose scope), null only for unused inputs when <paramref name="allowUnused"/> is set.</returns>
    public static unsafe Tensor?[] Compute(
        IReadOnlyList<Tensor> outputs,
        IReadOnlyList<Tensor> inputs,
        IReadOnlyList<Tensor?>? gradOutputs = null,
        bool retainGraph = false,
        bool createGraph = false,
        bool allowUnused = false)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (outputs.Count == 0) throw new ArgumentException("At least one output is needed.", nameof(outputs));
        if (inputs.Count == 0) throw new ArgumentException("At least one input is needed.", nameof(inputs));
        if (gradOutputs is not null && gradOutputs.Count != outputs.Count)
            throw new ArgumentException($"gradOutputs has {gradOutputs.Count} entries for {outputs.Count} outputs.", nameof(gradOutputs));
        var outputHandles = new IntPtr[outputs.Count];
        for (var i = 0; i < outputs.Count; i++)
        {
            var o = outputs[i] ?? throw new ArgumentException($"outputs[{i}] is null.", nameof(outputs));
            var g = gradOutputs?[i];
            if (g is not null && !g.Shape.SequenceEqual(o.Shape))
                throw new ArgumentException($"gradOutputs[{i}] has shape [{string.Join(", ", g.Shape)}] but outputs[{i}] has [{string.Join(", ", o.Shape)}].", nameof(gradOutputs));
            outputHandles[i] = o.Handle;
        }
        var inputHandles = new IntPtr[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
            inputHandles[i] = (inputs[i] ?? throw new ArgumentException($"inputs[{i}] is null.", nameof(inputs))).Handle;
        var gradHandles = gradOutputs is null ? null : gradOutputs.Select(Tensor.HandleOrZero).ToArray();
        var results = new IntPtr[inputs.Count];
        int status;
        fixed (IntPtr* po = outputHandles)
        fixed (IntPtr* pg = gradHandles)
        fixed (IntPtr* pi = inputHandles)
        fixed (IntPtr* pr = results)
        {
            status = NativeMethods.mvt_autograd_grad(po, pg, outputs.Count, pi, inputs.Count,
                retainGraph ? 1 : 0, createGraph ? 1 : 0, allowUnused ? 1 : 0, pr);
        }
        GC.KeepAlive(outputs);
        GC.KeepAlive(inputs);
        GC.KeepAlive(gradOutputs);
        if (status < 0) throw new InvalidOperationException(TorchException.FromNative("Gradient computation failed").Message);
        return results.Select(h => h == IntPtr.Zero ? null : new Tensor(h)).ToArray();
    }
}
