using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Errors;

/// <summary>
/// Bad calls fail with a specific exception type and a message that names the problem, and the process keeps
/// working afterwards (every case runs a small computation after the failure).
/// </summary>
public class ErrorTests
{
    private sealed record Case(Action Call, Type Exception, string Message, TorchErrorKind? Kind = null);

    private static void Scoped(Action<DisposeScope> body)
    {
        using var scope = Tensors.NewDisposeScope();
        body(scope);
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["conv channels mismatch"] = new(() => Scoped(_ => F.Conv2d(Tensors.Randn(1, 3, 5, 5), Tensors.Randn(4, 2, 3, 3))), typeof(ArgumentException), "*input has 3 channels*expects 2*"),
        ["conv float64 channels mismatch"] = new(() => Scoped(_ => F.Conv3d(Tensors.Randn(new long[] { 1, 3, 4, 4, 4 }, ScalarType.Float64), Tensors.Randn(new long[] { 2, 4, 3, 3, 3 }, ScalarType.Float64))), typeof(ArgumentException), "*input has 3 channels*"),
        ["conv input rank"] = new(() => Scoped(_ => F.Conv2d(Tensors.Randn(3, 5, 5), Tensors.Randn(4, 3, 3, 3))), typeof(ArgumentException), "*4-D input*[3, 5, 5]*"),
        ["matmul shapes"] = new(() => Scoped(_ => Tensors.Randn(2, 3).MatMul(Tensors.Randn(4, 5))), typeof(TorchException), "*cannot be multiplied*2x3*4x5*"),
        ["cat shapes"] = new(() => Scoped(_ => Tensors.Cat(new[] { Tensors.Zeros(2, 3), Tensors.Zeros(2, 4) })), typeof(TorchException), "*Sizes of tensors must match*"),
        ["stack shapes"] = new(() => Scoped(_ => Tensors.Stack(new[] { Tensors.Zeros(2, 3), Tensors.Zeros(3, 2) })), typeof(TorchException), "*stack expects each tensor to be equal size*"),
        ["broadcast shapes"] = new(() => Scoped(s => { _ = Tensors.Zeros(2, 3) + Tensors.Zeros(4); }), typeof(TorchException), "*size of tensor a (3) must match the size of tensor b (4)*"),
        ["CopyTo wrong element type"] = new(() => Scoped(_ => Tensors.Arange(4).CopyTo<float>(new float[4])), typeof(ArgumentException), "*Int64*not Single*To(ScalarType.Float32)*"),
        ["ToArray wrong element type"] = new(() => Scoped(_ => Tensors.Ones(2).ToArray<double>()), typeof(ArgumentException), "*Float32*not Double*"),
        ["cross-entropy float target of wrong shape"] = new(() => Scoped(_ => F.CrossEntropy(Tensors.Randn(4, 3), Tensors.Zeros(4))), typeof(ArgumentException), "cross_entropy: input [4, 3] (Float32), target [4] (Float32): *Long*"),
        ["cross-entropy class out of range"] = new(() => Scoped(_ => F.CrossEntropy(Tensors.Randn(4, 3), Tensors.FromArray(new long[] { 0, 1, 5, 2 }))), typeof(ArgumentException), "cross_entropy: input [4, 3] (Float32), target [4] (Int64): *Target 5 is out of bounds*"),
        ["Select out of range"] = new(() => Scoped(_ => Tensors.Zeros(3, 2).Select(0, 5)), typeof(TorchException), "*index 5 out of range*", TorchErrorKind.Index),
        ["indexer out of range"] = new(() => Scoped(s => { _ = Tensors.Zeros(3, 2)[1, 2]; }), typeof(IndexOutOfRangeException), "*Index 2 is out of range for dimension 1 of size 2*"),
        ["indexer out of range after Ellipsis"] = new(() => Scoped(s => { _ = Tensors.Zeros(2, 3, 4)[TensorIndex.Ellipsis, 4]; }), typeof(IndexOutOfRangeException), "Index 4 is out of range for dimension 2 of size 4*"),
        ["indexer too many indices"] = new(() => Scoped(s => { _ = Tensors.Zeros(3)[0, 0]; }), typeof(IndexOutOfRangeException), "*Too many indices (2) for a 1-D tensor*"),
        ["IndexSelect bad index"] = new(() => Scoped(_ => Tensors.Zeros(3, 2).IndexSelect(0, Tensors.FromArray(new long[] { 0, 7 }))), typeof(TorchException), "*index out of range*", TorchErrorKind.Index),
        ["Gather with int32 index"] = new(() => Scoped(_ => Tensors.Zeros(3, 2).Gather(1, Tensors.FromArray(new[] { 0, 1, 0, 1, 0, 1 }, 3, 2))), typeof(TorchException), "gather*int64*index*"),
        ["View on non-viewable tensor"] = new(() => Scoped(_ => Tensors.Zeros(3, 4).Transpose(0, 1).View(12)), typeof(TorchException), "*view size is not compatible*"),
        ["Narrow past end"] = new(() => Scoped(_ => Tensors.Zeros(3).Narrow(0, 2, 5)), typeof(TorchException), "*start (2) + length (5) exceeds dimension size (3)*"),
        ["Reshape to incompatible size"] = new(() => Scoped(_ => Tensors.Zeros(2, 3).Reshape(4, 4)), typeof(TorchException), "*shape '[4, 4]' is invalid for input of size 6*"),
        ["Permute with wrong dim count"] = new(() => Scoped(_ => Tensors.Zeros(2, 3).Permute(0, 1, 2)), typeof(TorchException), "*permute*"),
        ["CUDA on CPU-only build"] = new(() => Scoped(_ => Tensors.Ones(2).To(Device.Cuda())), typeof(InvalidOperationException), "*CUDA was requested (cuda:0) but is not available*"),
        ["use after Dispose"] = new(() => { var t = Tensors.Ones(2); t.Dispose(); _ = t + 1; }, typeof(ObjectDisposedException), "*disposed*"),
        ["shape after Dispose"] = new(() => { var t = Tensors.Ones(2); _ = t.Shape; t.Dispose(); _ = t.Shape; }, typeof(ObjectDisposedException), "*disposed*"),
        ["Backward on non-scalar without gradient"] = new(() => Scoped(_ => (Tensors.Ones(new long[] { 3 }, requiresGrad: true) * 2).Backward()), typeof(InvalidOperationException), "Backward failed*scalar outputs*"),
        ["Backward with gradient of wrong shape"] = new(() => Scoped(_ => (Tensors.Ones(new long[] { 3 }, requiresGrad: true) * 2).Backward(Tensors.Ones(4))), typeof(InvalidOperationException), "Backward failed*shape*"),
        ["Backward without requires-grad"] = new(() => Scoped(_ => Tensors.Ones(3).Sum().Backward()), typeof(InvalidOperationException), "*does not require grad*"),
        ["in-place op on a leaf that requires grad"] = new(() => Scoped(_ => Tensors.Ones(new long[] { 2 }, requiresGrad: true).MulInPlace(2)), typeof(TorchException), "*leaf Variable that requires grad*in-place*"),
        ["second Backward through a freed graph"] = new(() => Scoped(_ =>
        {
            var y = (Tensors.Ones(new long[] { 2 }, requiresGrad: true).Exp()).Sum();
            y.Backward();
            y.Backward();
        }), typeof(InvalidOperationException), "*backward through the graph a second time*"),
        ["Item on multi-element tensor"] = new(() => Scoped(_ => Tensors.Ones(3).Item()), typeof(InvalidOperationException), "Item() needs a one-element tensor*3 elements*"),
        ["negative shape"] = new(() => Scoped(_ => Tensors.Zeros(new long[] { 2, -1 })), typeof(ArgumentException), "*[2, -1] has a negative size*"),
        ["FromArray shape of wrong size"] = new(() => Scoped(_ => Tensors.FromArray(new float[5], 2, 3)), typeof(ArgumentException), "*holds 6 elements but 5 values*"),
        ["integer tensor requiring grad"] = new(() => Scoped(_ => Tensors.FromSpan<long>(new long[] { 1 }, requiresGrad: true)), typeof(ArgumentException), "*floating-point*Int64*"),
        ["RequiresGrad off on non-leaf"] = new(() => Scoped(_ => (Tensors.Ones(new long[] { 2 }, requiresGrad: true) * 2).RequiresGrad = false), typeof(InvalidOperationException), "*leaf*"),
        ["Linear with wrong in-features"] = new(() => Scoped(_ => { using var l = new Linear(4, 2); l.Call(Tensors.Zeros(3, 5)); }), typeof(ArgumentException), "linear: input [3, 5] against weight [2, 4]: *cannot be multiplied*"),
        ["BatchNorm with wrong channel count"] = new(() => Scoped(_ => { using var bn = new BatchNorm2d(3); bn.Call(Tensors.Zeros(2, 4, 5, 5)); }), typeof(ArgumentException), "BatchNorm2d(3) got an input with 4 channels*"),
        ["BatchNorm with wrong rank"] = new(() => Scoped(_ => { using var bn = new BatchNorm2d(3); bn.Call(Tensors.Zeros(2, 3)); }), typeof(ArgumentException), "*BatchNorm2d expects a 4-D input*"),
        ["LoadStateDict mismatch"] = new(() => Scoped(_ =>
        {
            using var l = new Linear(2, 2);
            l.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Tensors.Zeros(2, 3), ["bias"] = Tensors.Zeros(2) });
        }), typeof(StateDictMismatchException), "*shape mismatches: weight: expected [2, 2], got [2, 3]*"),
        ["dropout p above 1"] = new(() => Scoped(_ => F.Dropout(Tensors.Ones(3), 1.5)), typeof(ArgumentOutOfRangeException), "*dropout probability must lie in [0, 1]*"),
        ["Dropout module with negative p"] = new(() => _ = new Dropout(-0.1), typeof(ArgumentOutOfRangeException), "*dropout probability*"),
        ["Clamp with no bounds"] = new(() => Scoped(_ => Tensors.Ones(2).Clamp()), typeof(ArgumentException), "Clamp needs at least one of min and max*"),
        ["Interpolate with wrong rank"] = new(() => Scoped(_ => F.Interpolate(Tensors.Zeros(1, 2, 3), new long[] { 4, 4 })), typeof(ArgumentException), "*expects a 4-D input, got shape [1, 2, 3]*"),
        ["Pad with odd count"] = new(() => Scoped(_ => F.Pad(Tensors.Zeros(1, 2, 3), new long[] { 1, 1, 1 })), typeof(ArgumentException), "*even number*"),
        ["Split with zero size"] = new(() => Scoped(_ => Tensors.Zeros(4).Split(0)), typeof(TorchException), "*split_size can only be 0 if dimension size is 0*"),
        ["Split sizes not summing to the dimension"] = new(() => Scoped(_ => Tensors.Zeros(5).Split(new long[] { 2, 2 })), typeof(TorchException), "*split_with_sizes expects split_sizes to sum exactly to 5*"),
        ["single Split size not covering the dimension"] = new(() => Scoped(_ => Tensors.Zeros(5).Split(new long[] { 2 })), typeof(ArgumentException), "Split sizes [2] must sum to the size of dimension 0 (5)*"),
        ["label smoothing out of range"] = new(() => Scoped(_ => F.CrossEntropy(Tensors.Zeros(2, 2), Tensors.FromArray(new long[] { 0, 1 }), labelSmoothing: 1.5)), typeof(ArgumentOutOfRangeException), "*label smoothing*"),
        ["RandInt empty range"] = new(() => Scoped(_ => Tensors.RandInt(3, 3, new long[] { 2 })), typeof(ArgumentException), "*low < high*"),
        // Found by the API fuzzer (tests/FormatFuzzer api): enum values outside their enum reached libtorch as integers.
        ["undefined ScalarType (crashed the process)"] = new(() => Scoped(_ => Tensors.Ones(new long[] { 2 }, (ScalarType)99)), typeof(ArgumentOutOfRangeException), "*99 is not a ScalarType*Float32*(Parameter 'dtype')*"),
        ["undefined ScalarType in To"] = new(() => Scoped(_ => Tensors.Ones(2).To((ScalarType)(-1))), typeof(ArgumentOutOfRangeException), "*-1 is not a ScalarType*(Parameter 'type')*"),
        ["undefined Reduction (computed something else)"] = new(() => Scoped(_ => F.HuberLoss(Tensors.Zeros(2), Tensors.Ones(2), (Reduction)99)), typeof(ArgumentOutOfRangeException), "*99 is not a Reduction*(Parameter 'reduction')*"),
        ["undefined interpolation mode"] = new(() => Scoped(_ => F.Interpolate(Tensors.Zeros(1, 1, 2, 2), new long[] { 4, 4 }, (InterpolationMode)7)), typeof(ArgumentOutOfRangeException), "*7 is not a InterpolationMode*(Parameter 'mode')*"),
        ["undefined FanMode (silently used fan-out)"] = new(() => Scoped(_ => Init.KaimingNormal(Tensors.Zeros(3, 2), mode: (FanMode)5)), typeof(ArgumentOutOfRangeException), "*5 is not a FanMode*(Parameter 'mode')*"),
        ["undefined device type"] = new(() => Scoped(_ => Tensors.Zeros(new long[] { 2 }, device: new Device((DeviceType)7, 0))), typeof(ArgumentOutOfRangeException), "*(7, 0) is not a device*"),
        ["Split dim beyond int range"] = new(() => Scoped(_ => Tensors.Zeros(4).Split(new long[] { 4 }, 1L << 40)), typeof(ArgumentOutOfRangeException), "*dimension out of range for a 1-D tensor*"),
        ["Item<byte> of a value that does not fit"] = new(() => Scoped(_ => Tensors.FromArray(new long[] { 300 }).Item<byte>()), typeof(OverflowException), "Item<Byte>(): the tensor's value 300 does not fit in Byte."),
        ["scopes disposed out of order"] = new(() =>
        {
            var outer = Tensors.NewDisposeScope();
            var inner = Tensors.NewDisposeScope();
            try { outer.Dispose(); }
            finally { inner.Dispose(); outer.Dispose(); }
        }, typeof(InvalidOperationException), "*reverse order*"),
    };

    public static IEnumerable<object[]> Names() => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_ThrowsDescriptively_AndTheProcessKeepsWorking(string name)
    {
        var c = Cases[name];
        var live = Tensors.LiveTensors;
        var ex = Record.Exception(c.Call);
        ex.Should().NotBeNull($"'{name}' must fail");
        ex.Should().BeOfType(c.Exception, $"'{name}' failed with: {ex}");
        ex!.Message.Should().Match(c.Message);
        if (c.Kind is { } kind) ((TorchException)ex).Kind.Should().Be(kind);
        // the process keeps working: a fresh computation succeeds on this thread
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(new float[] { 1, 2, 3, 4 }, 2, 2).RequiresGradInPlace();
        var y = (x.MatMul(x) * 2).Sum();
        y.Item().Should().Be(2 * (7 + 10 + 15 + 22));
        y.Backward();
        x.Grad!.Shape.Should().Equal(2, 2);
        DisposeScope.Current.Should().BeSameAs(scope);
    }

    [Theory]
    [InlineData(99, 0, 0)] // dtype
    [InlineData(-1, 0, 0)]
    [InlineData(6, 7, 0)] // device type
    [InlineData(6, 0, 1000)] // device index
    [InlineData(6, 0, 0, 99)] // reduction
    public unsafe void TheShim_RefusesUndefinedEnumCodes_ForCallersThatSkipTheManagedChecks(int dtype, int deviceType, int deviceIndex, int reduction = 1)
    {
        using var scope = Tensors.NewDisposeScope();
        long[] shape = { 2 };
        IntPtr handle;
        if (reduction != 1)
        {
            var a = Tensors.Zeros(2);
            handle = MedVision.Torch.Native.NativeMethods.mvt_regression_loss(3, a.Handle, a.Handle, reduction, 1.0);
        }
        else
        {
            fixed (long* s = shape) handle = MedVision.Torch.Native.NativeMethods.mvt_full(s, 1, 1.0, dtype, deviceType, deviceIndex, 0);
        }
        handle.Should().Be(IntPtr.Zero);
        var error = TorchException.FromNative();
        error.Kind.Should().Be(TorchErrorKind.Value);
        error.Message.Should().MatchRegex("unknown (dtype|device type|reduction) code|device index out of range");
        (Tensors.Ones(2) * 2).ToArray<float>().Should().Equal(2, 2);
    }

    [Fact]
    public void AtLeastTwentyDifferentBadCallsAreCovered() => Cases.Count.Should().BeGreaterThanOrEqualTo(20);

    [Fact]
    public void ErrorsOnOneThread_DoNotLeakIntoAnother()
    {
        Exception? seen = null;
        var t = new Thread(() => seen = Record.Exception(() => { using var s = Tensors.NewDisposeScope(); Tensors.Zeros(3).Narrow(0, 2, 5); }));
        t.Start();
        t.Join();
        seen.Should().BeOfType<TorchException>();
        using var scope = Tensors.NewDisposeScope();
        (Tensors.Ones(2) * 2).ToArray<float>().Should().Equal(2, 2);
    }
}
