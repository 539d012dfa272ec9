using MedVision.Nets.Models;
using MedVision.Torch;

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
if (!logits.Shape.SequenceEqual(new long[] { 4, 5 }) || !(gradNorm > 0) || double.IsNaN(loss.Item()))
{
    Console.Error.WriteLine("package consumer: unexpected result");
    return 1;
}
Console.WriteLine("package consumer: OK");
return 0;
