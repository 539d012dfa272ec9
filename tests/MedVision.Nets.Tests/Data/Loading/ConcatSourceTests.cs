using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Tests.Data.Loading;

public sealed class ConcatSourceTests
{
    private static readonly Lazy<MedMnistDataset> Retina = new(() => MedMnistDataset.LoadEmbeddedRetinaMnist());

    [Fact]
    public void SamplesFollowTheSourcesInOrder()
    {
        var train = new MedMnistImageSource(Retina.Value.Train);
        var validation = new MedMnistImageSource(Retina.Value.Validation);
        var few = new SubsetSource(new MedMnistImageSource(Retina.Value.Test), new[] { 7, 3 });
        var pool = new ConcatSource(train, validation, few);
        pool.Count.Should().Be(1080 + 120 + 2);
        pool.LabelColumns.Should().Be(1);
        pool.Sources.Should().Equal(train, validation, few);
        foreach (var (index, source, at, expected) in new (int, int, int, ILabeledImageSource)[]
        {
            (0, 0, 0, train), (1079, 0, 1079, train), (1080, 1, 0, validation), (1199, 1, 119, validation), (1200, 2, 0, few), (1201, 2, 1, few),
        })
        {
            pool.Locate(index).Should().Be((source, at));
            var (image, labels) = pool.Load(index);
            var (direct, directLabels) = expected.Load(at);
            image.Data.ToArray().Should().Equal(direct.Data.ToArray());
            labels.Should().Equal(directLabels);
        }
        pool.Load(1201).Labels.Should().Equal(Retina.Value.Test.Labels[3, 0]);
        var outside = () => pool.Load(1202);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*1202 samples*");
        var negative = () => pool.Locate(-1);
        negative.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void SourcesThatCannotJoinAreRefusedByName()
    {
        var train = new MedMnistImageSource(Retina.Value.Train);
        var none = () => new ConcatSource();
        none.Should().Throw<ArgumentException>().WithMessage("At least one source is needed.*");
        var nullOne = () => new ConcatSource(train, null!);
        nullOne.Should().Throw<ArgumentException>().WithMessage("Source 1 is null.*");
        var otherLabels = () => new ConcatSource(train, new TwoColumns());
        otherLabels.Should().Throw<ArgumentException>().WithMessage("Source 1 has 2 label column(s), source 0 1*");
        var empty = () => new ConcatSource(train, new Empty());
        empty.Should().Throw<ArgumentException>().WithMessage("Source 1 has no samples.*");
    }

    private sealed class TwoColumns : ILabeledImageSource
    {
        public int Count => 1;

        public int LabelColumns => 2;

        public (FloatImage Image, int[] Labels) Load(int index) => throw new NotSupportedException();
    }

    private sealed class Empty : ILabeledImageSource
    {
        public int Count => 0;

        public int LabelColumns => 1;

        public (FloatImage Image, int[] Labels) Load(int index) => throw new NotSupportedException();
    }
}
