using MedVision.Nets.Data.Synthetic;

namespace MedVision.Nets.Tests.Data.Synthetic;

public sealed class PhantomGeneratorTests
{
    [Fact]
    public void SameSeedAndIndexGiveTheSameSubject()
    {
        var a = new PhantomGenerator(size: 12, seed: 3).Generate(5);
        var b = new PhantomGenerator(size: 12, seed: 3).Generate(2, 4)[3];
        b.Mri.Should().Equal(a.Mri);
        b.Pet.Should().Equal(a.Pet);
        new PhantomGenerator(size: 12, seed: 4).Generate(5).Mri.Should().NotEqual(a.Mri);
    }

    [Fact]
    public void VolumesHaveTheSizeAndRangeAndLabelsAlternate()
    {
        var subjects = new PhantomGenerator(size: 16, seed: 1).Generate(0, 4);
        subjects.Select(s => s.Label).Should().Equal(0, 1, 0, 1);
        foreach (var s in subjects)
        {
            s.Size.Should().Be(16);
            s.Mri.Should().HaveCount(16 * 16 * 16).And.OnlyContain(v => v >= 0 && v <= 1);
            s.Pet.Should().HaveCount(16 * 16 * 16).And.OnlyContain(v => v >= 0 && v <= 1);
        }
    }

    [Fact]
    public void OnlyLesionSubjectsHaveDarkenedTissueInBothModalities()
    {
        // Without noise, healthy MRI holds only background 0, core 0.45 and shell 0.75; a lesion scales tissue by 0.65.
        // Healthy PET holds no voxel below 0.3·(1 − 0.15) inside the head; the lesion scales uptake by 0.4.
        var subjects = new PhantomGenerator(size: 36, seed: 0, noise: 0).Generate(0, 6);
        foreach (var s in subjects)
        {
            bool darkMri = s.Mri.Any(v => Math.Abs(v - 0.45f * 0.65f) < 1e-4 || Math.Abs(v - 0.75f * 0.65f) < 1e-4);
            bool lowPet = s.Pet.Any(v => v > 0 && v < 0.25f);
            darkMri.Should().Be(s.Label == 1, $"subject {s.Index} has label {s.Label}");
            lowPet.Should().Be(s.Label == 1, $"subject {s.Index} has label {s.Label}");
        }
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        FluentActions.Invoking(() => new PhantomGenerator(size: 4)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PhantomGenerator(noise: -1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new PhantomGenerator().Generate(-1)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
