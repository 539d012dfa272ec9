using MedVision.Nets.Models;
using MedVision.Onnx;
using MedVision.Torch;
using MedVision.Torch.Serialization;

// Forward and backward pass of a ResNet-18 on a random batch, using only the packed NuGet packages.
using var scope = Tensors.NewDisposeScope();
Tensors.ManualSeed(7);
using var model = ResNet.ResNet18(numClasses: 5, inChannels: 3);
var x = Tensors.Randn(4, 3, 28, 28);
var logits = model.Call(x);
var loss = logits.LogSoftmax(1).Mean().Neg();
loss.Backward();
var gradNorm = model.Parameters().Select(p => { using var g = p.Grad!; using var n = g.Norm(); return n.Item(); }).Sum();
Console.WriteLine($"native shim {Tensors.NativeLibraryPath}");
Console.WriteLine($"libtorch {Tensors.Version}; logits [{string.Join(", ", logits.Shape)}]; loss {loss.Item():F4}; parameters {model.ParameterCount():N0}; sum of gradient norms {gradNorm:F4}");
// The ONNX export package: the graph carries every weight as float32.
var onnx = new OnnxExporter().ExportToBytes(model, new long[] { 1, 3, 28, 28 });
Console.WriteLine($"ONNX export: {onnx.Length:N0} bytes");
// The state dict through torch.save's format and back (the pickle reader and writer of MedVision.Torch).
using var pth = new MemoryStream();
PyTorchFile.SaveStateDict(pth, model.StateDict());
pth.Position = 0;
using var reloaded = PyTorchFile.LoadStateDict(pth);
bool sameWeights = reloaded.Count == model.StateDict().Count && model.LoadStateDict(reloaded).IsExactMatch;
Console.WriteLine($"torch.save round trip: {pth.Length:N0} bytes, {reloaded.Count} tensors");
if (!logits.Shape.SequenceEqual(new long[] { 4, 5 }) || !(gradNorm > 0) || double.IsNaN(loss.Item()) || onnx.Length < model.ParameterCount() * 4 || !sameWeights)
{
    Console.Error.WriteLine("package consumer: unexpected result");
    return 1;
}
Console.WriteLine("package consumer: OK");
return 0;
