using MedVision.Torch.TensorBoard;

namespace MedVision.Torch.Tests.TensorBoard;

/// <summary>
/// The TensorBoard writer against Fixtures/tensorboard_reference.tfevents, written by
/// Fixtures/make_tensorboard_fixture.py with Google's protobuf library, numpy's histogram and a CRC-32C checked against
/// RFC 3720 — so the bytes this library writes are the bytes TensorBoard's own stack writes.
/// </summary>
public sealed class SummaryWriterTests : IDisposable
{
    private static string ReferencePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tensorboard_reference.tfevents");

    private static readonly double[] Weights = [0.25, -1.5, 3.0, 0.0, 2.75, -0.5, 1.25, 3.0, -2.25, 0.5];
    private const string Note = "Grade **2** — ungradable? no";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mv-tb-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private SummaryWriter NewWriter(ManualClock? clock = null, TimeSpan? flush = null, string suffix = "")
        => new(_dir, new SummaryWriterOptions
        {
            TimeProvider = clock ?? ManualClock.AtUnixSeconds(1764979200.5),
            FlushInterval = flush ?? TimeSpan.FromSeconds(120),
            FileNameSuffix = suffix,
        });

    // The same events as the fixture script, in the same order.
    private static void WriteReferenceEvents(SummaryWriter w)
    {
        w.AddScalar("loss/train", 0.0, 0, 1764979201.25);
        w.AddScalar("loss/train", 0.6931471805599453, 1, 1764979202.0);
        w.AddScalar("lr", -1e-3, 123456789012, 1764979203.0);
        w.AddScalar("nan", double.NaN, null, 1764979204.0);
        using (var weights = Tensors.FromArray(Weights.Select(v => (float)v).ToArray(), 2, 5))
            w.AddHistogram("weights", weights, 2, wallTime: 1764979205.0);
        w.AddHistogram("weights/5 bins", Weights, 3, bins: 5, wallTime: 1764979206.0);
        w.AddHistogram("constant", [2.0, 2.0, 2.0], 4, bins: 3, wallTime: 1764979207.0);
        w.AddText("notes", Note, 5, 1764979208.0);
    }

    [Fact]
    public void Writer_WritesTheBytesGooglesProtobufWrites()
    {
        string path;
        using (var w = NewWriter())
        {
            WriteReferenceEvents(w);
            path = w.EventFilePath;
        }
        Path.GetDirectoryName(path).Should().Be(_dir);
        Path.GetFileName(path).Should().StartWith($"events.out.tfevents.1764979200.{Environment.MachineName}.{Environment.ProcessId}.");
        File.ReadAllBytes(path).Should().Equal(File.ReadAllBytes(ReferencePath));
    }

    [Fact]
    public void Reader_DecodesTheReferenceFile()
    {
        var events = EventFileReader.Read(ReferencePath);
        events.Should().HaveCount(9);
        events[0].FileVersion.Should().Be("brain.Event:2");
        events[0].WallTime.Should().Be(1764979200.5);
        events[0].Values.Should().BeEmpty();

        events[2].Step.Should().Be(1);
        events[2].Values.Should().ContainSingle().Which.Should().Match<SummaryValue>(v =>
            v.Tag == "loss/train" && v.Kind == SummaryValueKind.Scalar && v.Scalar == (double)(float)0.6931471805599453);
        events[3].Step.Should().Be(123456789012);
        events[3].Values[0].Scalar.Should().Be((float)-1e-3);
        events[4].Step.Should().Be(0);
        double.IsNaN(events[4].Values[0].Scalar!.Value).Should().BeTrue();

        var h = events[5].Values[0].Histogram!;
        events[5].Values[0].Kind.Should().Be(SummaryValueKind.Histogram);
        h.Should().BeEquivalentTo(HistogramData.Of(Weights), o => o.WithStrictOrdering());
        (h.Min, h.Max, h.Count, h.Sum, h.SumSquares).Should().Be((-2.25, 3.0, 10.0, 6.5, Weights.Sum(v => v * v)));
        h.BucketCounts.Sum().Should().Be(10);

        var five = events[6].Values[0].Histogram!;
        // numpy.histogram(weights, bins=5)'s edges, to the last bit (numpy's linspace: i·step + first, the last edge exact).
        five.BucketLimits.Should().Equal(-2.25, -1.2, -0.1499999999999999, 0.9000000000000004, 1.9500000000000002, 3.0);
        five.BucketCounts.Should().Equal(0, 2, 1, 3, 1, 3);

        var constant = events[7].Values[0].Histogram!;
        // One value repeated: numpy widens the range to [1.5, 2.5]; only the middle bucket is kept, with its left edge.
        constant.BucketLimits.Should().Equal(1.8333333333333333, 2.1666666666666665);
        constant.BucketCounts.Should().Equal(0, 3);

        var text = events[8].Values[0];
        (text.Tag, text.Kind, text.Text, text.PluginName).Should().Be(("notes/text_summary", SummaryValueKind.Text, Note, "text"));
    }

