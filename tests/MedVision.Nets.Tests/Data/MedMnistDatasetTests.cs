using MedVision.Nets.Data;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Npy;

namespace MedVision.Nets.Tests.Data;

public class MedMnistDatasetTests
{
    [Fact]
    public void Embedded_retinamnist_has_the_official_checksum()
    {
        using Stream stream = MedMnistDataset.OpenEmbeddedRetinaMnistStream();
        stream.Length.Should().Be(3291041);
        Md5.OfStream(stream).Should().Be("bd4c0672f1bba3e3a89f0e4e876791e4");
        MedMnistDataset.EmbeddedRetinaMnistMd5.Should().Be(MedMnistCatalog.RetinaMnist.GetMd5(28));
    }

    [Fact]
    public void Embedded_retinamnist_shapes_and_class_counts()
    {
        MedMnistDataset data = MedMnistDataset.LoadEmbeddedRetinaMnist(new MedMnistLoadOptions { RequireOfficialSplitSizes = true });

        data.Info.Should().BeSameAs(MedMnistCatalog.RetinaMnist);
        data.Train.ImageShape.Should().Equal(1080, 28, 28, 3);
        data.Validation.ImageShape.Should().Equal(120, 28, 28, 3);
        data.Test.ImageShape.Should().Equal(400, 28, 28, 3);
        data.Train.Labels.GetLength(0).Should().Be(1080);
        data.Train.LabelColumns.Should().Be(1);
        data.Train.Images.Length.Should().Be(1080 * 28 * 28 * 3);

        data.Train.CountPerClass(5).Should().Equal(486, 128, 206, 194, 66);
        data.Validation.CountPerClass(5).Should().Equal(54, 12, 28, 20, 6);
        data.Test.CountPerClass(5).Should().Equal(174, 46, 92, 68, 20);
        data.Train.Images.Should().Contain(b => b > 100, "fundus photographs are not black");
    }

