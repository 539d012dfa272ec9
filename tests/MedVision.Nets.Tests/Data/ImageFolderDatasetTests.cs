using MedVision.Nets.Data;
using MedVision.Nets.Data.Images;

namespace MedVision.Nets.Tests.Data;

public class ImageFolderDatasetTests
{
    private static void WritePng(string path, int width, int height, int channels, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, MinimalPng.Encode(width, height, channels, Enumerable.Repeat(value, width * height * channels).ToArray()));
    }

    private static void WriteJpeg(string path, int width, int height, byte value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, ImageCodec.EncodeJpeg(new RasterImage(width, height, 3, Enumerable.Repeat(value, width * height * 3).ToArray()), 95));
    }

    [Fact]
    public void Labels_from_subfolders()
    {
        using var temp = new TempFolder();
        WritePng(temp.File("normal/a.png"), 8, 8, 1, 10);
        WriteJpeg(temp.File("normal/b.JPG"), 16, 16, 20);
        WritePng(temp.File("glaucoma/c.png"), 8, 6, 3, 30);
        File.WriteAllText(temp.File("glaucoma/notes.txt"), "ignored");

        ImageFolderDataset data = ImageFolderDataset.FromSubfolders(temp.Path);

        data.ClassNames.Should().Equal("glaucoma", "normal");
        data.Samples.Select(s => (Path.GetFileName(s.FilePath), s.Label)).Should().Equal(("c.png", 0), ("a.png", 1), ("b.JPG", 1));
        RasterImage img = data.LoadImage(2, 4, 5, 3);
        (img.Width, img.Height, img.Channels).Should().Be((4, 5, 3));
        img.Pixels.Should().OnlyContain(b => Math.Abs(b - 20) <= 2);
        data.LoadImage(1, 3, 3, 3).Pixels.Should().OnlyContain(b => b == 10, "grey is repeated into RGB");
    }

    [Fact]
    public void Subset_keeps_the_chosen_images_in_order_with_the_classes_and_refuses_bad_indices()
    {
        using var temp = new TempFolder();
        for (int i = 0; i < 6; i++) WritePng(temp.File($"{(i % 2 == 0 ? "normal" : "referable")}/{i}.png"), 4, 4, 1, (byte)(10 * i));
        var data = ImageFolderDataset.FromSubfolders(temp.Path);
        var labels = data.Samples.Select(s => s.Label).ToArray();

        // A stratified hold-out of the images: the two parts together are the dataset, each class split in both.
        var (keep, held) = MedVision.Nets.Data.Loading.DataSplits.StratifiedHoldout(labels, 1.0 / 3, seed: 4);
        var (kept, calibration) = (data.Subset(keep), data.Subset(held));
        calibration.Samples.Should().Equal(held.Select(i => data.Samples[i]));
        kept.Samples.Concat(calibration.Samples).Select(s => s.FilePath).Should().BeEquivalentTo(data.Samples.Select(s => s.FilePath));
        calibration.Samples.Select(s => s.Label).Should().BeEquivalentTo(new[] { 0, 1 });
        (kept.Root, kept.ClassNames, kept.LabelColumns).Should().Be((data.Root, data.ClassNames, 1));
        var reversed = data.Subset([5, 0]);
        reversed.Samples.Should().Equal(data.Samples[5], data.Samples[0]);
        reversed.LoadImage(0, 4, 4, 1).Pixels.Should().Equal(data.LoadImage(5, 4, 4, 1).Pixels);

        FluentActions.Invoking(() => data.Subset([1, 6])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("Index 6 (position 1) is outside the 6 images*");
        FluentActions.Invoking(() => data.Subset([-1])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("Index -1 *");
        FluentActions.Invoking(() => data.Subset([2, 3, 2])).Should().Throw<ArgumentException>().WithMessage("Index 2 appears twice*");
        FluentActions.Invoking(() => data.Subset([])).Should().Throw<ArgumentException>().WithMessage("*needs at least one index*");
        FluentActions.Invoking(() => data.Subset(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Labels_from_the_pathologic_myopia_file_name_rule()
    {
        using var temp = new TempFolder();
        WriteJpeg(temp.File("P0001.jpg"), 8, 8, 1);
        WriteJpeg(temp.File("N0002.jpg"), 8, 8, 2);
        WriteJpeg(temp.File("H0003.jpg"), 8, 8, 3);
        WriteJpeg(temp.File("p0004.jpg"), 8, 8, 4);

        ImageFolderDataset data = ImageFolderDataset.FromFileNames(temp.Path, FileNameLabelRule.PathologicMyopia);

        data.Samples.Select(s => (Path.GetFileName(s.FilePath), s.Label)).Should().Equal(("H0003.jpg", 0), ("N0002.jpg", 0), ("P0001.jpg", 1), ("p0004.jpg", 1));
        data.ClassNames.Should().HaveCount(2);

        WriteJpeg(temp.File("X0005.jpg"), 8, 8, 5);
        Action unknown = () => ImageFolderDataset.FromFileNames(temp.Path, FileNameLabelRule.PathologicMyopia);
        unknown.Should().Throw<DataFormatException>().Where(e => e.FilePath.EndsWith("X0005.jpg") && e.Message.Contains("no label"));

        ImageFolderDataset custom = ImageFolderDataset.FromFileNames(temp.Path, ["other", "x"], name => name.StartsWith('X') ? 1 : 0);
        custom.Samples.Count(s => s.Label == 1).Should().Be(1);

        Action outOfRange = () => ImageFolderDataset.FromFileNames(temp.Path, ["only"], name => name.StartsWith('X') ? 1 : 0);
        outOfRange.Should().Throw<DataFormatException>().Where(e => e.Message.Contains("outside the class range"));
    }

    [Fact]
    public void Labels_from_a_csv_table()
    {
        using var temp = new TempFolder();
        WritePng(temp.File("img/a.png"), 4, 4, 3, 1);
        WritePng(temp.File("img/b.png"), 4, 4, 3, 2);
        WriteJpeg(temp.File("img/c d.jpg"), 8, 8, 3);
        string csv = temp.File("labels.csv");
        File.WriteAllText(csv, "id;file;grade\n1;a.png;2\n2;\"c d.jpg\";0\n3;b.png;1.0\n");

        ImageFolderDataset data = ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { FileNameColumn = "file", LabelColumn = "grade", Delimiter = ';' });

        data.Samples.Select(s => (Path.GetFileName(s.FilePath), s.Label)).Should().Equal(("a.png", 2), ("b.png", 1), ("c d.jpg", 0));
        data.ClassNames.Should().Equal("0", "1", "2");
    }

    [Fact]
    public void Csv_problems_are_reported_with_the_file_and_line()
    {
        using var temp = new TempFolder();
        WritePng(temp.File("img/a.png"), 4, 4, 1, 1);
        WritePng(temp.File("img/b.png"), 4, 4, 1, 2);
        string csv = temp.File("labels.csv");

        void Expect(string content, string problem, CsvLabelOptions? options = null)
        {
            File.WriteAllText(csv, content);
            Action act = () => ImageFolderDataset.FromCsv(temp.File("img"), csv, options);
            act.Should().Throw<DataFormatException>().Where(e => e.FilePath == csv && e.Message.Contains(problem), problem);
        }

        Expect("imgName,Label\na.png,0\n", "counts disagree");
        Expect("imgName,Label\na.png,0\nb.png,0\nmissing.png,1\n", "line 4: image 'missing.png' does not exist");
        Expect("imgName,Label\na.png,0\nb.png,3\n", "line 3: label 3", new CsvLabelOptions { ClassNames = ["no", "yes"] });
        Expect("imgName,Label\na.png,-1\nb.png,0\n", "outside the class range");
        Expect("imgName,Label\na.png,yes\nb.png,0\n", "not an integer");
        Expect("name,Label\na.png,0\n", "'imgName'");

        File.WriteAllText(csv, "imgName,Label\na.png,1\n");
        ImageFolderDataset partial = ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { RequireEveryImageLabelled = false });
        partial.Count.Should().Be(1);
    }

    [Fact]
    public void Csv_rows_may_name_images_without_their_extension_as_aptos_and_eyepacs_do()
    {
        using var temp = new TempFolder();
        WritePng(temp.File("img/000c1434d8d7.png"), 4, 4, 3, 1);
        WriteJpeg(temp.File("img/10_left.jpeg"), 8, 8, 2);
        WritePng(temp.File("img/a.b.png"), 4, 4, 3, 3);
        File.WriteAllText(temp.File("img/10_left.txt"), "not an image");
        string csv = temp.File("train.csv");
        File.WriteAllText(csv, "id_code,diagnosis\n000c1434d8d7,2\n10_left,0\na.b.png,4\n");

        var data = ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { FileNameColumn = "id_code", LabelColumn = "diagnosis" });

        data.Samples.Select(s => (Path.GetFileName(s.FilePath), s.Label)).Should().Equal(("000c1434d8d7.png", 2), ("10_left.jpeg", 0), ("a.b.png", 4));
        WritePng(temp.File("img/10_left.png"), 4, 4, 3, 4);
        FluentActions.Invoking(() => ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { FileNameColumn = "id_code", LabelColumn = "diagnosis", RequireEveryImageLabelled = false }))
            .Should().Throw<DataFormatException>().Where(e => e.Message.Contains("line 3: '10_left' names no file, and several images by its name: 10_left.jpeg, 10_left.png"));
        File.WriteAllText(csv, "id_code,diagnosis\nmissing,1\n");
        FluentActions.Invoking(() => ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { FileNameColumn = "id_code", LabelColumn = "diagnosis" }))
            .Should().Throw<DataFormatException>().Where(e => e.Message.Contains("line 2: image 'missing' does not exist"));
    }

    [Fact]
    public void Multi_label_table_gives_each_image_its_findings_and_the_source_serves_them()
    {
        using var temp = new TempFolder();
        WritePng(temp.File("img/0_left.png"), 4, 4, 3, 1);
        WritePng(temp.File("img/0_right.png"), 4, 4, 3, 2);
        WritePng(temp.File("img/1_left.png"), 4, 4, 3, 3);
        string csv = temp.File("odir.csv");
        // ODIR-5K's layout: an image column and one 0/1 column per finding (the table's other columns are not read).
        File.WriteAllText(csv, "ID,imgName,Age,N,D,G,C\n0,0_left.png,57,0,1,0,1\n0,0_right.png,57,1,0,0,0\n1,1_left.png,64,0,1.0,1,0\n");

        var data = ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { LabelColumns = ["N", "D", "G", "C"] });

        data.IsMultiLabel.Should().BeTrue();
        data.LabelColumns.Should().Be(4);
        data.ClassNames.Should().Equal("N", "D", "G", "C");
        data.Samples.Select(s => (Path.GetFileName(s.FilePath), s.Label, string.Join("", s.Labels!))).Should()
            .Equal(("0_left.png", -1, "0101"), ("0_right.png", -1, "1000"), ("1_left.png", -1, "0110"));
        var source = new MedVision.Nets.Data.Loading.ImageFolderSource(data, 4, 4);
        source.LabelColumns.Should().Be(4);
        source.Load(2).Labels.Should().Equal(0, 1, 1, 0);
        ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { LabelColumns = ["N", "D", "G", "C"], ClassNames = ["normal", "diabetes", "glaucoma", "cataract"] })
            .ClassNames.Should().Equal("normal", "diabetes", "glaucoma", "cataract");

        // A single-label table stays one label per image.
        File.WriteAllText(temp.File("single.csv"), "imgName,Label\n0_left.png,1\n0_right.png,0\n1_left.png,1\n");
        var single = ImageFolderDataset.FromCsv(temp.File("img"), temp.File("single.csv"));
        (single.IsMultiLabel, single.LabelColumns, single.Samples[0].Labels).Should().Be((false, 1, (IReadOnlyList<int>?)null));
        new MedVision.Nets.Data.Loading.ImageFolderSource(single, 4, 4).Load(0).Labels.Should().Equal(1);

        void Expect(string content, string problem)
        {
            File.WriteAllText(csv, content);
            FluentActions.Invoking(() => ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { LabelColumns = ["N", "D"] }))
                .Should().Throw<DataFormatException>().Where(e => e.FilePath == csv && e.Message.Contains(problem), problem);
        }
        Expect("imgName,N,D\n0_left.png,0,2\n0_right.png,0,0\n1_left.png,1,0\n", "line 2: 'D' of '0_left.png' is '2'; a multi-label column holds 0 or 1");
        Expect("imgName,N,D\n0_left.png,0,x\n", "is 'x'");
        Expect("imgName,N\n0_left.png,0\n", "the header must have columns 'imgName' and 'N', 'D'");
        Expect("imgName,N,D\n0_left.png,0,1\n0_right.png,0,0\n", "counts disagree");
        Expect("imgName,N,D\n0_left.png,0,1\n0_left.png,0,0\n", "line 3: image '0_left.png' is listed more than once");
        FluentActions.Invoking(() => ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { LabelColumns = ["N", "N"] }))
            .Should().Throw<ArgumentException>().WithMessage("*name one column twice*");
        FluentActions.Invoking(() => ImageFolderDataset.FromCsv(temp.File("img"), csv, new CsvLabelOptions { LabelColumns = ["N", "D"], ClassNames = ["normal"] }))
            .Should().Throw<ArgumentException>().WithMessage("1 class names for 2 label columns*");
    }

    [Fact]
    public void Corrupt_image_in_a_dataset_names_the_file()
    {
        using var temp = new TempFolder();
        WritePng(temp.File("a/good.png"), 4, 4, 1, 1);
        File.WriteAllBytes(temp.File("a/bad.png"), MinimalPng.Encode(4, 4, 1, new byte[16])[..30]);
        ImageFolderDataset data = ImageFolderDataset.FromSubfolders(temp.Path);
        Action act = () => data.LoadImage(0, 2, 2);
        act.Should().Throw<DataFormatException>().Where(e => e.FilePath.EndsWith("bad.png"));
    }
}