    [Fact]
    public void AddHyperparameters_WritesTheHParamsRunGooglesProtobufWrites()
    {
        using (var w = NewWriter(ManualClock.AtUnixSeconds(1764979300.0)))
        {
            w.AddHyperparameters(
                new Dictionary<string, object?> { ["lr"] = 0.01, ["optimizer"] = "adam", ["batch"] = 128, ["augment"] = true, ["note"] = null },
                new Dictionary<string, double> { ["validation/auc"] = 0.75, ["test/auc"] = 0.5 },
                new Dictionary<string, IReadOnlyList<object>> { ["optimizer"] = ["adam", "sgd"] },
                runName: "lr0.01", globalStep: 7);
        }
        var run = Directory.GetFiles(Path.Combine(_dir, "lr0.01")).Should().ContainSingle().Subject;
        File.ReadAllBytes(run).Should().Equal(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tensorboard_hparams_reference.tfevents")));
        var values = EventFileReader.Read(run).SelectMany(e => e.Values).ToList();
        values.Take(3).Should().OnlyContain(v => v.PluginName == "hparams" && v.Kind == SummaryValueKind.Other && !v.PluginContent.IsEmpty);
        EventFileReader.ReadScalars(run).Should().Equal(new ScalarPoint("validation/auc", 7, 1764979300.0, 0.75), new ScalarPoint("test/auc", 7, 1764979300.0, 0.5));
    }

    [Fact]
    public void AddHyperparameters_RefusesWhatTheHParamsPluginCannotShow()
    {
        using var w = NewWriter();
        var metrics = new Dictionary<string, double> { ["auc"] = 0.5 };
        FluentActions.Invoking(() => w.AddHyperparameters(new Dictionary<string, object?> { ["when"] = DateTime.UnixEpoch }, metrics))
            .Should().Throw<ArgumentException>().WithMessage("Hyperparameter \"when\" is a DateTime*");
        FluentActions.Invoking(() => w.AddHyperparameters(new Dictionary<string, object?> { ["lr"] = 0.1 }, metrics,
                new Dictionary<string, IReadOnlyList<object>> { ["momentum"] = [0.9] }))
            .Should().Throw<ArgumentException>().WithMessage("*\"momentum\" has a domain but no value*");
        FluentActions.Invoking(() => w.AddHyperparameters(new Dictionary<string, object?> { ["lr"] = 0.1 }, metrics,
                new Dictionary<string, IReadOnlyList<object>> { ["lr"] = ["fast"] }))
            .Should().Throw<ArgumentException>().WithMessage("*domain of \"lr\" must hold values of its type (Float64)*");
        FluentActions.Invoking(() => w.AddHyperparameters(new Dictionary<string, object?> { ["lr"] = 0.1 }, metrics, runName: "../elsewhere"))
            .Should().Throw<ArgumentException>().WithParameterName("runName");
        Directory.GetDirectories(_dir).Should().BeEmpty("nothing is written for a refused call");
    }

    [Fact]
    public void HistogramOf_CountsAsNumpy_EachBucketHoldingItsLeftEdgeAndTheLastBothEdges()
    {
        // Edges 0, 1, 2, 3, 4 (4 bins from 0 to 4): 1 falls in [1, 2), 4 in the last bin [3, 4]; an empty bucket in
        // front carries the left edge 0.
        var h = HistogramData.Of([0, 1, 1, 4, 3.999], bins: 4);
        h.BucketLimits.Should().Equal(0, 1, 2, 3, 4);
        h.BucketCounts.Should().Equal(0, 1, 2, 0, 2);
        // TensorFlow's buckets: 5 and 6 fall in [4.94…, 5.44…) and [5.98…, 6.58…); the bucket before 5's carries its left
        // edge, the one between them is kept (empty), none after 6's.
        var tf = HistogramData.Of([5.0, 6.0]);
        tf.BucketCounts.Should().Equal(0, 1, 0, 1);
        tf.BucketLimits.Should().HaveCount(4);
        tf.BucketLimits[0].Should().BeLessThanOrEqualTo(5).And.BeGreaterThan(5 / 1.1);
        tf.BucketLimits[3].Should().BeGreaterThan(6).And.BeLessThanOrEqualTo(6 * 1.1);
        tf.BucketLimits.Should().BeSubsetOf(HistogramData.TensorFlowEdges);
        // The empty first bucket carries the left edge (0) of the bucket [0, 1), which holds one value.
        var all = HistogramData.Of([0.5, 1.5], bins: 2);
        all.BucketLimits.Should().Equal(0.5, 1.0, 1.5);
        all.BucketCounts.Should().Equal(0, 1, 1);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(null)]
    public void HistogramOf_EveryBucketHoldsTheValuesBetweenItsEdges(int? bins)
    {
        // Random values, some exactly on edges, counted bucket by bucket by the definition (left edge in, right edge out,
        // the last bucket closed) — against the binary search the writer uses.
        var random = new Random(4);
        var values = Enumerable.Range(0, 5000).Select(_ => Math.Round((random.NextDouble() - 0.3) * 50, 1)).ToList();
        values.AddRange(HistogramData.TensorFlowEdges.Where(e => Math.Abs(e) < 20).Take(30));
        var h = HistogramData.Of(values.ToArray(), bins);
        h.BucketCounts.Sum().Should().Be(values.Count, "every value lies within the edges");
        double lastEdge = h.BucketLimits[^1];
        for (int k = 1; k < h.BucketLimits.Count; k++)
        {
            double left = h.BucketLimits[k - 1], right = h.BucketLimits[k];
            int expected = values.Count(v => v >= left && (v < right || (v == right && right == lastEdge && bins is not null)));
            h.BucketCounts[k].Should().Be(expected, "bucket [{0}, {1})", left, right);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData(7)]
    public void Float32Values_AreCountedAsTheSameValuesWidened_AlsoFromHalfPrecisionTensors(int? bins)
    {
        var random = new Random(3);
        var floats = Enumerable.Range(0, 4000).Select(i => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 6))))
            .Concat([0f, -0f, float.Epsilon, -float.Epsilon, 1e-12f, -1e-12f, 1.1f, float.MaxValue / 2])
            .Concat(HistogramData.TensorFlowEdges.Where(e => Math.Abs(e) < 1e6).Select(e => (float)e).Take(60)).ToArray();
        var widened = HistogramData.Of(floats.Select(f => (double)f).ToArray(), bins);
        HistogramData.Of(floats, bins).Should().BeEquivalentTo(widened, o => o.WithStrictOrdering());

