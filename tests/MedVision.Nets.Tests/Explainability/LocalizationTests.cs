using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Explainability;

namespace MedVision.Nets.Tests.Explainability;

public sealed class LocalizationTests
{
    private static readonly bool[] Mask = { false, true, true, false, false };

    [Fact]
    public void PointingGame_HitsWhenTheMaximumIsInside_AndFlatMapsPointNowhere()
    {
        Localization.PointingGameHit(new[] { 0.1f, 0.9f, 0.3f, 0.2f, 0f }, Mask).Should().BeTrue();
        Localization.PointingGameHit(new[] { 0.1f, 0.2f, 0.3f, 0.9f, 0f }, Mask).Should().BeFalse();
        Localization.PointingGameHit(new[] { 1f, 0.2f, 1f, 0f, 0f }, Mask).Should().BeTrue("a tie with one maximum inside counts");
        Localization.PointingGameHit(new[] { 0f, 0f, 0f, 0f, 0f }, Mask).Should().BeFalse("an all-zero map points nowhere");
    }

    [Fact]
    public void Energy_IsTheShareOfTheMapsMassInside_AndChanceIsTheMasksShare()
    {
        Localization.EnergyInside(new[] { 1f, 2f, 1f, 0f, 0f }, Mask).Should().BeApproximately(0.75, 1e-12);
        Localization.EnergyInside(new[] { 0f, 0f, 0f, 0f, 0f }, Mask).Should().Be(0);
        Localization.Fraction(Mask).Should().Be(0.4);
        var uniform = Enumerable.Repeat(0.5f, 5).ToArray();
        Localization.EnergyInside(uniform, Mask).Should().BeApproximately(Localization.Fraction(Mask), 1e-12, "a map that ignores the region scores chance");
    }

    [Fact]
    public void BadArguments_AreRefused()
    {
        var length = () => Localization.EnergyInside(new[] { 1f }, Mask);
        length.Should().Throw<ArgumentException>().WithMessage("*1 values but the mask 5*");
        var negative = () => Localization.EnergyInside(new[] { 1f, -1f, 0f, 0f, 0f }, Mask);
        negative.Should().Throw<ArgumentException>().WithMessage("*non-negative*");
        var empty = () => Localization.PointingGameHit(new[] { 1f, 0f }, new[] { false, false });
        empty.Should().Throw<ArgumentException>().WithMessage("*no voxel*");
    }

    [Fact]
    public void PhantomLesions_AreWhereTheVolumesChange()
    {
        var generator = new PhantomGenerator(size: 36, seed: 4, noise: 0);
        var healthy = generator.Generate(0);
        healthy.Lesion.Should().BeNull();
        healthy.LesionMask().Should().OnlyContain(m => !m);

        var sick = generator.Generate(1);
        sick.Lesion.Should().NotBeNull();
        sick.Lesion!.Radius.Should().BeInRange(PhantomGenerator.MinimumLesionRadius, PhantomGenerator.MaximumLesionRadius);
        var core = sick.LesionMask(radiusScale: 1);
        var uptake = sick.LesionMask(radiusScale: 1.5);
        core.Count(m => m).Should().BeGreaterThan(0).And.BeLessThan(uptake.Count(m => m));
        // Without noise the darkened MRI voxels (0.75 → 0.4875 or 0.45 → 0.2925) are exactly the core inside the head.
        int darkenedCount = 0;
        for (int i = 0; i < core.Length; i++)
        {
            bool darkened = sick.Mri[i] is > 0.48f and < 0.49f or > 0.29f and < 0.30f;
            if (darkened) core[i].Should().BeTrue($"voxel {i} is darkened, so it lies in the lesion");
            if (darkened) darkenedCount++;
        }
        darkenedCount.Should().BeGreaterThan(0);
        var reduced = Enumerable.Range(0, uptake.Length).Count(i => uptake[i] && sick.Pet[i] > 0 && sick.Pet[i] < 0.35f);
        reduced.Should().BeGreaterThan(0, "PET uptake falls inside 1.5 radii");
    }
}
