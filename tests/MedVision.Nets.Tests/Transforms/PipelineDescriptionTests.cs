using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Transforms;

/// <summary><see cref="TransformPipeline.Describe"/>: every step with its settings, for logs and run reports.</summary>
public sealed class PipelineDescriptionTests
{
    private sealed class Custom : ITransform
    {
        public FloatImage Apply(FloatImage image, Random random) => image;
        public override string ToString() => "my step";
    }

    [Fact]
    public void EveryStep_IsListedWithItsSettings_InOrder()
    {
        var pipeline = TransformPipeline.Create()
            .RandomAffine(15, 0.1, 0.05, probability: 0.5)
            .ScaleIntensity(40, 400)
            .RandomCoarseDropout(1, 4)
            .Normalize([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f])
            .Add(new Custom())
            .Build();
        var lines = pipeline.Describe().Split(Environment.NewLine);
        lines.Should().HaveCount(5);
        lines[0].Should().Be("1. RandomAffine(Degrees: 15, Scale: 0.1, Translate: 0.05, Probability: 0.5, Fill: 0)");
        lines[1].Should().StartWith("2. ScaleIntensity(").And.Contain("40").And.Contain("400");
        lines[2].Should().Be("3. RandomCoarseDropout(Holes: 1, MaxHoles: 1, Size: 4, MaxSize: 4, FillValue: none, Probability: 0.1)");
        lines[3].Should().StartWith("4. Normalize(").And.Contain("[0.485, 0.456, 0.406]").And.Contain("[0.229, 0.224, 0.225]");
        lines[4].Should().Be("5. my step", "a step's own ToString is used when it has one");
        TransformPipeline.Identity.Describe().Should().Be("(identity)");
        TransformPipeline.Create().Add(pipeline).Build().Describe().Should().StartWith("1. TransformPipeline(5 steps: RandomAffine(Degrees: 15");
        pipeline.ToString().Should().Be("TransformPipeline(5 steps)");
    }

    [Fact]
    public void EveryTransformOfTheLibrary_DescribesItselfWithoutThrowing()
    {
        // Each public ITransform made with small valid arguments through the builder's steps.
        var pipeline = TransformPipeline.Create()
            .RandomHorizontalFlip().RandomVerticalFlip().RandomDepthFlip().RandomRotation(10).ColorJitter(0.1, 0.1, 0.1)
            .Resize(8, 8).Resize(4, 8, 8).RandomCrop(4, 4).CenterCrop(4, 4).RandomVolumeCrop(2, 4, 4).CenterVolumeCrop(2, 4, 4)
            .ResizeWithPadOrCrop(4, 4).ResizeWithPadOrCrop(2, 4, 4).RandomAffine(5).RandomGaussianNoise().RandomIntensityScale(0.1)
            .RandomIntensityShift(0.1).RandomAdjustContrast().RandomBiasField().RandomGaussianSmooth().RandomElasticDeformation(1, 2, 1, 2)
            .RandomCoarseDropout(1, 2).RandomResizedCrop(4, 4).RandomRotate90().ScaleIntensity().ScaleIntensity(40, 400)
            .ScaleIntensityPercentiles(1, 99).NormalizeIntensity().CropForeground().Normalize(0.5f, 0.5f).Build();
        var lines = pipeline.Describe().Split(Environment.NewLine);
        lines.Should().HaveCount(pipeline.Steps.Count);
        lines.Where(l => l.EndsWith("()", StringComparison.Ordinal) || l.Contains("System.", StringComparison.Ordinal)).Should().BeEmpty(
            "every step shows its settings, as values rather than runtime type names: " + pipeline.Describe());
    }
}
