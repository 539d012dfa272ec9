using MedVision.Nets.Inference;
using MedVision.Onnx.Runtime;
using MedVision.Torch;

namespace MedVision.Samples;

/// <summary>
/// The model files the classification samples' predict and evaluate commands take as --model (medmnist, fundus-folder):
/// libtorch model files and TorchScript files through libtorch, exported ONNX files through ONNX Runtime, several as an
/// ensemble, or an ensemble manifest.
/// </summary>
internal static class ModelFiles
{
    /// <summary>
    /// Loads the --model files as an ensemble (see <see cref="LoadPredictor"/> for each file; a file given twice is
    /// refused), or the ensemble a manifest lists (given alone); returns it with its members' files, in order.
    /// </summary>
    public static (EnsemblePredictor Ensemble, string[] Paths) LoadEnsemble(IReadOnlyList<string> paths, Device device, TestTimeFlips flips, bool mixedPrecision)
    {
        if (EnsembleModels.ManifestAlone(paths) is { } manifest)
            return (EnsemblePredictor.LoadManifest(manifest, device, flips, mixedPrecision), EnsemblePredictor.ReadManifest(manifest).ModelPaths.ToArray());
        for (int i = 0; i < paths.Count; i++)
        {
            int first = paths.ToList().FindIndex(p => Path.GetFullPath(p) == Path.GetFullPath(paths[i]));
            if (first != i) throw new ArgumentException($"--model {paths[i]} is given twice; each model of an ensemble counts once.");
        }
        var members = new List<Predictor>();
        try
        {
            foreach (var path in paths) members.Add(LoadPredictor(path, device, flips, mixedPrecision));
            return (EnsemblePredictor.Create(members), paths.ToArray());
        }
        catch
        {
            foreach (var member in members) member.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the --model file: an ONNX file (.onnx) through ONNX Runtime on the CPU, anything else through libtorch on
    /// <paramref name="device"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An ONNX file with --device other than cpu, or with --mixed-precision.</exception>
    public static Predictor LoadPredictor(string path, Device device, TestTimeFlips flips, bool mixedPrecision)
    {
        if (!IsOnnxFile(path)) return Predictor.Load(path, device, flips, mixedPrecision);
        if (device.Type != DeviceType.Cpu)
            throw new ArgumentException($"--device {device}: {Path.GetFileName(path)} is an ONNX model file, which the samples run with ONNX Runtime on the CPU; leave --device out, or predict with the model.safetensors it was exported from.");
        if (mixedPrecision)
            throw new ArgumentException($"--mixed-precision is libtorch's bfloat16 autocast; {Path.GetFileName(path)} is an ONNX model file, which ONNX Runtime runs in float32.");
        return OnnxRuntimePredictor.Load(path, flips);
    }

    /// <summary>Whether --model names an exported ONNX file (run with ONNX Runtime) rather than a libtorch model file.</summary>
    public static bool IsOnnxFile(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
}
