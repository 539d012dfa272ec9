using MedVision.Torch;
using MedVision.Torch.Distributed;
using MedVision.Torch.Nn;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Errors;

/// <summary>
/// Null where the API does not allow it gives ArgumentNullException naming the argument, thrown by the call itself.
/// (The FormatFuzzer "nulls" check covers every public member; these pin the forms that needed more than a check.)
/// </summary>
public class NullArgumentTests
{
    private static void ThrowsFor(Action call, string parameter)
    {
        using var scope = Tensors.NewDisposeScope();
        call.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be(parameter);
    }

    [Fact]
    public void Operators_and_methods_name_their_own_arguments()
    {
        Tensor? missing = null;
        ThrowsFor(() => _ = missing! + 1.0, "a");
        ThrowsFor(() => _ = 2.0 * missing!, "a");
        ThrowsFor(() => _ = -missing!, "a");
        ThrowsFor(() => _ = Tensors.Ones(2) / missing!, "b");
        // Methods that share the operators' code name their own parameter, not the operator's.
        ThrowsFor(() => Tensors.Ones(2).Div(missing!), "other");
        ThrowsFor(() => Tensors.Ones(2).Pow(missing!), "exponent");
        ThrowsFor(() => Tensors.Ones(2).CopyInPlace(missing!), "source");
        ThrowsFor(() => Tensors.Ones(2).AddcmulInPlace(Tensors.Ones(2), missing!), "tensor2");
        ThrowsFor(() => Tensors.Where(Tensors.Ones(2) > 0, missing!, Tensors.Ones(2)), "x");
        ThrowsFor(() => Tensors.ZerosLike(missing!), "like");
    }

    [Fact]
    public void Functional_ops_and_layers_check_before_anything_else()
    {
        Tensor? missing = null;
        ThrowsFor(() => F.Relu(missing!), "input");
        ThrowsFor(() => F.MseLoss(Tensors.Ones(2), missing!), "target");
        // The weight is checked before the input's rank (which is wrong here too).
        ThrowsFor(() => F.Conv2d(Tensors.Ones(2, 3), missing!), "weight");
        ThrowsFor(() => F.MaxPool(Tensors.Ones(2, 3), 2, null!), "kernelSize");
        using var tanh = new Tanh();
        ThrowsFor(() => tanh.Forward(missing!), "input");
        using var identity = new Identity();
        ThrowsFor(() => identity.Forward(missing!), "input");
    }

    [Fact]
    public void An_iterator_and_an_async_method_validate_when_called()
    {
        using var model = new Sequential(new Linear(2, 2));
        // Not when the sequence is enumerated or the task awaited: at the call.
        ThrowsFor(() => model.NamedModules(null!), "prefix");
        ThrowsFor(() => LocalLauncher.RunAsync(null!), "options");
    }

    [Fact]
    public void Records_and_options_refuse_null_members()
    {
        ThrowsFor(() => _ = new StateDictLoadResult(null!, Array.Empty<string>(), Array.Empty<string>()), "MissingKeys");
        ThrowsFor(() => _ = new LaunchOptions { FileName = null! }, "FileName");
        ThrowsFor(() => _ = new DistributedOptions { MasterAddress = null! }, "MasterAddress");
        ThrowsFor(() => _ = new StateDictMismatchException(null!), "result");
        // Exceptions take a null message, as the BCL's do.
        new TorchException(null).Message.Should().NotBeNull();
    }
}
