using MedVision.Nets.Inference;
using MedVision.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = MedVision.Torch.Tensor;

namespace MedVision.Onnx.Runtime;

/// <summary>
/// An ONNX Runtime session as a <see cref="Predictor"/>'s network: feeds the preprocessed batch to one input and reads
/// the logits from one output. Safe to call from several threads at once (ONNX Runtime's Run is).
/// </summary>
public sealed class OnnxRuntimeNetwork : IPredictorNetwork
{
    private readonly InferenceSession _session;
    private readonly string[] _outputs;
    private int _disposed;   // Dispose was called: new calls are refused
    private int _running;    // calls in progress
    private int _released;   // the session has been disposed (once: by Dispose, or by the last call running then)

    /// <summary>Wraps <paramref name="session"/>, which this network then owns and disposes.</summary>
    /// <exception cref="ArgumentException">The session has no input or output of those names.</exception>
    public OnnxRuntimeNetwork(InferenceSession session, string inputName = "input", string outputName = "logits")
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(inputName);
        ArgumentNullException.ThrowIfNull(outputName);
        if (!session.InputMetadata.ContainsKey(inputName))
            throw new ArgumentException($"The ONNX graph has no input '{inputName}' (it has {string.Join(", ", session.InputMetadata.Keys)}).", nameof(inputName));
        if (!session.OutputMetadata.ContainsKey(outputName))
            throw new ArgumentException($"The ONNX graph has no output '{outputName}' (it has {string.Join(", ", session.OutputMetadata.Keys)}).", nameof(outputName));
        _session = session;
        InputName = inputName;
        _outputs = new[] { outputName };
    }

    /// <summary>The graph input fed with the batch.</summary>
    public string InputName { get; }

    /// <summary>The graph output read as logits.</summary>
    public string OutputName => _outputs[0];

    /// <summary>Batches are handed over in host memory (ONNX Runtime copies them to its device itself).</summary>
    public Device Device => Device.Cpu;

    /// <inheritdoc />
    public Tensor Logits(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        // A reference count, as a SafeHandle's: the session outlives every call that started before Dispose.
        Interlocked.Increment(ref _running);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return Run(batch);
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0 && Volatile.Read(ref _disposed) != 0) Release();
        }
    }

    private Tensor Run(Tensor batch)
    {
        float[] values;
        using (var scope = Tensors.NewDisposeScope())
            values = batch.To(ScalarType.Float32, Device.Cpu).Contiguous().ToArray<float>();
        var input = new DenseTensor<float>(values, batch.Shape.Select(s => checked((int)s)).ToArray());
        using var results = _session.Run(new[] { NamedOnnxValue.CreateFromTensor(InputName, input) }, _outputs);
        var logits = results[0].AsTensor<float>();
        var shape = logits.Dimensions.ToArray().Select(d => (long)d).ToArray();
        return Tensors.FromArray(logits.ToArray()).Reshape(shape);
    }

    /// <summary>
    /// Refuses new calls (<see cref="ObjectDisposedException"/>) and disposes the session now, or — when calls are
    /// running on other threads — when the last of them returns, never under one. Does not wait. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && Volatile.Read(ref _running) == 0) Release();
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _session.Dispose();
    }
}
