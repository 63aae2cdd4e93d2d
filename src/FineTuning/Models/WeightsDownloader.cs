using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using FineTuning.Platform;

namespace FineTuning.Models;

/// <summary>How far a download has come.</summary>
/// <param name="FileName">The file being downloaded.</param>
/// <param name="Bytes">Bytes on disk so far (including a resumed part).</param>
/// <param name="TotalBytes">The file's size when the server says it, else null.</param>
public readonly record struct DownloadProgress(string FileName, long Bytes, long? TotalBytes);

/// <summary>
/// Downloads published weight files (torchvision's by default) into <see cref="CacheFolder"/>: progress through
/// <see cref="IProgress{T}"/>, the SHA-256 checked against the hash prefix in the file name, the file written
/// under a temporary name and renamed only when complete and verified, an interrupted download resumed.
/// </summary>
/// <remarks>
/// The base address can point to a mirror or a local server: pass it, or set <see cref="BaseUrlVariable"/>.
/// Without a network the error says which address to fetch by hand and where to put the file.
/// </remarks>
public sealed partial class WeightsDownloader
{
    /// <summary>Where torchvision publishes its weights.</summary>
    public const string DefaultBaseUrl = "https://download.pytorch.org/models/";

    /// <summary>Environment variable that replaces <see cref="DefaultBaseUrl"/> (a mirror).</summary>
    public const string BaseUrlVariable = "FINETUNE_WEIGHTS_URL";

    private readonly HttpClient _http;
    private readonly string _folder;

    /// <summary>Creates a downloader.</summary>
    /// <param name="baseUrl">
    /// Base address; null means <see cref="BaseUrlVariable"/>, else <see cref="DefaultBaseUrl"/>.
    /// </param>
    /// <param name="folder">Where files are kept; null means <see cref="CacheFolder.Path"/>.</param>
    /// <param name="http">The client to use; null creates one with a 30-minute timeout.</param>
    public WeightsDownloader(string? baseUrl = null, string? folder = null, HttpClient? http = null)
    {
        var url = baseUrl ?? Environment.GetEnvironmentVariable(BaseUrlVariable);
        BaseUrl = string.IsNullOrWhiteSpace(url) ? DefaultBaseUrl : url.EndsWith('/') ? url : url + "/";
        _folder = folder ?? CacheFolder.Path;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
    }

    /// <summary>The base address files are fetched from (ends with a slash).</summary>
    public string BaseUrl { get; }

    /// <summary>Where a file is kept once downloaded.</summary>
    /// <param name="fileName">A published file name such as <c>resnet50-0676ba61.pth</c>.</param>
    public string PathOf(string fileName) => Path.Combine(_folder, fileName);

    /// <summary>Whether a verified copy of the file is already in the folder.</summary>
    /// <param name="fileName">A published file name.</param>
    public bool IsCached(string fileName) => File.Exists(PathOf(fileName));

    /// <summary>
    /// The hex digits after the last dash of a file name (<c>resnet18-f37072fd.pth</c> gives <c>f37072fd</c>),
    /// which torchvision sets to the start of the file's SHA-256; null when the name has none.
    /// </summary>
    /// <param name="fileName">A file name.</param>
    public static string? HashPrefixOf(string fileName)
    {
        var match = HashPattern().Match(Path.GetFileName(fileName));
        return match.Success ? match.Groups[1].Value.ToLowerInvariant() : null;
    }

    /// <summary>
    /// Returns the local path of a file, downloading it first when it is not in the folder yet.
    /// </summary>
    /// <param name="fileName">A published file name ending in <c>-HASHPREFIX.ext</c>.</param>
    /// <param name="progress">Receives the bytes so far, about every megabyte.</param>
    /// <param name="cancellationToken">Stops the download; the part already fetched is kept for a resume.</param>
    /// <exception cref="WeightsDownloadException">The server cannot be reached, refuses, or sends a file whose
    /// hash does not match.</exception>
    public async Task<string> EnsureAsync(
        string fileName, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var prefix = HashPrefixOf(fileName) ?? throw new ArgumentException(
            $"'{fileName}' has no hash prefix (name-HEX.ext), so its download cannot be verified.",
            nameof(fileName));
        var destination = PathOf(fileName);
        if (File.Exists(destination))
        {
            return destination;
        }

        Directory.CreateDirectory(_folder);
        var partial = destination + ".partial";
        var url = BaseUrl + fileName;
        try
        {
            await FetchAsync(url, fileName, partial, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new WeightsDownloadException(
                $"Could not download {url}: {Reason(e)}. Without network access, download that address by hand " +
                $"on another machine and put the file at {destination} (or pass it with --weights).",
                e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WeightsDownloadException(
                $"Downloading {url} timed out; run again to resume, or download it by hand and put it at " +
                $"{destination}.",
                e);
        }

        var actual = await HashAsync(partial, cancellationToken).ConfigureAwait(false);
        if (!actual.StartsWith(prefix, StringComparison.Ordinal))
        {
            File.Delete(partial);
            throw new WeightsDownloadException(
                $"The file downloaded from {url} is corrupt: its SHA-256 starts with {actual[..prefix.Length]}, " +
                $"the name promises {prefix}. It was deleted; run again, or check the mirror ({BaseUrl}).");
        }

        File.Move(partial, destination, overwrite: true);
        return destination;
    }

    /// <summary>The lower-case hex SHA-256 of a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">Stops the hashing.</param>
    public static async Task<string> HashAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = File.OpenRead(path);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }

    private async Task FetchAsync(
        string url, string fileName, string partial, IProgress<DownloadProgress>? progress, CancellationToken token)
    {
        var existing = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0)
        {
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(existing, null);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token)
            .ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The part on disk is already complete (or longer than the file): hash it as it is.
            return;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        var append = existing > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (!append)
        {
            existing = 0;
        }

        long? total = response.Content.Headers.ContentLength is { } length ? length + existing : null;
        await using var source = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
        await using var target = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write);
        var buffer = new byte[81920];
        var written = existing;
        var lastReport = -1L;
        progress?.Report(new DownloadProgress(fileName, written, total));
        int read;
        while ((read = await source.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
            written += read;
            if (written - lastReport >= 1 << 20)
            {
                lastReport = written;
                progress?.Report(new DownloadProgress(fileName, written, total));
            }
        }

        await target.FlushAsync(token).ConfigureAwait(false);
        target.Flush(flushToDisk: true);
        if (total is { } expected && written != expected)
        {
            throw new HttpRequestException($"the connection closed after {written} of {expected} bytes");
        }

        progress?.Report(new DownloadProgress(fileName, written, total));
    }

    private static string Reason(HttpRequestException e) =>
        e.StatusCode is null && e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;

    [GeneratedRegex(@"-([0-9a-fA-F]{6,64})\.[A-Za-z0-9]+$")]
    private static partial Regex HashPattern();
}

/// <summary>A weights download failed; the message says why and how to get the file by hand.</summary>
public sealed class WeightsDownloadException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="inner">The low-level cause, if any.</param>
    public WeightsDownloadException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
