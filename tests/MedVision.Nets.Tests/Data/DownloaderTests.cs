using System.Security.Cryptography;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Download;
using MedVision.Nets.Data.MedMnist;

namespace MedVision.Nets.Tests.Data;

public class DownloaderTests
{
    private static string Md5Of(byte[] bytes) => Convert.ToHexString(MD5.HashData(bytes)).ToLowerInvariant();

    private static byte[] EmbeddedRetina()
    {
        using Stream s = MedMnistDataset.OpenEmbeddedRetinaMnistStream();
        var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>Synchronous progress sink (Progress&lt;T&gt; posts asynchronously).</summary>
    private sealed class Recorder : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = [];

        public void Report(DownloadProgress value)
        {
            lock (Reports)
            {
                Reports.Add(value);
            }
        }
    }

    [Fact]
    public async Task Downloads_and_verifies_against_the_catalog_checksum()
    {
        using var server = new LocalHttpServer();
        using var cache = new TempFolder();
        byte[] retina = EmbeddedRetina();
        server.Files["retinamnist.npz"] = retina;
        var downloader = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = server.BaseUri };
        var progress = new Recorder();

        string path = await downloader.DownloadAsync("retinamnist", progress: progress);

        path.Should().Be(Path.Combine(cache.Path, "retinamnist.npz"));
        cache.ListFiles().Should().Equal("retinamnist.npz");
        Md5.OfFile(path).Should().Be(MedMnistCatalog.RetinaMnist.GetMd5(28));
        progress.Reports.Last().Should().Be(new DownloadProgress(retina.Length, retina.Length));
        progress.Reports.Select(r => r.BytesReceived).Should().BeInAscendingOrder();
        server.RangeHeaders.Should().Equal(new string?[] { null });

