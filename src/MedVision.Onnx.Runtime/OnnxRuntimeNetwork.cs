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
    private int _disposed;

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
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
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
    /// Disposes the session. Only when no call is running: a predictor that owns the network (<see cref="Predictor.Create"/>,
    /// <c>OnnxRuntimePredictor.Load</c>) waits for its running predictions before disposing it; used alone, the caller must.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _session.Dispose();
    }
}
