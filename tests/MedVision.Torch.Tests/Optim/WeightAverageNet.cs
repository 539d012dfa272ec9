using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Tests.Optim;

/// <summary>A linear layer and a batch norm (parameters and buffers, an integer buffer among them), for the weight-average tests.</summary>
internal sealed class WeightAverageNet : Module<Tensor, Tensor>
{
    public readonly Linear Fc;
    public readonly BatchNorm1d Bn;

    public WeightAverageNet()
    {
        Fc = RegisterModule("fc", new Linear(2, 2));
        Bn = RegisterModule("bn", new BatchNorm1d(2));
    }

    public override Tensor Forward(Tensor input) => Bn.Call(Fc.Call(input));

    /// <summary>A tensor's values as float32.</summary>
    public static float[] Values(Tensor t)
    {
        using var scope = Tensors.NewDisposeScope();
        return t.To(ScalarType.Float32).ToArray<float>();
    }
}
