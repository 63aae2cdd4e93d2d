using System.Net;
using System.Net.Sockets;

namespace FineTuning.Tests.Data;

/// <summary>
/// A tiny HTTP server on 127.0.0.1 for download tests: serves byte arrays by file name, honours "Range: bytes=N-",
/// and can cut the connection once after a given number of bytes to simulate an interrupted download.
/// </summary>
internal sealed class FixtureServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly List<string> _ranges = [];

    public FixtureServer()
    {
        // Ask the OS for a free port, then listen on it.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}/files";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string BaseUrl { get; }

    public Dictionary<string, byte[]> Files { get; } = [];

    /// <summary>When set, the next response stops after this many body bytes and the connection is dropped.</summary>
    public int? CutOnceAfter { get; set; }

    /// <summary>The Range header of each request ("" when there was none).</summary>
    public IReadOnlyList<string> Ranges
    {
        get
        {
            lock (_ranges)
            {
                return _ranges.ToList();
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener was closed under the loop.
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException
                                           or InvalidOperationException)
            {
                return;
            }

            try
            {
                await ServeAsync(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // A client that went away; the next request is served normally.
            }
        }
    }

    private async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
        string name = context.Request.Url!.AbsolutePath.Split('/').Last();
        string range = context.Request.Headers["Range"] ?? string.Empty;
        lock (_ranges)
        {
            _ranges.Add(range);
        }

        if (!Files.TryGetValue(name, out var body))
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }

        long start = 0;
        if (range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            start = long.Parse(
                range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            if (start >= body.Length)
            {
                response.StatusCode = 416;
                response.Headers["Content-Range"] = $"bytes */{body.Length}";
                response.Close();
                return;
            }

            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{body.Length - 1}/{body.Length}";
        }

        response.ContentLength64 = body.Length - start;
        if (CutOnceAfter is { } cut)
        {
            CutOnceAfter = null;
            await response.OutputStream.WriteAsync(body.AsMemory((int)start, cut));
            await response.OutputStream.FlushAsync();
            response.Abort();
            return;
        }

        await response.OutputStream.WriteAsync(body.AsMemory((int)start));
        response.Close();
    }
}
