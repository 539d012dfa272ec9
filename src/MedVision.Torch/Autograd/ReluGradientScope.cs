using MedVision.Torch.Native;

namespace MedVision.Torch.Autograd;

/// <summary>
/// Changes the backward pass of every ReLU that autograd records on the current thread until disposed — the rule
/// behind guided backpropagation, deconvolution and DeepLIFT attributions (what Captum does with backward hooks on
/// <c>nn.ReLU</c> modules). Forward values are unchanged.
/// </summary>
/// <remarks>
/// <para>
/// The rule is fixed when a ReLU is recorded (in the forward pass, with gradients enabled and an input that requires
/// gradients), and the backward pass through it uses that rule whenever it runs. It applies to
/// <see cref="Tensor.Relu"/> and <see cref="Tensor.ReluInPlace"/> and so to <see cref="Nn.ReLU"/>,
/// <see cref="Nn.Functional.Relu(Tensor)"/> and every block of this library that calls them; not to ReLU6, leaky
/// ReLU or other activations, and not to ReLUs inside a TorchScript module, which libtorch's interpreter runs. Under
/// <see cref="ReluGradient.DeepLiftRescale"/> the other elementwise activations get the rule as well (and are counted
/// in <see cref="Overrides"/>), and so does max pooling (<see cref="Nn.Functional.MaxPool"/> and the max-pooling
/// layers; not counted). <see cref="Overrides"/> counts the activations changed, so a caller can tell a network with
/// none of them from one with some.
/// </para>
/// <para>Scopes nest; disposing one restores the rule before it. Dispose on the thread that created the scope.</para>
/// </remarks>
/// <example><code>
/// using var x = image.Detach().RequiresGradInPlace();
/// Tensor score;
/// using (var guided = ReluGradientScope.Begin(ReluGradient.Guided))
/// {
///     score = model.Call(x).Select(1, label).Sum();
///     if (guided.Overrides == 0) throw new InvalidOperationException("no ReLU to guide");
/// }
/// using var map = Gradients.Compute(score, x);   // guided backpropagation
/// </code></example>
public sealed class ReluGradientScope : IDisposable
{
    private readonly int _previous;
    private readonly long _start;
    private readonly int _thread;
    private long _end = -1;

    private ReluGradientScope(ReluGradient rule)
    {
        Tensor.Check(NativeMethods.mvt_set_relu_gradient((int)rule, out _previous));
        _start = NativeMethods.mvt_relu_gradient_overrides();
        _thread = Environment.CurrentManagedThreadId;
        Rule = rule;
    }

    /// <summary>Records the ReLUs of this thread with <paramref name="rule"/>'s backward pass until the scope is disposed.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rule"/> is not a defined value.</exception>
    public static ReluGradientScope Begin(ReluGradient rule)
    {
        if (!Enum.IsDefined(rule)) throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown ReLU gradient rule.");
        return new ReluGradientScope(rule);
    }

    /// <summary>The rule of this scope.</summary>
    public ReluGradient Rule { get; }

    /// <summary>How many ReLUs (under <see cref="ReluGradient.DeepLiftRescale"/>, elementwise activations) were recorded with a changed backward pass on this thread while the scope was open (0 for <see cref="ReluGradient.Standard"/>).</summary>
    public long Overrides => (_end >= 0 ? _end : NativeMethods.mvt_relu_gradient_overrides()) - _start;

    /// <summary>Restores the rule that was in force when the scope began.</summary>
    /// <exception cref="InvalidOperationException">Disposed on another thread than the one that began it.</exception>
    public void Dispose()
    {
        if (_end >= 0) return;
        if (Environment.CurrentManagedThreadId != _thread)
            throw new InvalidOperationException("A ReluGradientScope must be disposed on the thread that began it: the rule is per thread.");
        _end = NativeMethods.mvt_relu_gradient_overrides();
        Tensor.Check(NativeMethods.mvt_set_relu_gradient(_previous, out _));
    }
}