    [Fact]
    public void Embedded_sample_accessors_index_the_flat_array()
    {
        MedMnistDataset data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        MedMnistSplitData test = data.GetSplit(MedMnistSplit.Test);
        ReadOnlyMemory<byte> image = test.GetImage(7);
        image.Length.Should().Be(28 * 28 * 3);
        image.Span.ToArray().Should().Equal(test.Images.Skip(7 * 2352).Take(2352));
        test.GetLabels(7).Should().Equal(test.Labels[7, 0]);
        Action outOfRange = () => test.GetImage(400);
        outOfRange.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Loads_a_file_and_infers_dataset_from_name()
    {
        using var temp = new TempFolder();
        string path = temp.File("pneumoniamnist_64.npz");
        Dictionary<string, NpyArray> arrays = SyntheticMedMnist.Arrays(1, [64, 64], classes: 2, int64Labels: true);
        NpzArchive.Write(path, arrays);

        MedMnistDataset data = MedMnistDataset.Load(path);

        data.Info!.Name.Should().Be("pneumoniamnist");
        data.Train.ImageShape.Should().Equal(12, 64, 64);
        data.Train.Images.Should().Equal(arrays["train_images"].Data);
        int[] expectedLabels = arrays["val_labels"].ToInt32Array();
        Enumerable.Range(0, 4).Select(i => data.Validation.Labels[i, 0]).Should().Equal(expectedLabels);
    }

    [Fact]
    public void Grayscale_to_rgb_repeats_the_channel()
    {
        using var temp = new TempFolder();
        string path = temp.File("breastmnist.npz");
        Dictionary<string, NpyArray> arrays = SyntheticMedMnist.Arrays(2, [28, 28], classes: 2);
        NpzArchive.Write(path, arrays);

        MedMnistDataset data = MedMnistDataset.Load(path, new MedMnistLoadOptions { GrayscaleToRgb = true });

        data.Test.ImageShape.Should().Equal(5, 28, 28, 3);
        byte[] grey = arrays["test_images"].Data;
        for (int p = 0; p < grey.Length; p += 97)
        {
            data.Test.Images[3 * p].Should().Be(grey[p]);
            data.Test.Images[(3 * p) + 1].Should().Be(grey[p]);
            data.Test.Images[(3 * p) + 2].Should().Be(grey[p]);
        }
    }

    [Fact]
    public void Loads_3d_volumes_and_refuses_rgb_conversion_for_them()
    {
        using var temp = new TempFolder();
        string path = temp.File("nodulemnist3d.npz");
        NpzArchive.Write(path, SyntheticMedMnist.Arrays(3, [28, 28, 28], classes: 2, counts: (3, 2, 2)));

        MedMnistDataset data = MedMnistDataset.Load(path);
        data.Train.ImageShape.Should().Equal(3, 28, 28, 28);
        data.Train.SampleLength.Should().Be(28 * 28 * 28);

        Action rgb = () => MedMnistDataset.Load(path, new MedMnistLoadOptions { GrayscaleToRgb = true });
        rgb.Should().Throw<ArgumentException>().Where(e => e.Message.Contains("3D"));
    }

    [Fact]
    public void Multi_label_chestmnist_layout_is_accepted()
    {
        using var temp = new TempFolder();
        string path = temp.File("chestmnist.npz");
        Dictionary<string, NpyArray> arrays = SyntheticMedMnist.Arrays(4, [28, 28], classes: 14, labelColumns: 14);
        NpzArchive.Write(path, arrays);

        MedMnistDataset data = MedMnistDataset.Load(path);
        data.Train.LabelColumns.Should().Be(14);
        int[] flat = arrays["train_labels"].ToInt32Array();
        int[] expected = Enumerable.Range(0, 14).Select(k => Enumerable.Range(0, 12).Count(i => flat[(i * 14) + k] == 1)).ToArray();
        data.Train.CountPerClass(14).Should().Equal(expected);
    }

    [Fact]
    public void Missing_array_is_reported_with_file_and_name()
    {
        using var temp = new TempFolder();
        string path = temp.File("retinamnist.npz");
        Dictionary<string, NpyArray> arrays = SyntheticMedMnist.Arrays(5, [28, 28, 3], classes: 5);
        arrays.Remove("val_labels");
        NpzArchive.Write(path, arrays);

        Action act = () => MedMnistDataset.Load(path);
        act.Should().Throw<DataFormatException>().Where(e => e.FilePath == path && e.Message.Contains("'val_labels'"));
    }

    [Fact]
    public void Image_and_label_counts_that_disagree_are_reported()
    {
        using var temp = new TempFolder();
        string path = temp.File("retinamnist.npz");
        Dictionary<string, NpyArray> arrays = SyntheticMedMnist.Arrays(6, [28, 28, 3], classes: 5);
        arrays["test_labels"] = NpyArray.FromBytes([1, 2, 3], 3, 1);
        NpzArchive.Write(path, arrays);

        Action act = () => MedMnistDataset.Load(path);
        act.Should().Throw<DataFormatException>().Where(e => e.Message.Contains(path) && e.Message.Contains("counts disagree") && e.Message.Contains("5") && e.Message.Contains("3"));
    }

    [Fact]
    public void Labels_outside_the_class_range_are_reported()
    {
        using var temp = new TempFolder();
        string path = temp.File("retinamnist.npz");
        Dictionary<string, NpyArray> arrays = SyntheticMedMnist.Arrays(7, [28, 28, 3], classes: 5);
        byte[] labels = arrays["train_labels"].Data;
        labels[3] = 5;
        NpzArchive.Write(path, arrays);

        Action act = () => MedMnistDataset.Load(path);
        act.Should().Throw<DataFormatException>().Where(e => e.Message.Contains(path) && e.Message.Contains("sample 3 has label 5") && e.Message.Contains("0..4"));
    }

    [Fact]
    public void Official_split_sizes_can_be_required()
    {
        using var temp = new TempFolder();
        string path = temp.File("retinamnist.npz");
        NpzArchive.Write(path, SyntheticMedMnist.Arrays(8, [28, 28, 3], classes: 5));

        Action act = () => MedMnistDataset.Load(path, new MedMnistLoadOptions { RequireOfficialSplitSizes = true });
        act.Should().Throw<DataFormatException>().Where(e => e.Message.Contains("1080"));
    }

    [Fact]
    public void Truncated_npz_is_reported()
    {
        using var temp = new TempFolder();
        string path = temp.File("retinamnist.npz");
        using (Stream embedded = MedMnistDataset.OpenEmbeddedRetinaMnistStream())
        using (FileStream file = File.Create(path))
        {
            var buffer = new byte[1_000_000];
            int n = embedded.ReadAtLeast(buffer, buffer.Length);
            file.Write(buffer, 0, n);
        }

        Action act = () => MedMnistDataset.Load(path);
        act.Should().Throw<DataFormatException>().Where(e => e.FilePath == path);
    }
}
