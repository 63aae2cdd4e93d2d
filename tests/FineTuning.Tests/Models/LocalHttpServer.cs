using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FineTuning.Tests.Models;

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 for download tests: serves byte arrays by path, answers 404 otherwise,
/// honours "Range: bytes=N-" and records the requests it saw.
/// </summary>
internal sealed class LocalHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Dictionary<string, byte[]> _files;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LocalHttpServer(Dictionary<string, byte[]> files)
    {
        _files = files;
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/models/";
        _loop = Task.Run(ServeAsync);
    }

    public string BaseUrl { get; }

    public List<string> Requests { get; } = [];

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The accept loop ends with the listener; its exception is expected.
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            await using var stream = client.GetStream();
            var header = await ReadHeaderAsync(stream);
            var lines = header.Split("\r\n");
            var path = lines[0].Split(' ')[1];
            var range = lines.FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase));
            lock (Requests)
            {
                Requests.Add(range is null ? path : $"{path} {range}");
            }

            var name = path.StartsWith("/models/", StringComparison.Ordinal) ? path["/models/".Length..] : "";
            if (!_files.TryGetValue(name, out var body))
            {
                const string NotFound = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                await WriteAsync(stream, NotFound, []);
                continue;
            }

            var start = 0;
            if (range is not null)
            {
                start = int.Parse(range.Split('=')[1].TrimEnd('-'));
            }

            var status = start > 0 ? "206 Partial Content" : "200 OK";
            var extra = start > 0 ? $"Content-Range: bytes {start}-{body.Length - 1}/{body.Length}\r\n" : "";
            await WriteAsync(
                stream,
                $"HTTP/1.1 {status}\r\nContent-Length: {body.Length - start}\r\n{extra}Connection: close\r\n\r\n",
                body[start..]);
        }
    }

    private static async Task<string> ReadHeaderAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var buffer = new byte[1];
        while (await stream.ReadAsync(buffer) == 1)
        {
            bytes.Add(buffer[0]);
            if (bytes.Count >= 4 && bytes[^1] == '\n' && bytes[^2] == '\r' && bytes[^3] == '\n' && bytes[^4] == '\r')
            {
                break;
            }
        }

        return Encoding.ASCII.GetString([.. bytes]);
    }

    private static async Task WriteAsync(NetworkStream stream, string head, byte[] body)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        await stream.FlushAsync();
    }
}