        MedMnistDataset data = await downloader.LoadAsync("retinamnist");
        data.Train.Count.Should().Be(1080);
        server.RequestCount.Should().Be(1, "the cached, verified file is reused");
    }

    [Fact]
    public async Task Checksum_mismatch_raises_and_leaves_nothing_in_the_cache()
    {
        using var server = new LocalHttpServer();
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(1, [28, 28, 3], 5);
        server.Files["retinamnist.npz"] = content;
        var downloader = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = server.BaseUri };

        Func<Task> wrongFile = () => downloader.DownloadAsync("retinamnist");
        (await wrongFile.Should().ThrowAsync<ChecksumMismatchException>())
            .Where(e => e.Message.Contains("retinamnist.npz") && e.ExpectedMd5 == "bd4c0672f1bba3e3a89f0e4e876791e4" && e.ActualMd5 == Md5Of(content));
        cache.ListFiles().Should().BeEmpty();

        server.ServeWrongBytes = true;
        Func<Task> wrongBytes = () => downloader.DownloadAsync("retinamnist", expectedMd5: Md5Of(content));
        (await wrongBytes.Should().ThrowAsync<ChecksumMismatchException>()).Where(e => e.ExpectedMd5 == Md5Of(content));
        cache.ListFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task Interrupted_transfer_resumes_with_a_range_request()
    {
        using var server = new LocalHttpServer();
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(2, [64, 64, 3], 5);
        string md5 = Md5Of(content);
        server.Files["retinamnist_64.npz"] = content;
        var downloader = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = server.BaseUri };

        server.CutNextResponseAfter = content.Length / 3;
        Func<Task> first = () => downloader.DownloadAsync("retinamnist", 64, expectedMd5: md5);
        (await first.Should().ThrowAsync<IOException>()).Where(e => e.Message.Contains("retinamnist_64.npz") && e.Message.Contains("resume"));
        File.Exists(downloader.GetCachePath("retinamnist", 64)).Should().BeFalse("nothing unverified may appear under the final name");
        string partial = downloader.GetCachePath("retinamnist", 64) + VerifiedDownloader.PartialSuffix;
        long kept = new FileInfo(partial).Length;
        kept.Should().BeGreaterThan(0).And.BeLessThan(content.Length);

        var progress = new Recorder();
        string path = await downloader.DownloadAsync("retinamnist", 64, expectedMd5: md5, progress: progress);

        File.ReadAllBytes(path).Should().Equal(content);
        server.RangeHeaders.Should().Equal(null, $"bytes={kept}-");
        progress.Reports.First().BytesReceived.Should().Be(kept);
        progress.Reports.Last().Should().Be(new DownloadProgress(content.Length, content.Length));
        cache.ListFiles().Should().Equal("retinamnist_64.npz");
    }

    [Fact]
    public async Task Restarts_when_the_server_ignores_ranges_or_the_partial_file_is_corrupt()
    {
        using var server = new LocalHttpServer();
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(3, [28, 28], 2);
        string md5 = Md5Of(content);
        server.Files["breastmnist.npz"] = content;
        var downloader = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = server.BaseUri };
        string partial = downloader.GetCachePath("breastmnist") + VerifiedDownloader.PartialSuffix;

        // Server without range support: the stale partial data is replaced by the full body.
        server.SupportsRange = false;
        File.WriteAllBytes(partial, content[..100]);
        (await downloader.DownloadAsync("breastmnist", expectedMd5: md5)).Should().Be(downloader.GetCachePath("breastmnist"));
        File.ReadAllBytes(downloader.GetCachePath("breastmnist")).Should().Equal(content);
        server.RangeHeaders.Should().Equal("bytes=100-");

        // Corrupt partial data: the resumed file fails verification, so it is discarded and fetched again in full.
        File.Delete(downloader.GetCachePath("breastmnist"));
        server.SupportsRange = true;
        File.WriteAllBytes(partial, new byte[200]);
        await downloader.DownloadAsync("breastmnist", expectedMd5: md5);
        File.ReadAllBytes(downloader.GetCachePath("breastmnist")).Should().Equal(content);
        server.RangeHeaders.Skip(1).Should().Equal("bytes=200-", null);
        cache.ListFiles().Should().Equal("breastmnist.npz");
    }

    [Fact]
    public async Task Cached_file_is_used_offline_and_a_damaged_one_is_discarded()
    {
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(4, [28, 28], 4);
        string md5 = Md5Of(content);
        Uri baseUri;
        using (var server = new LocalHttpServer())
        {
            server.Files["octmnist.npz"] = content;
            baseUri = server.BaseUri;
            await new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = baseUri }.DownloadAsync("octmnist", expectedMd5: md5);
        }

        var offline = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = baseUri };
        string path = await offline.DownloadAsync("octmnist", expectedMd5: md5);
        File.ReadAllBytes(path).Should().Equal(content);

        File.WriteAllBytes(path, content[..50]);
        Func<Task> damaged = () => offline.DownloadAsync("octmnist", expectedMd5: md5);
        await damaged.Should().ThrowAsync<HttpRequestException>("the damaged copy is not trusted and the server is gone");
        cache.ListFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task Copies_from_a_file_uri_source()
    {
        using var source = new TempFolder();
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(5, [28, 28, 28], 11);
        File.WriteAllBytes(source.File("organmnist3d_64.npz"), content);
        var downloader = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = new Uri(source.Path + "/") };
        downloader.GetSourceUri("organmnist3d", 64).IsFile.Should().BeTrue();

        string path = await downloader.DownloadAsync("organmnist3d", 64, expectedMd5: Md5Of(content));
        File.ReadAllBytes(path).Should().Equal(content);

        MedMnistDataset data = MedMnistDataset.Load(path);
        data.Info!.Name.Should().Be("organmnist3d");
        data.Train.ImageShape.Should().Equal(12, 28, 28, 28);
    }

    [Fact]
    public async Task A_file_source_resumes_a_partial_copy_and_restarts_when_the_partial_data_is_wrong()
    {
        using var source = new TempFolder();
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(6, [28, 28], 3);
        File.WriteAllBytes(source.File("pneumoniamnist.npz"), content);
        var uri = new Uri(source.File("pneumoniamnist.npz"));
        string destination = cache.File("pneumoniamnist.npz");
        string partial = destination + VerifiedDownloader.PartialSuffix;
        var downloader = new VerifiedDownloader();

        File.WriteAllBytes(partial, content[..1000]);
        var progress = new Recorder();
        await downloader.DownloadAsync(uri, destination, Md5Of(content), progress);
        File.ReadAllBytes(destination).Should().Equal(content);
        progress.Reports.First().Should().Be(new DownloadProgress(1000, content.Length), "the copy continued after the kept bytes");
        progress.Reports.Last().Should().Be(new DownloadProgress(content.Length, content.Length));

        File.Delete(destination);
        File.WriteAllBytes(partial, new byte[1000]);
        await downloader.DownloadAsync(uri, destination, Md5Of(content));
        File.ReadAllBytes(destination).Should().Equal(content, "the wrong kept bytes were discarded and the file copied again");
        cache.ListFiles().Should().Equal("pneumoniamnist.npz");

        var missing = new Uri(source.File("missing.npz"));
        (await FluentActions.Awaiting(() => downloader.DownloadAsync(missing, cache.File("missing.npz"), Md5Of(content)))
            .Should().ThrowAsync<FileNotFoundException>()).WithMessage("*missing.npz*does not exist*");
        cache.ListFiles().Should().Equal("pneumoniamnist.npz");
    }

    [Fact]
    public async Task Server_errors_wrong_ranges_and_unsupported_addresses_are_handled()
    {
        using var server = new LocalHttpServer();
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(7, [28, 28], 2);
        server.Files["bloodmnist.npz"] = content;
        var downloader = new VerifiedDownloader();

        // 404: the status is named and nothing is left in the cache.
        var absent = new Uri(server.BaseUri, "dermamnist.npz");
        (await FluentActions.Awaiting(() => downloader.DownloadAsync(absent, cache.File("dermamnist.npz"), Md5Of(content)))
            .Should().ThrowAsync<HttpRequestException>()).Where(e => e.StatusCode == System.Net.HttpStatusCode.NotFound).WithMessage("*dermamnist.npz*404*");
        cache.ListFiles().Should().BeEmpty();

        // A 206 answer that starts elsewhere than the kept bytes end: they are discarded and the file fetched whole.
        server.ServeWrongRange = true;
        string destination = cache.File("bloodmnist.npz");
        File.WriteAllBytes(destination + VerifiedDownloader.PartialSuffix, content[..300]);
        await downloader.DownloadAsync(new Uri(server.BaseUri, "bloodmnist.npz"), destination, Md5Of(content));
        File.ReadAllBytes(destination).Should().Equal(content);
        server.RangeHeaders.Skip(1).Should().Equal("bytes=300-", null);
        cache.ListFiles().Should().Equal("bloodmnist.npz");

        foreach (var address in new[] { new Uri("ftp://example.org/a.npz"), new Uri("a.npz", UriKind.Relative) })
        {
            // Refused when the call is made, not from the returned task.
            Action download = () => _ = downloader.DownloadAsync(address, destination, Md5Of(content));
            download.Should().Throw<ArgumentException>().WithMessage("*not an absolute http, https or file address*").WithParameterName("source");
            Action verified = () => _ = downloader.DownloadAndVerifyAsync(address, destination, FileChecksum.Md5(Md5Of(content)));
            verified.Should().Throw<ArgumentException>().WithParameterName("source");
        }
    }

    [Fact]
    public async Task Unknown_checksum_requires_an_explicit_choice()
    {
        using var server = new LocalHttpServer();
        using var cache = new TempFolder();
        byte[] content = SyntheticMedMnist.NpzBytes(6, [64, 64, 3], 9);
        server.Files["pathmnist_64.npz"] = content;
        var downloader = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = server.BaseUri };

        Func<Task> refused = () => downloader.DownloadAsync("pathmnist", 64);
        (await refused.Should().ThrowAsync<InvalidOperationException>()).Where(e => e.Message.Contains("pathmnist_64.npz") && e.Message.Contains("expectedMd5"));
        server.RequestCount.Should().Be(0);

        string path = await downloader.DownloadAsync("pathmnist", 64, allowUnverified: true);
        File.ReadAllBytes(path).Should().Equal(content);
    }

    [Fact]
    public async Task Cancellation_leaves_no_final_file()
    {
        using var server = new LocalHttpServer();
        using var cache = new TempFolder();
        server.Files["dermamnist.npz"] = SyntheticMedMnist.NpzBytes(7, [28, 28, 3], 7);
        var downloader = new MedMnistDownloader { CacheDirectory = cache.Path, BaseUri = server.BaseUri };
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Func<Task> act = () => downloader.DownloadAsync("dermamnist", expectedMd5: new string('0', 32), cancellationToken: cts.Token);
        await act.Should().ThrowAsync<OperationCanceledException>();
        File.Exists(downloader.GetCachePath("dermamnist")).Should().BeFalse();
    }

    [Fact]
    public void Default_cache_folder_honours_the_environment_variable()
    {
        string? saved = Environment.GetEnvironmentVariable(MedMnistDownloader.DataEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(MedMnistDownloader.DataEnvironmentVariable, "/data/mv");
            MedMnistDownloader.GetDefaultCacheDirectory().Should().Be(Path.Combine("/data/mv", "medmnist"));
            Environment.SetEnvironmentVariable(MedMnistDownloader.DataEnvironmentVariable, null);
            MedMnistDownloader.GetDefaultCacheDirectory().Should().Be(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".medvision", "medmnist"));
            new MedMnistDownloader().GetSourceUri("retinamnist", 128).AbsoluteUri.Should().Be("https://zenodo.org/records/10519652/files/retinamnist_128.npz?download=1");
        }
        finally
        {
            Environment.SetEnvironmentVariable(MedMnistDownloader.DataEnvironmentVariable, saved);
        }
    }
}
