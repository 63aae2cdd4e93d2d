using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FineTuning.Models;

namespace FineTuning.Tests.Models;

public class WeightsDownloaderTests
{
    private static readonly byte[] Content = MakeContent();
    private static readonly string Good = $"tiny-{Convert.ToHexStringLower(SHA256.HashData(Content))[..8]}.pth";
    private const string Corrupt = "tiny-0badc0de.pth";

    [Fact]
    public async Task A_good_file_is_downloaded_verified_reported_and_then_served_from_the_cache()
    {
        using var server = Serve();
        var folder = TestFiles.NewFolder("download");
        var downloader = new WeightsDownloader(server.BaseUrl, folder);
        var reports = new List<DownloadProgress>();

        var path = await downloader.EnsureAsync(Good, new SyncProgress<DownloadProgress>(reports.Add));
        var again = await downloader.EnsureAsync(Good);

        Assert.Equal(Path.Combine(folder, Good), path);
        Assert.Equal(path, again);
        Assert.Equal(Content, await File.ReadAllBytesAsync(path));
        Assert.Equal(new DownloadProgress(Good, Content.Length, Content.Length), reports[^1]);
        Assert.True(reports.Count >= 3, $"only {reports.Count} progress reports for a 3 MiB file");
        Assert.Single(server.Requests);
        Assert.Equal([Good], Directory.GetFiles(folder).Select(Path.GetFileName));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task An_interrupted_download_resumes_from_the_partial_file()
    {
        using var server = Serve();
        var folder = TestFiles.NewFolder("download");
        await File.WriteAllBytesAsync(Path.Combine(folder, Good + ".partial"), Content[..1_000_000]);
        var downloader = new WeightsDownloader(server.BaseUrl, folder);

        var path = await downloader.EnsureAsync(Good);

        Assert.Equal(Content, await File.ReadAllBytesAsync(path));
        Assert.Contains("Range: bytes=1000000-", server.Requests.Single());
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task A_corrupted_file_fails_the_hash_check_and_is_not_kept()
    {
        using var server = Serve();
        var folder = TestFiles.NewFolder("download");
        var downloader = new WeightsDownloader(server.BaseUrl, folder);

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(() => downloader.EnsureAsync(Corrupt));

        Assert.Contains("corrupt", error.Message);
        Assert.Contains("0badc0de", error.Message);
        Assert.Empty(Directory.GetFiles(folder));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task A_missing_file_reports_the_404_and_where_to_put_the_file_by_hand()
    {
        using var server = Serve();
        var folder = TestFiles.NewFolder("download");
        var downloader = new WeightsDownloader(server.BaseUrl, folder);

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(
            () => downloader.EnsureAsync("resnet18-f37072fd.pth"));

        Assert.Contains("404", error.Message);
        Assert.Contains(server.BaseUrl + "resnet18-f37072fd.pth", error.Message);
        Assert.Contains(Path.Combine(folder, "resnet18-f37072fd.pth"), error.Message);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task Offline_the_error_says_which_file_to_download_by_hand_and_where_to_put_it()
    {
        var folder = TestFiles.NewFolder("download");
        var downloader = new WeightsDownloader($"http://127.0.0.1:{ClosedPort()}/models/", folder);

        var error = await Assert.ThrowsAsync<WeightsDownloadException>(
            () => downloader.EnsureAsync("resnet50-0676ba61.pth"));

        Assert.Contains("resnet50-0676ba61.pth", error.Message);
        Assert.Contains("by hand", error.Message);
        Assert.Contains(Path.Combine(folder, "resnet50-0676ba61.pth"), error.Message);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Published_file_names_carry_their_hash_prefix()
    {
        Assert.Equal("f37072fd", WeightsDownloader.HashPrefixOf("resnet18-f37072fd.pth"));
        Assert.Null(WeightsDownloader.HashPrefixOf("weights.pth"));
        Assert.All(TorchVisionWeights.All, w => Assert.Equal(8, w.HashPrefix.Length));
        Assert.Equal("resnet50-0676ba61.pth", TorchVisionWeights.Default("resnet50")!.FileName);
        Assert.Equal(232, TorchVisionWeights.Find("resnet50", "V2")!.Preset.ResizeShorter);
    }

    private static LocalHttpServer Serve()
    {
        var corrupt = (byte[])Content.Clone();
        corrupt[12345] ^= 0xFF;
        return new LocalHttpServer(new() { [Good] = Content, [Corrupt] = corrupt });
    }

    private static byte[] MakeContent()
    {
        var bytes = new byte[3 << 20];
        new Random(7).NextBytes(bytes);
        return bytes;
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    // Reports on the calling thread (Progress<T> posts to the thread pool, too late to assert on).
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
