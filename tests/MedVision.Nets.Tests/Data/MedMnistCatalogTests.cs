using MedVision.Nets.Metrics;
using MedVision.Nets.Data.MedMnist;

namespace MedVision.Nets.Tests.Data;

public class MedMnistCatalogTests
{
    [Fact]
    public void Lists_all_eighteen_datasets_with_consistent_metadata()
    {
        MedMnistCatalog.All.Should().HaveCount(18);
        MedMnistCatalog.All.Count(d => d.Is3D).Should().Be(6);
        foreach (MedMnistInfo info in MedMnistCatalog.All)
        {
            info.ClassNames.Should().NotBeEmpty().And.OnlyHaveUniqueItems();
            info.Channels.Should().BeOneOf(1, 3);
            info.GetMd5(28).Should().MatchRegex("^[0-9a-f]{32}$");
            info.Sizes.Should().Equal(info.Is3D ? new[] { 28, 64 } : new[] { 28, 64, 128, 224 });
            info.License.Should().Be(info.Name == "dermamnist" ? "CC BY-NC 4.0" : "CC BY 4.0");
            (info.Task == MedMnistTask.Binary).Should().Be(info.ClassCount == 2 && info.Task != MedMnistTask.MultiLabel);
        }

        MedMnistCatalog.All.Select(d => d.GetMd5(28)).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Published_facts_for_a_few_datasets()
    {
        MedMnistInfo chest = MedMnistCatalog.Get("ChestMNIST");
        chest.Task.Should().Be(MedMnistTask.MultiLabel);
        chest.LabelColumns.Should().Be(14);
        (chest.TrainCount, chest.ValidationCount, chest.TestCount).Should().Be((78468, 11219, 22433));

        MedMnistInfo retina = MedMnistCatalog.Get("retinamnist");
        retina.Task.Should().Be(MedMnistTask.OrdinalRegression);
        retina.GetSplitCount(MedMnistSplit.Validation).Should().Be(120);
        retina.GetMd5(64).Should().Be("afda852cc34dcda56f86ad2b2457dbcc");

        MedMnistInfo organ3d = MedMnistCatalog.Get("organmnist3d");
        organ3d.ClassCount.Should().Be(11);
        organ3d.GetMd5(64).Should().BeNull("the larger-size checksum is not known, so callers must supply one");
        Action noSize = () => organ3d.GetFileName(128);
        noSize.Should().Throw<ArgumentOutOfRangeException>();

        Action unknown = () => MedMnistCatalog.Get("notamnist");
        unknown.Should().Throw<ArgumentException>().Where(e => e.Message.Contains("notamnist"));
    }

    [Fact]
    public void Download_addresses_follow_the_zenodo_records()
    {
        MedMnistInfo retina = MedMnistCatalog.RetinaMnist;
        retina.GetDownloadUri().AbsoluteUri.Should().Be("https://zenodo.org/records/5208230/files/retinamnist.npz?download=1");
        retina.GetDownloadUri(64).AbsoluteUri.Should().Be("https://zenodo.org/records/10519652/files/retinamnist_64.npz?download=1");
        MedMnistCatalog.Get("vesselmnist3d").GetFileName(64).Should().Be("vesselmnist3d_64.npz");
    }

    [Theory]
    [InlineData("/x/pathmnist.npz", "pathmnist", 28)]
    [InlineData("organmnist3d_64.npz", "organmnist3d", 64)]
    public void File_names_are_recognised(string path, string name, int size)
    {
        MedMnistCatalog.TryParseFileName(path, out MedMnistInfo? info, out int parsed).Should().BeTrue();
        info!.Name.Should().Be(name);
        parsed.Should().Be(size);
        MedMnistCatalog.TryParseFileName("organmnist3d_224.npz", out _, out _).Should().BeFalse();
    }
}
