using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace FineTuning.Data;

/// <summary>
/// Downloads a data set archive, resumably, verifies it, unpacks it safely and converts it into a folder per breed.
/// </summary>
/// <remarks>
/// <para>The archive is received into <c>{target}/.download/{name}.part</c>; an interrupted download continues
/// from where it stopped (an HTTP Range request) when run again. A complete archive gets a <c>.sha256</c> file
/// beside it. Neither Stanford nor Oxford publishes a checksum for its archive, so the hash is recorded after the
/// first complete download, checked whenever that archive is reused, and shown so users can compare it with
/// others'; where <see cref="DataSetSource.ExpectedSha256"/> is set, it is enforced.</para>
/// <para>Unpacking goes through <see cref="SafeTar"/>: entries that would escape the folder, and links, are refused.
/// Then the images move into <c>{target}/{breed}/</c> and the archive is deleted unless asked to keep it.</para>
/// </remarks>
public sealed class DataSetDownloader
{
    private readonly HttpClient _http;

    /// <summary>Creates a downloader; pass an <see cref="HttpClient"/> to control proxies or timeouts.</summary>
    public DataSetDownloader(HttpClient? http = null)
    {
        _http = http ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// Replaces the published address's folder, for a mirror or a test server: the archive is fetched from
    /// <c>{BaseUrl}/{archive name}</c>. Null uses the published address.
    /// </summary>
    public string? BaseUrl { get; init; }

    /// <summary>Keep the archive after a successful conversion (by default it is deleted to save space).</summary>
    public bool KeepArchive { get; init; }

    /// <summary>The address the archive of <paramref name="source"/> is fetched from.</summary>
    public Uri UrlOf(DataSetSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return BaseUrl is null
            ? new Uri(source.Url)
            : new Uri(BaseUrl.TrimEnd('/') + "/" + source.ArchiveName);
    }

    /// <summary>
    /// Downloads (or reuses) the archive of <paramref name="source"/>, unpacks it and writes a folder per class into
    /// <paramref name="targetDir"/>.
    /// </summary>
    /// <param name="source">The data set.</param>
    /// <param name="targetDir">Receives one sub-folder per breed.</param>
    /// <param name="archive">An archive downloaded by hand; when given, nothing is downloaded.</param>
    /// <param name="progress">Receives byte and file counts for each phase.</param>
    /// <param name="cancellationToken">Stops the download; the partial file stays and the next run resumes.</param>
    /// <exception cref="DataSetDownloadException">
    /// The server cannot be reached (the message says how to download by hand), the download ended early, or the
    /// archive does not match its checksum.
    /// </exception>
    /// <exception cref="UnsafeArchiveException">The archive contains an unsafe entry.</exception>
    public async Task<DownloadResult> DownloadAsync(
        DataSetSource source,
        string targetDir,
        string? archive = null,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(targetDir);
        Directory.CreateDirectory(targetDir);
        bool resumed = false;
        string archivePath;
        string sha256;
        if (archive is not null)
        {
            if (!File.Exists(archive))
            {
                throw new DataSetDownloadException($"The archive '{archive}' does not exist.");
            }

            archivePath = archive;
            sha256 = await VerifyAsync(source, archivePath, progress, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            string downloads = Path.Combine(targetDir, ".download");
            Directory.CreateDirectory(downloads);
            archivePath = Path.Combine(downloads, source.ArchiveName);
            if (File.Exists(archivePath))
            {
                sha256 = await VerifyAsync(source, archivePath, progress, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                resumed = await DownloadFileAsync(UrlOf(source), archivePath, source, targetDir, progress,
                    cancellationToken).ConfigureAwait(false);
                sha256 = await VerifyAsync(source, archivePath, progress, cancellationToken).ConfigureAwait(false);
            }
        }

        string staging = Path.Combine(targetDir, ".extract");
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        SafeTar.Extract(archivePath, staging, progress, cancellationToken);
        int images = source.Convert(staging, targetDir);
        progress?.Report(new DownloadProgress(DownloadPhase.Convert, images, images));
        Directory.Delete(staging, recursive: true);
        if (archive is null && !KeepArchive)
        {
            File.Delete(archivePath);
            File.Delete(archivePath + ".sha256");
            TryDeleteEmpty(Path.GetDirectoryName(archivePath)!);
        }

        int classes = Directory.GetDirectories(targetDir).Count(d => !Path.GetFileName(d).StartsWith('.'));
        return new DownloadResult(targetDir, images, classes, sha256, resumed);
    }

    /// <summary>
    /// Downloads <paramref name="url"/> to <paramref name="destination"/> through a <c>.part</c> file, resuming one
    /// left by an earlier attempt. The file appears under its final name only once complete.
    /// </summary>
    /// <returns>True when an earlier partial download was continued.</returns>
    private async Task<bool> DownloadFileAsync(
        Uri url,
        string destination,
        DataSetSource source,
        string targetDir,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        string part = destination + ".part";
        long existing = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0)
        {
            request.Headers.Range = new RangeHeaderValue(existing, null);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException
                                                                 && !cancellationToken.IsCancellationRequested))
        {
            throw new DataSetDownloadException(Unreachable(source, url, targetDir, e.Message), e);
        }

        using (response)
        {
            bool resumed = false;
            long? total;
            if (response.StatusCode == HttpStatusCode.PartialContent && existing > 0)
            {
                var range = response.Content.Headers.ContentRange;
                if (range?.From != existing)
                {
                    throw new DataSetDownloadException(
                        $"{url} answered the resume request with the wrong range ({range}). Delete {part} and run " +
                        "again to download from the start.");
                }

                resumed = true;
                total = range.Length;
            }
            else if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
            {
                // The part file may already hold everything; otherwise start over.
                if (response.Content.Headers.ContentRange?.Length == existing)
                {
                    File.Move(part, destination, overwrite: true);
                    return true;
                }

                File.Delete(part);
                existing = 0;
                return await DownloadFileAsync(url, destination, source, targetDir, progress, cancellationToken)
                    .ConfigureAwait(false);
            }
            else if (response.IsSuccessStatusCode)
            {
                existing = 0; // the server ignored the range: start again from byte 0
                total = response.Content.Headers.ContentLength;
            }
            else
            {
                throw new DataSetDownloadException(
                    Unreachable(source, url, targetDir, $"the server answered {(int)response.StatusCode} " +
                                                         $"{response.ReasonPhrase}"));
            }

            long received = existing;
            try
            {
                await using var input = await response.Content.ReadAsStreamAsync(cancellationToken)
                    .ConfigureAwait(false);
                await using var output = new FileStream(
                    part, existing > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                var buffer = new byte[1 << 16];
                int read;
                long lastReport = -1;
                while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    received += read;
                    if (received - lastReport >= 1 << 18)
                    {
                        lastReport = received;
                        progress?.Report(new DownloadProgress(DownloadPhase.Download, received, total));
                    }
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException
                                          && !cancellationToken.IsCancellationRequested)
            {
                throw new DataSetDownloadException(
                    $"The download of {url} was interrupted after {received:N0} bytes ({e.Message}). Run the same " +
                    $"command again: it resumes from {part}.", e);
            }

            progress?.Report(new DownloadProgress(DownloadPhase.Download, received, total));
            if (total is { } expected && received != expected)
            {
                throw new DataSetDownloadException(
                    $"The download of {url} ended after {received:N0} of {expected:N0} bytes. Run the same command " +
                    $"again: it resumes from {part}.");
            }

            File.Move(part, destination, overwrite: true);
            return resumed;
        }
    }

    private static async Task<string> VerifyAsync(
        DataSetSource source, string archive, IProgress<DownloadProgress>? progress, CancellationToken token)
    {
        string hash = await Sha256Async(archive, progress, token).ConfigureAwait(false);
        string record = archive + ".sha256";
        string? expected = source.ExpectedSha256;
        string origin = "the known checksum";
        if (expected is null && File.Exists(record))
        {
            expected = (await File.ReadAllTextAsync(record, token).ConfigureAwait(false)).Split(' ')[0].Trim();
            origin = $"the hash recorded when it was downloaded ({record})";
        }

        if (expected is not null && !string.Equals(expected, hash, StringComparison.OrdinalIgnoreCase))
        {
            throw new DataSetDownloadException(
                $"{archive} has SHA-256 {hash}, but {origin} is {expected}: the file is damaged or not the " +
                $"{source.Name} archive. Delete it and run the download again.");
        }

        if (!File.Exists(record))
        {
            string temp = record + ".tmp";
            await File.WriteAllTextAsync(temp, $"{hash}  {Path.GetFileName(archive)}\n", token).ConfigureAwait(false);
            File.Move(temp, record, overwrite: true);
        }

        return hash;
    }

    /// <summary>The SHA-256 of a file, lower-case hex, reporting progress in bytes.</summary>
    public static async Task<string> Sha256Async(
        string path, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var sha = SHA256.Create();
        await using var input = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        long done = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha.TransformBlock(buffer, 0, read, null, 0);
            done += read;
            progress?.Report(new DownloadProgress(DownloadPhase.Verify, done, input.Length));
        }

        sha.TransformFinalBlock([], 0, 0);
        return Convert.ToHexStringLower(sha.Hash!);
    }

    private static string Unreachable(DataSetSource source, Uri url, string targetDir, string why) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Could not download {url}: {why}. If this machine is offline, download {source.Url} on another " +
            $"machine, copy it here and run 'finetune download {source.Name} --to {targetDir} --archive FILE'; or " +
            $"unpack it yourself (its layout is {source.Layout}) and convert it into a folder per breed, " +
            $"{Path.Combine(targetDir, "<breed>", "<image>.jpg")}.");

    private static void TryDeleteEmpty(string dir)
    {
        if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any())
        {
            Directory.Delete(dir);
        }
    }
}
