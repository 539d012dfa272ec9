using BenchmarkDotNet.Attributes;
using MedVision.Nets.Explainability;
using MedVision.Nets.Models;
using MedVision.Torch;

namespace MedVision.Benchmarks;

/// <summary>
/// The cost of explaining one prediction of ResNet-18 (small-input stem) on a 28×28 image: plain inference (the
/// baseline), Grad-CAM and Grad-CAM++ (one forward pass and a backward pass to the last stage), and occlusion
/// sensitivity with 4×4 patches at stride 4 (49 occluded copies, batched), and the gradient attributions: saliency
/// (one backward pass to the input), SmoothGrad (25 noisy copies), integrated gradients (50 Gauss–Legendre points) and
/// GradientSHAP (50 draws from 16 baselines), each in one batch; guided backpropagation (saliency's passes with the
/// guided ReLU rule) and guided Grad-CAM (both maps); DeepLIFT (one pass of the image and a zero reference) and DeepLIFT
/// SHAP (one pass of 16 copies and the 16 baselines).
/// </summary>
[MemoryDiagnoser]
public class ExplainabilityBenchmarks
{
    private ResNet _model = null!;
    private Tensor _image = null!;
    private GradCam _gradCam = null!;
    private GradCam _gradCamPlusPlus = null!;
    private OcclusionSensitivity _occlusion = null!;
    private IntegratedGradients _integratedGradients = null!;
    private SmoothGrad _smoothGrad = null!;
    private Saliency _saliency = null!;
    private GradientShap _gradientShap = null!;
    private Tensor _baselines = null!;
    private GuidedBackprop _guidedBackprop = null!;
    private GuidedGradCam _guidedGradCam = null!;
    private DeepLift _deepLift = null!;
    private DeepLiftShap _deepLiftShap = null!;

    [GlobalSetup]
    public void Setup()
    {
        Tensors.NumThreads = Environment.ProcessorCount;
        Tensors.ManualSeed(0);
        _model = ResNet.Builder().WithDepth(18).ForInput(channels: 3).WithSmallInputStem().WithClasses(5).Build();
        _model.Eval();
        _image = DisposeScope.Detach(Tensors.Randn(1, 3, 28, 28));
        _gradCam = GradCam.ForResNet(_model);
        _gradCamPlusPlus = GradCam.ForResNet(_model, CamMethod.GradCamPlusPlus);
        _occlusion = new OcclusionSensitivity(_model, new[] { 4, 4 });
        _integratedGradients = new IntegratedGradients(_model);
        _smoothGrad = new SmoothGrad(_model);
        _saliency = new Saliency(_model);
        _gradientShap = new GradientShap(_model, samples: 50);
        _baselines = DisposeScope.Detach(Tensors.Randn(16, 3, 28, 28));
        _guidedBackprop = new GuidedBackprop(_model);
        _guidedGradCam = GuidedGradCam.ForResNet(_model);
        _deepLift = new DeepLift(_model);
        _deepLiftShap = new DeepLiftShap(_model);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _image.Dispose();
        _baselines.Dispose();
        _model.Dispose();
    }

    /// <summary>Inference only, for scale.</summary>
    [Benchmark(Baseline = true)]
    public float Inference()
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        return (float)_model.Call(_image).Max().Item();
    }

    /// <summary>Grad-CAM of the predicted class, resized and normalised.</summary>
    [Benchmark]
    public float GradCamMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var maps = _gradCam.Compute(_image);
        return maps.Scores[0];
    }

    /// <summary>Grad-CAM++ of the predicted class.</summary>
    [Benchmark]
    public float GradCamPlusPlusMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var maps = _gradCamPlusPlus.Compute(_image);
        return maps.Scores[0];
    }

    /// <summary>Occlusion sensitivity, 4×4 patches at stride 4 (49 windows in one batch).</summary>
    [Benchmark]
    public float OcclusionMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var maps = _occlusion.Compute(_image);
        return maps.Scores[0];
    }

    /// <summary>Saliency: the absolute gradient of the predicted class's logit with respect to the pixels.</summary>
    [Benchmark]
    public float SaliencyMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _saliency.Compute(_image);
        return attributions.Scores[0];
    }

    /// <summary>SmoothGrad: 25 noisy copies (15 % of the range), one batch.</summary>
    [Benchmark]
    public float SmoothGradMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _smoothGrad.Compute(_image);
        return attributions.Scores[0];
    }

    /// <summary>Integrated gradients: 50 Gauss–Legendre points from a zero baseline, one batch, and the display map.</summary>
    [Benchmark]
    public float IntegratedGradientsMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _integratedGradients.Compute(_image);
        using var maps = attributions.ToMaps();
        return attributions.Scores[0];
    }

    /// <summary>GradientSHAP (expected gradients): 50 draws between the image and 16 baselines, one batch.</summary>
    [Benchmark]
    public float GradientShapMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _gradientShap.Compute(_image, _baselines);
        return attributions.Scores[0];
    }

    /// <summary>Guided backpropagation: saliency's forward and backward passes with the guided ReLU rule.</summary>
    [Benchmark]
    public float GuidedBackpropMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _guidedBackprop.Compute(_image);
        return attributions.Scores[0];
    }

    /// <summary>Guided Grad-CAM: Grad-CAM of layer4 and guided backpropagation, multiplied.</summary>
    [Benchmark]
    public float GuidedGradCamMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _guidedGradCam.Compute(_image);
        return attributions.Scores[0];
    }

    /// <summary>DeepLIFT (rescale rule) from a zero reference: one forward and backward pass of the image and its reference.</summary>
    [Benchmark]
    public float DeepLiftMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _deepLift.Compute(_image);
        return attributions.Scores[0];
    }

    /// <summary>DeepLIFT SHAP against the 16 baselines: one pass of 16 copies of the image and the baselines.</summary>
    [Benchmark]
    public float DeepLiftShapMap()
    {
        using var scope = Tensors.NewDisposeScope();
        using var attributions = _deepLiftShap.Compute(_image, _baselines);
        return attributions.Scores[0];
    }
}
