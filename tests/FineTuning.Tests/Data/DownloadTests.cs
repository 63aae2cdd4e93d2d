using System.CommandLine;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using FineTuning.Cli.Commands;
using FineTuning.Data;
using SkiaSharp;

namespace FineTuning.Tests.Data;

public sealed class DownloadTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FixtureServer _server = new();

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    private static byte[] Jpeg(SKColor color)
    {
        using var bitmap = TestImages.Solid(24, 16, color);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    /// <summary>A tar (optionally gzip-compressed) of the given entries; null data makes a directory.</summary>
    private static byte[] Tar(bool gzip, params (string Name, byte[]? Data)[] entries)
    {
        using var buffer = new MemoryStream();
        using (Stream target = gzip ? new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true) : buffer)
        using (var writer = new TarWriter(target, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                var entry = new PaxTarEntry(data is null ? TarEntryType.Directory : TarEntryType.RegularFile, name);
                if (data is not null)
                {
                    entry.DataStream = new MemoryStream(data);
                }

                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    private static byte[] StanfordArchive() => Tar(
        false,
        ("Images/", null),
        ("Images/n02085620-Chihuahua/", null),
        ("Images/n02085620-Chihuahua/n02085620_1.jpg", Jpeg(SKColors.Tan)),
        ("Images/n02085620-Chihuahua/n02085620_2.jpg", Jpeg(SKColors.Wheat)),
        ("Images/n02086240-Shih-Tzu/n02086240_5.jpg", Jpeg(SKColors.White)));

    private static DataSetSource WithChecksum(DataSetSource source, string? sha) =>
        source with { ExpectedSha256 = sha };

    [Fact]
    public async Task Stanford_archive_downloads_and_becomes_a_folder_per_breed()
    {
        var archive = StanfordArchive();
        _server.Files["images.tar"] = archive;
        var progress = new Collector<DownloadProgress>();

        var result = await new DataSetDownloader { BaseUrl = _server.BaseUrl }
            .DownloadAsync(DataSetSource.StanfordDogs, _dir["dogs"], progress: progress);

        Assert.Equal(3, result.Images);
        Assert.Equal(2, result.Classes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), result.ArchiveSha256);
        Assert.False(result.Resumed);
        Assert.Equal(["chihuahua", "shih_tzu"], ImageFolder.Read(_dir["dogs"]).Classes);
        Assert.False(Directory.Exists(_dir["dogs/.extract"]));
        Assert.False(Directory.Exists(_dir["dogs/.download"])); // archive removed after success
        Assert.Contains(progress.Items, p => p.Phase == DownloadPhase.Download && p.Done == archive.Length);
        Assert.Contains(progress.Items, p => p.Phase == DownloadPhase.Extract);
    }

    [Fact]
    public async Task Oxford_tar_gz_keeps_only_dogs()
    {
        _server.Files["images.tar.gz"] = Tar(
            true,
            ("images/beagle_1.jpg", Jpeg(SKColors.Brown)),
            ("images/pug_3.jpg", Jpeg(SKColors.Tan)),
            ("images/Abyssinian_1.jpg", Jpeg(SKColors.Orange)),
            ("images/._beagle_1.jpg", [0, 5, 22, 7]));

        var result = await new DataSetDownloader { BaseUrl = _server.BaseUrl, KeepArchive = true }
            .DownloadAsync(DataSetSource.OxfordPets, _dir["pets"]);

        Assert.Equal(2, result.Images);
        Assert.Equal(["beagle", "pug"], ImageFolder.Read(_dir["pets"]).Classes);
        Assert.True(File.Exists(_dir["pets/.download/images.tar.gz"]));
        Assert.True(File.Exists(_dir["pets/.download/images.tar.gz.sha256"]));
    }

    [Fact]
    public async Task An_interrupted_download_resumes_with_a_range_request()
    {
        var archive = StanfordArchive();
        _server.Files["images.tar"] = archive;
        _server.CutOnceAfter = archive.Length / 3;
        var downloader = new DataSetDownloader { BaseUrl = _server.BaseUrl };

        var error = await Assert.ThrowsAsync<DataSetDownloadException>(
            () => downloader.DownloadAsync(DataSetSource.StanfordDogs, _dir["dogs"]));
        Assert.Contains("resumes", error.Message);
        string part = _dir["dogs/.download/images.tar.part"];
        Assert.Equal(archive.Length / 3, new FileInfo(part).Length);

        var result = await downloader.DownloadAsync(DataSetSource.StanfordDogs, _dir["dogs"]);

        Assert.True(result.Resumed);
        Assert.Equal($"bytes={archive.Length / 3}-", _server.Ranges[^1]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), result.ArchiveSha256);
        Assert.Equal(3, result.Images);
    }

    [Theory]
    [InlineData("traversal")]
    [InlineData("absolute")]
    [InlineData("symlink")]
    [InlineData("hardlink")]
    public async Task A_hostile_archive_is_refused_and_leaves_nothing_behind(string kind)
    {
        string outside = _dir[$"evil-{kind}.txt"];
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            var good = new PaxTarEntry(TarEntryType.RegularFile, "Images/n02085620-Chihuahua/n02085620_1.jpg")
            {
                DataStream = new MemoryStream(Jpeg(SKColors.Tan)),
            };
            writer.WriteEntry(good);
            PaxTarEntry bad = kind switch
            {
                "traversal" => new PaxTarEntry(TarEntryType.RegularFile, $"Images/../../evil-{kind}.txt"),
                "absolute" => new PaxTarEntry(TarEntryType.RegularFile, outside),
                "symlink" => new PaxTarEntry(TarEntryType.SymbolicLink, "Images/n02085620-Chihuahua/link")
                {
                    LinkName = "/etc/passwd",
                },
                _ => new PaxTarEntry(TarEntryType.HardLink, "Images/n02085620-Chihuahua/hardlink")
                {
                    LinkName = "/etc/passwd",
                },
            };
            if (bad.EntryType == TarEntryType.RegularFile)
            {
                bad.DataStream = new MemoryStream("pwned"u8.ToArray());
            }

            writer.WriteEntry(bad);
        }

        _server.Files["images.tar"] = buffer.ToArray();

        var error = await Assert.ThrowsAsync<UnsafeArchiveException>(() =>
            new DataSetDownloader { BaseUrl = _server.BaseUrl }
                .DownloadAsync(DataSetSource.StanfordDogs, _dir["dogs"]));

        Assert.Contains(kind.EndsWith("link", StringComparison.Ordinal) ? "link" : "evil", error.Entry);
        Assert.False(File.Exists(outside));
        Assert.False(Directory.Exists(_dir["dogs/.extract"]));
        Assert.DoesNotContain(Directory.GetDirectories(_dir["dogs"]), d => !Path.GetFileName(d).StartsWith('.'));
    }

    [Fact]
    public async Task Offline_the_error_says_how_to_download_by_hand()
    {
        var offline = new DataSetDownloader { BaseUrl = "http://127.0.0.1:9/nothing-listens-here" };

        var error = await Assert.ThrowsAsync<DataSetDownloadException>(
            () => offline.DownloadAsync(DataSetSource.StanfordDogs, _dir["dogs"]));

        Assert.Contains(StanfordDogs.ImagesUrl, error.Message);
        Assert.Contains("--archive FILE", error.Message);
        Assert.Contains("n02085620-Chihuahua", error.Message);
    }

    [Fact]
    public async Task A_checksum_mismatch_is_refused_and_a_match_accepted()
    {
        var archive = StanfordArchive();
        string path = _dir["images.tar"];
        await File.WriteAllBytesAsync(path, archive);
        var downloader = new DataSetDownloader();

        var error = await Assert.ThrowsAsync<DataSetDownloadException>(() => downloader.DownloadAsync(
            WithChecksum(DataSetSource.StanfordDogs, new string('0', 64)), _dir["bad"], archive: path));
        Assert.Contains("SHA-256", error.Message);
        File.Delete(path + ".sha256");

        string sha = Convert.ToHexStringLower(SHA256.HashData(archive));
        var result = await downloader.DownloadAsync(
            WithChecksum(DataSetSource.StanfordDogs, sha), _dir["good"], archive: path);
        Assert.Equal(3, result.Images);
        Assert.True(File.Exists(path)); // an archive given by hand is never deleted
    }

    [Fact]
    public async Task The_download_command_writes_breed_folders_and_fails_cleanly_offline()
    {
        _server.Files["images.tar"] = StanfordArchive();
        var root = new RootCommand { DownloadCommand.Create() };

        int ok = await root.Parse(
            ["download", "stanford-dogs", "--to", _dir["cli"], "--base-url", _server.BaseUrl]).InvokeAsync();
        int offline = await root.Parse(
            ["download", "oxford-pets", "--to", _dir["off"], "--base-url", "http://127.0.0.1:9/x"]).InvokeAsync();
        int unknown = await root.Parse(["download", "imagenet", "--to", _dir["x"]]).InvokeAsync();

        Assert.Equal(0, ok);
        Assert.Equal(["chihuahua", "shih_tzu"], ImageFolder.Read(_dir["cli"]).Classes);
        Assert.Equal(1, offline);
        Assert.NotEqual(0, unknown);
    }
}
