namespace MedVision.Torch.Nn;

/// <summary>A module with a typed forward pass.</summary>
/// <typeparam name="TInput">The input type (usually <see cref="Tensor"/>).</typeparam>
/// <typeparam name="TOutput">The output type.</typeparam>
public abstract class Module<TInput, TOutput> : Module
{
    /// <summary>The computation. Call submodules through <see cref="Call"/> so summaries can see them.</summary>
    public abstract TOutput Forward(TInput input);

    /// <summary>Runs <see cref="Forward"/>, recording the call when a <see cref="ModelSummary"/> is being built.</summary>
    public TOutput Call(TInput input)
    {
        var recorder = ModelSummary.ActiveRecorder;
        if (recorder is null) return Forward(input);
        var row = recorder.Enter(this);
        var output = Forward(input);
        recorder.Exit(row, this, input, output);
        return output;
    }
}