        using var scope = Tensors.NewDisposeScope();
        var tensor = Tensors.FromArray(floats.Take(1000).ToArray(), 10, 100);
        var half = tensor.To(ScalarType.BFloat16);
        string path;
        using (var w = NewWriter(flush: TimeSpan.Zero))
        {
            w.AddHistogram("f32", tensor, 1, bins);
            w.AddHistogram("bf16", half, 2, bins);
            path = w.EventFilePath;
        }
        var events = EventFileReader.Read(path).Where(e => e.Values.Count > 0).ToList();
        events[0].Values[0].Histogram.Should().BeEquivalentTo(HistogramData.Of(floats.Take(1000).Select(f => (double)f).ToArray(), bins), o => o.WithStrictOrdering());
        var halfValues = half.To(ScalarType.Float64).ToArray<double>();
        events[1].Values[0].Histogram.Should().BeEquivalentTo(HistogramData.Of(halfValues, bins), o => o.WithStrictOrdering());
    }

    [Fact]
    public void HistogramOf_FindsTheTensorFlowBucket_AtEveryScaleAndOnEveryEdge()
    {
        // Magnitudes from 1e-14 to 1e19 of both signs, 0, and every edge itself: each counted where a scan of the edges
        // puts it (the writer guesses the bucket from a logarithm and then checks the edges).
        var random = new Random(6);
        var edges = HistogramData.TensorFlowEdges;
        var values = Enumerable.Range(0, 3000).Select(_ => (random.Next(2) == 0 ? -1 : 1) * Math.Pow(10, -14 + 33 * random.NextDouble())).ToList();
        values.AddRange(edges);
        values.Add(0);
        var expected = new long[edges.Count - 1];
        foreach (var v in values)
            for (int i = 0; i < expected.Length; i++)
                if (v >= edges[i] && (v < edges[i + 1] || (i == expected.Length - 1 && v == edges[i + 1]))) { expected[i]++; break; }
        int start = Array.FindIndex(expected, c => c > 0), end = Array.FindLastIndex(expected, c => c > 0) + 1;
        var h = HistogramData.Of(values.ToArray());
        var counts = new List<double>();
        if (start == 0) counts.Add(0);
        for (int i = start > 0 ? start - 1 : 0; i < end; i++) counts.Add(expected[i]);
        h.BucketCounts.Should().Equal(counts);
        h.BucketLimits.Should().Equal(edges.Skip(start).Take(end + 1 - start));
    }

    [Fact]
    public void Crc32C_MatchesRfc3720()
    {
        Crc32C.Compute(new byte[32]).Should().Be(0x8A9136AAu);
        Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()).Should().Be(0x62A8AB43u);
        Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()).Should().Be(0x46DD794Eu);
    }

    [Fact]
    public void Reader_StopsQuietlyAtARecordCutShort_ButNamesDamageInside()
    {
        Directory.CreateDirectory(_dir);
        var bytes = File.ReadAllBytes(ReferencePath);
        var cut = Path.Combine(_dir, "cut.tfevents");
        File.WriteAllBytes(cut, bytes[..^5]);
        EventFileReader.Read(cut).Should().HaveCount(8, "the last record is incomplete, as while a writer is writing it");

        var damaged = Path.Combine(_dir, "damaged.tfevents");
        var copy = (byte[])bytes.Clone();
        copy[0x45] ^= 0x01; // inside the second record's data
        File.WriteAllBytes(damaged, copy);
        var e = FluentActions.Invoking(() => EventFileReader.Read(damaged)).Should().Throw<TensorBoardFormatException>().Which;
        e.Path.Should().Be(damaged);
        e.Offset.Should().Be(0x28);
        e.Message.Should().Contain("damaged.tfevents").And.Contain("checksum");

        var text = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(text, "these are not events at all");
        FluentActions.Invoking(() => EventFileReader.Read(text)).Should().Throw<TensorBoardFormatException>().WithMessage("*notes.txt*byte 0*");
    }

    [Fact]
    public void AddScalars_WritesARunPerKey_UnderTheMainTag()
    {
        using (var w = NewWriter())
        {
            w.AddScalars("loss/split", new Dictionary<string, double> { ["train"] = 0.5, ["validation"] = 0.75 }, 3);
            w.AddScalars("loss/split", new Dictionary<string, double> { ["train"] = 0.25 }, 4);
        }
        EventFileReader.ReadScalars(Path.Combine(_dir, "loss_split_train")).Should().Equal(
            new ScalarPoint("loss/split", 3, 1764979200.5, 0.5), new ScalarPoint("loss/split", 4, 1764979200.5, 0.25));
        EventFileReader.ReadScalars(Path.Combine(_dir, "loss_split_validation")).Select(p => (p.Tag, p.Step, p.Value))
            .Should().Equal(("loss/split", 3L, 0.75));
        EventFileReader.ReadScalars(_dir).Should().BeEmpty("the main run holds the file version only");
        var runs = EventFileReader.ReadRuns(_dir);
        runs.Keys.Should().Equal(".", "loss_split_train", "loss_split_validation");
        runs["loss_split_train"].Select(p => p.Value).Should().Equal(0.5, 0.25);
        FluentActions.Invoking(() => EventFileReader.ReadRuns(Path.Combine(_dir, "none"))).Should().Throw<DirectoryNotFoundException>().WithMessage("*none: no such log folder.");
    }

    [Fact]
    public void AddImage_WritesAPngOfTheScaledPixels_InEveryLayout()
    {
        // 2×3 RGB, CHW, intensities in [0, 1] with values outside clipped: red 0→1 across, green constant, blue 0.
        float[] chw =
        [
            0f, 0.5f, 1f, -0.2f, 0.25f, 1.7f,
            0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f,
            0, 0, 0, 0, 0, 0,
        ];
        using var image = Tensors.FromArray(chw, 3, 2, 3);
        using var hwc = image.Permute(1, 2, 0).Contiguous();
        using var grey = Tensors.FromArray(new byte[] { 0, 128, 255, 7 }, 2, 2);
        using var batch = Tensors.FromArray(Enumerable.Range(0, 10 * 2 * 2).Select(i => (byte)i).ToArray(), 10, 1, 2, 2);
        using (var w = NewWriter())
        {
            w.AddImage("chw", image, 1);
            w.AddImage("hwc", hwc, 1, "HWC");
            w.AddImage("grey", grey, 1, "HW");
            w.AddImages("batch", batch, 1);
        }
        var images = EventFileReader.Read(Directory.GetFiles(_dir).Single()).SelectMany(e => e.Values).ToDictionary(v => v.Tag, v => v.Image!);
        byte[] expectedRgb = [0, 25, 0, 127, 25, 0, 255, 25, 0, 0, 25, 0, 63, 25, 0, 255, 25, 0];
        foreach (var tag in new[] { "chw", "hwc" })
        {
            var (h, wd, c, pixels) = PngPixels(images[tag].Encoded.ToArray());
            (h, wd, c).Should().Be((2, 3, 3));
            (images[tag].Height, images[tag].Width, images[tag].Colorspace).Should().Be((2, 3, 3));
            pixels.Should().Equal(expectedRgb, "float32 ×255, clipped, truncated, as PyTorch converts ({0})", tag);
        }
        PngPixels(images["grey"].Encoded.ToArray()).Should().BeEquivalentTo((2, 2, 1, new byte[] { 0, 128, 255, 7 }));
        // 10 images of 2×2 in rows of 8: a 4×16 grid, the second row's last 6 cells black.
        var (gh, gw, gc, grid) = PngPixels(images["batch"].Encoded.ToArray());
        (gh, gw, gc).Should().Be((4, 16, 1));
        grid[0 * 16 + 2].Should().Be(4, "image 1's top-left pixel is its value 4, right of image 0");
        grid[3 * 16 + 3].Should().Be(39, "image 9 (row 1, column 1) ends with its value 39");
        grid[3 * 16 + 15].Should().Be(0);
    }

    [Fact]
    public void AddEmbedding_WritesTheProjectorsFiles_AsPyTorchLaysThemOut()
    {
        // 5 points of 3 dimensions with grades and 2×2 grey images; then a second embedding without images.
        float[] points = [0.1f, -2f, 3.5f, 1e-7f, 0f, 1f, 2f, 2f, 2f, -1f, 0.5f, 0.25f, 4f, 5f, 6f];
        using var embeddings = Tensors.FromArray(points, 5, 3);
        using var images = Tensors.FromArray(Enumerable.Range(0, 5 * 4).Select(i => (byte)(i * 10)).ToArray(), 5, 1, 2, 2);
        using (var w = NewWriter())
        {
            w.AddEmbedding(embeddings, ["grade 0", "grade 1", "grade 1", "grade 4", "grade 2"], images, globalStep: 7, tag: "test/features");
            w.AddEmbedding(embeddings, globalStep: 8);
            FluentActions.Invoking(() => w.AddEmbedding(embeddings, globalStep: 8)).Should().Throw<ArgumentException>().WithMessage("An embedding \"default\" of step 8 is already in*");
        }
        var folder = Path.Combine(_dir, "00007", "test%2ffeatures");
        var rows = File.ReadAllLines(Path.Combine(folder, "tensors.tsv"));
        rows.Should().HaveCount(5);
        rows.Select(r => r.Split('\t').Select(v => (float)double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).SelectMany(r => r).Should().Equal(points);
        rows[0].Should().Be("0.10000000149011612\t-2\t3.5", "each float32 written as the double it is, to the last digit (PyTorch writes str(float); the projector parses either form)");
        File.ReadAllLines(Path.Combine(folder, "metadata.tsv")).Should().Equal("grade 0", "grade 1", "grade 1", "grade 4", "grade 2");
        // ⌈√5⌉ = 3 columns of 2×2 images, padded to 3 rows: 6×6, the images in row-major order, then black.
        var (h, wd, c, sprite) = PngPixels(File.ReadAllBytes(Path.Combine(folder, "sprite.png")));
        (h, wd, c).Should().Be((6, 6, 1));
        sprite[0 * 6 + 2].Should().Be(40, "image 1's top-left pixel (value 4·10) sits right of image 0");
        sprite[3 * 6 + 1].Should().Be(150, "image 3 (row 1, column 0) ends with its value 15·10");
        sprite[5 * 6 + 5].Should().Be(0);
        File.ReadAllText(Path.Combine(_dir, "projector_config.pbtxt")).Should().Be(
            "embeddings {\n  tensor_name: \"test/features:00007\"\n  metadata_path: \"00007/test%2ffeatures/metadata.tsv\"\n" +
            "  sprite {\n    image_path: \"00007/test%2ffeatures/sprite.png\"\n    single_image_dim: 2\n    single_image_dim: 2\n  }\n" +
            "  tensor_path: \"00007/test%2ffeatures/tensors.tsv\"\n}\n" +
            "embeddings {\n  tensor_name: \"default:00008\"\n  tensor_path: \"00008/default/tensors.tsv\"\n}\n");
        Directory.EnumerateFiles(_dir, "*.tmp*", SearchOption.AllDirectories).Should().BeEmpty("every file is written whole");
    }

    [Fact]
    public void AddEmbedding_RefusesWhatTheProjectorCannotShow()
    {
        using var w = NewWriter();
        using var three = Tensors.Zeros(3, 2);
        using (var flat = Tensors.Zeros(6))
            FluentActions.Invoking(() => w.AddEmbedding(flat)).Should().Throw<ArgumentException>().WithMessage("The embeddings must be (N, D)*[6]*");
        FluentActions.Invoking(() => w.AddEmbedding(three, ["a", "b"])).Should().Throw<ArgumentException>().WithMessage("2 labels were given for 3 points.*");
        FluentActions.Invoking(() => w.AddEmbedding(three, ["a", "b\tc", "d"])).Should().Throw<ArgumentException>().WithMessage("Label 1 is null or holds a tab or line break*");
        using (var images = Tensors.Zeros(2, 1, 4, 4))
            FluentActions.Invoking(() => w.AddEmbedding(three, labelImages: images)).Should().Throw<ArgumentException>().WithMessage("*(N, C, H, W) with N = 3*[2, 1, 4, 4]*");
        using (var nan = Tensors.Full([3, 2], double.NaN))
            FluentActions.Invoking(() => w.AddEmbedding(nan)).Should().Throw<ArgumentException>().WithMessage("Point 0, dimension 0 is NaN*");
        Directory.GetDirectories(_dir).Should().BeEmpty("nothing is written for a refused call");
        File.Exists(Path.Combine(_dir, "projector_config.pbtxt")).Should().BeFalse();
    }

    [Fact]
    public void Flushing_FollowsTheInterval_AndDisposeWritesEverything()
    {
        var clock = ManualClock.AtUnixSeconds(1_800_000_000);
        using var w = NewWriter(clock);
        w.AddScalar("a", 1, 1);
        EventFileReader.Read(w.EventFilePath).Should().HaveCount(1, "only the file version is written out before the interval");
        clock.Now = clock.Now.AddSeconds(121);
        w.AddScalar("a", 2, 2);
        EventFileReader.ReadScalars(w.EventFilePath).Select(p => p.Value).Should().Equal(1, 2);
        w.AddScalar("a", 3, 3);
        w.Flush();
        EventFileReader.ReadScalars(w.EventFilePath).Select(p => p.Value).Should().Equal(1, 2, 3);
        w.Dispose();
        FluentActions.Invoking(() => w.AddScalar("a", 4, 4)).Should().Throw<ObjectDisposedException>();
        w.Dispose();
    }

    [Fact]
    public void AnIdleWriter_IsFlushedByItsTimer_AndDisposingStopsTheTimer()
    {
        var clock = ManualClock.AtUnixSeconds(1_800_000_000);
        var w = NewWriter(clock);
        clock.ActiveTimers.Should().Be(1);
        w.AddScalar("a", 1, 1);
        w.AddScalars("pair", new Dictionary<string, double> { ["x"] = 5 }, 1);
        var pairFile = Directory.GetFiles(Path.Combine(_dir, "pair_x"), "events.out.tfevents.*").Single();
        EventFileReader.ReadScalars(w.EventFilePath).Should().BeEmpty("no event is written out before the interval");
        EventFileReader.ReadScalars(pairFile).Should().BeEmpty();
        clock.Advance(TimeSpan.FromSeconds(119));
        EventFileReader.ReadScalars(w.EventFilePath).Should().BeEmpty();
        clock.Advance(TimeSpan.FromSeconds(2));   // the timer's first tick, with no new event
        EventFileReader.ReadScalars(w.EventFilePath).Select(p => p.Value).Should().Equal(1);
        EventFileReader.ReadScalars(pairFile).Select(p => p.Value).Should().Equal(new[] { 5.0 }, "the runs of AddScalars are flushed too");
        w.AddScalar("a", 2, 2);
        clock.Advance(TimeSpan.FromSeconds(120)); // and every interval after
        EventFileReader.ReadScalars(w.EventFilePath).Select(p => p.Value).Should().Equal(1, 2);
        w.Dispose();
        clock.ActiveTimers.Should().Be(0, "disposal stops the timer");
        clock.Advance(TimeSpan.FromSeconds(600));
        using (var noTimer = NewWriter(clock, TimeSpan.Zero)) clock.ActiveTimers.Should().Be(0, "a zero interval writes every event at once and needs no timer");
    }

    [Fact]
    public void ManyThreads_EveryPointWrittenWhole()
    {
        string path;
        using (var w = NewWriter(flush: TimeSpan.Zero))
        {
            Parallel.For(0, 4, t =>
            {
                for (int i = 0; i < 250; i++) w.AddScalar($"thread{t}", i, i);
            });
            path = w.EventFilePath;
        }
        var points = EventFileReader.ReadScalars(path);
        points.Should().HaveCount(1000);
        points.GroupBy(p => p.Tag).Should().AllSatisfy(g => g.Select(p => p.Value).Order().Should().Equal(Enumerable.Range(0, 250).Select(i => (double)i)));
    }

    [Fact]
    public void DefaultFolder_IsRunsDateMachineComment()
    {
        var cwd = Environment.CurrentDirectory;
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 6, 14, 5, 9, TimeSpan.Zero));
        string folder;
        using (var w = new SummaryWriter(null, new SummaryWriterOptions { TimeProvider = clock, Comment = "_lr0.1", FileNameSuffix = ".v1" }))
        {
            folder = w.LogDirectory;
            Path.GetFileName(w.EventFilePath).Should().EndWith(".v1");
        }
        try
        {
            var local = clock.GetLocalNow();
            folder.Should().Be(Path.Combine("runs", $"{local:MMMdd_HH-mm-ss}_{Environment.MachineName}_lr0.1"));
            Directory.Exists(Path.Combine(cwd, folder)).Should().BeTrue();
        }
        finally
        {
            Directory.Delete(Path.Combine(cwd, folder), recursive: true);
        }
    }

    [Fact]
    public void BadInput_IsRefusedByName_AndWritesNothing()
    {
        using var w = NewWriter();
        var before = new FileInfo(w.EventFilePath).Length;
        FluentActions.Invoking(() => w.AddScalar(" ", 1)).Should().Throw<ArgumentException>().WithParameterName("tag");
        FluentActions.Invoking(() => w.AddScalar(null!, 1)).Should().Throw<ArgumentNullException>().WithParameterName("tag");
        FluentActions.Invoking(() => w.AddScalar("a", 1, 0, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("wallTime");
        using (var two = Tensors.Zeros(2))
            FluentActions.Invoking(() => w.AddScalar("a", two)).Should().Throw<ArgumentException>().WithMessage("*one-element*[2]*");
        FluentActions.Invoking(() => w.AddHistogram("h", ReadOnlySpan<double>.Empty)).Should().Throw<ArgumentException>().WithMessage("*at least one value*");
        FluentActions.Invoking(() => w.AddHistogram("h", [1.0, double.NaN])).Should().Throw<ArgumentException>().WithMessage("*value 1 is NaN*");
        FluentActions.Invoking(() => w.AddHistogram("h", [1.0], bins: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("bins");
        FluentActions.Invoking(() => w.AddHistogram("h", [1e30])).Should().Throw<ArgumentException>().WithMessage("*None of the 1 values*");
        using (var five = Tensors.Zeros(5, 4, 4))
            FluentActions.Invoking(() => w.AddImage("i", five)).Should().Throw<ArgumentException>().WithMessage("*5 channels*1 (grey), 3 (RGB) or 4 (RGBA)*");
        using (var flat = Tensors.Zeros(4, 4))
        {
            FluentActions.Invoking(() => w.AddImage("i", flat)).Should().Throw<ArgumentException>().WithMessage("*\"CHW\" names 3 axes*2*");
            FluentActions.Invoking(() => w.AddImage("i", flat, dataFormats: "NCHW")).Should().Throw<ArgumentException>().WithParameterName("dataFormats");
            FluentActions.Invoking(() => w.AddImages("i", flat)).Should().Throw<ArgumentException>().WithMessage("*\"NCHW\" names 4 axes*");
        }
        using (var nan = Tensors.Full([1, 2, 2], double.NaN))
            FluentActions.Invoking(() => w.AddImage("i", nan)).Should().Throw<ArgumentException>().WithMessage("*NaN at element 0*");
        FluentActions.Invoking(() => w.AddScalars("m", new Dictionary<string, double> { ["a/b"] = 1 })).Should().Throw<ArgumentException>().WithMessage("*\"a/b\" cannot name a run folder*");
        FluentActions.Invoking(() => w.AddText("t", null!)).Should().Throw<ArgumentNullException>().WithParameterName("text");
        w.Flush();
        new FileInfo(w.EventFilePath).Length.Should().Be(before);
        Directory.GetDirectories(_dir).Should().BeEmpty();

        FluentActions.Invoking(() => new SummaryWriter("  ")).Should().Throw<ArgumentException>().WithParameterName("logDirectory");
        FluentActions.Invoking(() => new SummaryWriter(_dir, new SummaryWriterOptions { FlushInterval = TimeSpan.FromSeconds(-1) }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*must not be negative*");
        FluentActions.Invoking(() => new SummaryWriter(_dir, new SummaryWriterOptions { FileNameSuffix = "a/b" }))
            .Should().Throw<ArgumentException>().WithMessage("*suffix*");
    }

    // A PNG read with System.IO.Compression's zlib: chunks walked, CRCs of each checked, rows unfiltered (filter 0).
    private static (int Height, int Width, int Channels, byte[] Pixels) PngPixels(byte[] png)
    {
        png[..8].Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A);
        int pos = 8, height = 0, width = 0, channels = 0;
        using var idat = new MemoryStream();
        while (pos < png.Length)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, length);
            var crc = new System.IO.Hashing.Crc32();
            crc.Append(png.AsSpan(pos + 4, 4 + length));
            System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length)).Should().Be(crc.GetCurrentHashAsUInt32(), "chunk {0}'s CRC", type);
            if (type == "IHDR")
            {
                width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data);
                height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                channels = data[9] switch { 0 => 1, 4 => 2, 2 => 3, 6 => 4, _ => -1 };
                data[8].Should().Be(8);
            }
            if (type == "IDAT") idat.Write(data);
            pos += 12 + length;
        }
        idat.Position = 0;
        using var z = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        int row = width * channels;
        bytes.Length.Should().Be(height * (row + 1));
        var pixels = new byte[height * row];
        for (int y = 0; y < height; y++)
        {
            bytes[y * (row + 1)].Should().Be(0, "every row is written with filter 0");
            Array.Copy(bytes, y * (row + 1) + 1, pixels, y * row, row);
        }
        return (height, width, channels, pixels);
    }
}
