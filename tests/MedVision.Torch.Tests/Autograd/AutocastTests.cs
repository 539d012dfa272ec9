using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Tests.Support;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Torch.Tests.Autograd;

public sealed class AutocastTests
{
    private static Sequential SmallCnn() => new(
        new Conv2d(3, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 16, 3, padding: 1), new BatchNorm2d(16), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, 5));

    [Fact]
    public void InsideARegion_ConvolutionsAndProductsRunInBFloat16_AndOutsideInFloat32()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(1);
        var x = Tensors.Randn(2, 3, 8, 8);
        var w = Tensors.Randn(4, 3, 3, 3);
        var a = Tensors.Randn(5, 6);
        var b = Tensors.Randn(6, 7);
        var conv32 = F.Conv2d(x, w, padding: 1);
        var mm32 = a.MatMul(b);
        Tensor conv16, mm16, sum;
        using (var region = Tensors.Autocast())
        {
            region.ScalarType.Should().Be(ScalarType.BFloat16);
            Tensors.AutocastState().Should().Be((true, ScalarType.BFloat16));
            conv16 = F.Conv2d(x, w, padding: 1);
            mm16 = a.MatMul(b);
            sum = x.Sum();
        }
        Tensors.AutocastState().Enabled.Should().BeFalse();
        conv16.ScalarType.Should().Be(ScalarType.BFloat16);
        mm16.ScalarType.Should().Be(ScalarType.BFloat16);
        sum.ScalarType.Should().Be(ScalarType.Float32, "reductions are not cast");
        F.Conv2d(x, w, padding: 1).ScalarType.Should().Be(ScalarType.Float32);
        // bfloat16 keeps 8 significant bits: relative error about 2^-8 of the magnitudes involved
        var scale = conv32.Abs().Max().Item();
        (conv16.To(ScalarType.Float32) - conv32).Abs().Max().Item().Should().BeLessThan(0.02 * scale).And.BeGreaterThan(0, "the result was computed in bfloat16");
        (mm16.To(ScalarType.Float32) - mm32).Abs().Max().Item().Should().BeLessThan(0.02 * mm32.Abs().Max().Item());
    }

    [Fact]
    public void Regions_Nest_AndEachRestoresWhatItFound_OnItsOwnThread()
    {
        using var outer = Tensors.Autocast();
        using (Tensors.Autocast(enabled: false))
        {
            Tensors.AutocastState().Enabled.Should().BeFalse();
            using var scope = Tensors.NewDisposeScope();
            Tensors.Randn(3, 4).MatMul(Tensors.Randn(4, 2)).ScalarType.Should().Be(ScalarType.Float32);
        }
        Tensors.AutocastState().Enabled.Should().BeTrue();
        bool otherThread = true;
        var thread = new Thread(() => otherThread = Tensors.AutocastState().Enabled);
        thread.Start();
        thread.Join();
        otherThread.Should().BeFalse("autocast state belongs to a thread");
    }

    [Fact]
    public void TrainingStep_UnderAutocast_KeepsFloat32Parameters_AndFollowsTheFloat32Step()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(2);
        using var model = SmallCnn();
        var x = Tensors.Randn(8, 3, 16, 16);
        var y = Tensors.FromArray(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 });
        double loss32 = F.CrossEntropy(model.Call(x), y).Item();
        model.ZeroGrad();
        Tensor loss;
        using (Tensors.Autocast()) loss = F.CrossEntropy(model.Call(x), y);
        loss.ScalarType.Should().Be(ScalarType.Float32, "cross-entropy runs in float32 under autocast");
        loss.Item().Should().BeApproximately(loss32, 0.03 * Math.Abs(loss32));
        loss.Backward();
        foreach (var (name, p) in model.NamedParameters())
        {
            p.ScalarType.Should().Be(ScalarType.Float32, name);
            using var grad = p.Grad;
            grad.Should().NotBeNull(name);
            grad!.ScalarType.Should().Be(ScalarType.Float32, $"the gradient of {name} matches its parameter");
            grad.IsFinite().All().Item().Should().Be(1);
        }
        using var optimizer = new Adam(model.Parameters(), 1e-3);
        optimizer.Step();
    }

    [Fact]
    public void Inference_UnderAutocast_SkipsThePrepackedFloat32Weight()
    {
        using var scope = Tensors.NewDisposeScope();
        using var conv = new Conv2d(3, 4, 3, padding: 1);
        conv.Eval();
        var x = Tensors.Randn(1, 3, 6, 6);
        using (Tensors.NoGrad())
        {
            Tensor y;
            using (Tensors.Autocast()) y = conv.Call(x);
            y.ScalarType.Should().Be(ScalarType.BFloat16);
            conv.HoldsPackedWeight.Should().BeFalse();
            conv.Call(x).ScalarType.Should().Be(ScalarType.Float32);
        }
    }

    [Fact]
    public void TorchScriptModules_FollowTheRegionToo()
    {
        using var scope = Tensors.NewDisposeScope();
        using var net = MedVision.Torch.Jit.ScriptModule.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny_scripted_net.pt"));
        net.Eval();
        var x = Tensors.Randn(2, 3, 8, 8);
        using var noGrad = Tensors.NoGrad();
        var full = net.Call(x);
        Tensor mixed;
        using (Tensors.Autocast()) mixed = net.Call(x);
        full.ScalarType.Should().Be(ScalarType.Float32);
        mixed.ScalarType.Should().Be(ScalarType.BFloat16, "the script's convolution and linear layer ran under the region");
        (mixed.To(ScalarType.Float32) - full).Abs().Max().Item().Should().BeLessThan(0.05 * (full.Abs().Max().Item() + 1));
    }

    [Fact]
    public void UnsupportedPrecisions_Devices_AndThreads_AreRefused()
    {
        FluentActions.Invoking(() => Tensors.Autocast(DeviceType.Cpu, ScalarType.Float16)).Should().Throw<ArgumentException>().WithMessage("*BFloat16*");
        FluentActions.Invoking(() => Tensors.Autocast(DeviceType.Cpu, ScalarType.Float64)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => Tensors.Autocast((DeviceType)7)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => Tensors.Autocast(DeviceType.Cuda, ScalarType.Float32)).Should().Throw<ArgumentException>().WithMessage("*Float16 or BFloat16*");
        if (!Tensors.Cuda.IsAvailable)
            FluentActions.Invoking(() => Tensors.Autocast(DeviceType.Cuda)).Should().Throw<InvalidOperationException>().WithMessage("*CUDA*");
        Tensors.AutocastState().Enabled.Should().BeFalse("a refused region changes nothing");

        var region = Tensors.Autocast();
        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(region.Dispose));
        thread.Start();
        thread.Join();
        error.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("thread");
        Tensors.AutocastState().Enabled.Should().BeTrue("the region is still open on its own thread");
        region.Dispose();
        Tensors.AutocastState().Enabled.Should().BeFalse();
    }

    [CudaFact]
    public void OnCuda_Float16Autocast_WithLossScaling_TrainsAndMatchesFloat32()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(3);
        using var model = SmallCnn();
        model.To(Device.Cuda());
        var x = Tensors.Randn(new long[] { 8, 3, 16, 16 }, device: Device.Cuda());
        var y = Tensors.FromArray(new long[] { 0, 1, 2, 3, 4, 0, 1, 2 }).To(Device.Cuda());
        double loss32 = F.CrossEntropy(model.Call(x), y).Item();
        using var optimizer = new Adam(model.Parameters(), 1e-3);
        var scaler = new GradScaler();
        optimizer.ZeroGrad();
        Tensor loss, logits;
        using (Tensors.Autocast(DeviceType.Cuda))
        {
            logits = model.Call(x);
            loss = F.CrossEntropy(logits, y);
        }
        logits.ScalarType.Should().Be(ScalarType.Float16);
        loss.Item().Should().BeApproximately(loss32, 0.02 * Math.Abs(loss32));
        scaler.ScaleLoss(loss).Backward();
        scaler.Step(optimizer).Should().BeTrue();
        scaler.Update();
        model.Parameters().Should().OnlyContain(p => p.ScalarType == ScalarType.Float32 && p.Device.IsCuda);
        using (Tensors.Autocast(DeviceType.Cuda, ScalarType.BFloat16))
            model.Call(x).ScalarType.Should().Be(ScalarType.BFloat16);
    }

    [Fact]
    public void GradScaler_ScalesUnscalesSkipsAndAdaptsItsFactor()
    {
        using var scope = Tensors.NewDisposeScope();
        var w = Tensors.FromArray(new[] { 1.0, 2.0 }).RequiresGradInPlace();
        using var optimizer = new Sgd([w], learningRate: 0.1);
        var scaler = new GradScaler(initScale: 1024, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2);

        // a clean step: gradients unscaled before the update
        scaler.ScaleLoss((w * w).Sum()).Backward();                  // d/dw = 2w, scaled by 1024
        using (var g = w.Grad) g!.ToArray<double>().Should().Equal(2048, 4096);
        scaler.Step(optimizer).Should().BeTrue();
        w.ToArray<double>().Should().Equal(1 - 0.1 * 2, 2 - 0.1 * 4);
        scaler.Update();
        scaler.Scale.Should().Be(1024);
        scaler.GrowthTracker.Should().Be(1);

        // a second clean step grows the factor
        optimizer.ZeroGrad();
        scaler.ScaleLoss(w.Sum()).Backward();
        scaler.Unscale(optimizer).Should().BeFalse();
        scaler.Invoking(s => s.Unscale(optimizer)).Should().Throw<InvalidOperationException>();
        scaler.Step(optimizer).Should().BeTrue();
        scaler.Update();
        scaler.Scale.Should().Be(2048);
        scaler.GrowthTracker.Should().Be(0);

        // an overflowing step is skipped and backs off
        optimizer.ZeroGrad();
        var before = w.ToArray<double>();
        scaler.ScaleLoss((w * double.PositiveInfinity).Sum()).Backward();
        scaler.Step(optimizer).Should().BeFalse();
        w.ToArray<double>().Should().Equal(before);
        scaler.Update();
        scaler.Scale.Should().Be(1024);
        scaler.SkippedSteps.Should().Be(1);
        scaler.Invoking(s => s.Update()).Should().Throw<InvalidOperationException>().WithMessage("*Step*");

        var state = scaler.GetState();
        var restored = new GradScaler(growthInterval: 2);
        restored.LoadState(state);
        restored.Scale.Should().Be(1024);
        restored.Invoking(r => r.LoadState(new Dictionary<string, double> { ["scale"] = -1, ["growth_tracker"] = 0 })).Should().Throw<ArgumentException>();

        var off = new GradScaler(enabled: false);
        using var loss = (w * 3).Sum();
        using var same = off.ScaleLoss(loss);
        same.Item().Should().Be(loss.Item());
        FluentActions.Invoking(() => new GradScaler(backoffFactor: 1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new GradScaler(initScale: double.NaN)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
