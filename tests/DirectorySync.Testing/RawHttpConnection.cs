using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DirectorySync.Testing;

/// <summary>
/// One HTTP/1.1 request written by hand over TCP, so a test can send headers and then as little of the body as it likes
/// (what HttpClient never does), and see when the server answers and when it closes the connection.
/// </summary>
public sealed class RawHttpConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly TaskCompletionSource<string> _head = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        Clock = Stopwatch.StartNew();
        Closed = ReadUntilClosedAsync();
    }

    /// <summary>Started when the request's first bytes were written.</summary>
    public Stopwatch Clock { get; }

    /// <summary>The answer's status line and headers once they have arrived ("" if the server closed without answering).</summary>
    public Task<string> Head => _head.Task;

    /// <summary>Everything the server sent, once it closed the connection.</summary>
    public Task<string> Closed { get; }

    /// <summary>Connects and writes <paramref name="start"/> (a request line, headers, perhaps some body).</summary>
    public static async Task<RawHttpConnection> OpenAsync(IPEndPoint server, string start)
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(server);
            var connection = new RawHttpConnection(client);
            await connection.WriteAsync(Encoding.ASCII.GetBytes(start));
            return connection;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A POST to <paramref name="path"/> with the given header lines (each ending in CRLF) and Content-Length.</summary>
    public static string PostHead(string path, string headerLines, long contentLength) =>
        $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headerLines}Content-Length: {contentLength}\r\n\r\n";

    /// <summary>Writes more; false once the server has closed its side.</summary>
    public async Task<bool> WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            await _stream.WriteAsync(bytes);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes <paramref name="bytesPerWrite"/> bytes per <paramref name="interval"/> until <paramref name="until"/> completes
    /// or <paramref name="bound"/> passes.
    /// </summary>
    public async Task TrickleAsync(Task until, TimeSpan interval, TimeSpan bound, int bytesPerWrite = 1)
    {
        var chunk = Enumerable.Repeat((byte)'x', bytesPerWrite).ToArray();
        while (!until.IsCompleted && Clock.Elapsed < bound && await WriteAsync(chunk))
            await Task.WhenAny(until, Task.Delay(interval));
    }

    private async Task<string> ReadUntilClosedAsync()
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
                var text = Encoding.ASCII.GetString(received.GetBuffer(), 0, (int)received.Length);
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0) _head.TrySetResult(text[..end]);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // A reset is a close too.
        }
        _head.TrySetResult("");
        return Encoding.ASCII.GetString(received.ToArray());
    }

    public void Dispose() => _client.Dispose();
}
