using System.Diagnostics;
using System.Net;
using DirectorySync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// Senders that trickle their headers or body over raw TCP are cut off by the gateway's Kestrel limits (headers within
/// 10 s; a body at 1 kB/s after a 5 s grace), while normal webhooks keep being answered.
/// </summary>
public sealed class SlowClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CutOffBound = TimeSpan.FromSeconds(25);

    private readonly CapturedLogs _logs = new();
    private SyncSystem _system = null!;

    public async Task InitializeAsync() => _system = await SyncSystem.StartAsync("slow_clients", logs: _logs);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    private sealed record Trickle(string Kind, TimeSpan ClosedAfter, string Answer);

    [Fact]
    public async Task Senders_trickling_headers_or_body_are_cut_off_while_normal_webhooks_are_served()
    {
        var gateway = new IPEndPoint(IPAddress.Loopback, _system.WebhookUrl.Port);
        var trickles = Enumerable.Range(0, 4).SelectMany(_ => new[]
        {
            TrickleAsync(gateway, "headers", "X-Slow: ", completeHeaders: false),
            TrickleAsync(gateway, "body", """{"id":""", completeHeaders: true),
        }).ToArray();
        var all = Task.WhenAll(trickles);

        var served = 0;
        while (!all.IsCompleted)
        {
            var started = Stopwatch.StartNew();
            var answer = await _system.SendAsync(Payloads.Activated($"event_slow_{served}", $"directory_slow_{served}", 0));
            Assert.Equal((HttpStatusCode.OK, "applied"), answer);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"a normal webhook took {started.Elapsed} while slow senders were connected");
            served++;
            await Task.WhenAny(all, Task.Delay(250));
        }

        foreach (var trickle in await all)
        {
            output.WriteLine($"{trickle.Kind}: closed after {trickle.ClosedAfter.TotalSeconds:F1} s, answer '{trickle.Answer.Split("\r\n")[0]}'");
            // Not earlier than the limit allows: the connection was cut for being slow, not refused for something else.
            Assert.InRange(trickle.ClosedAfter, trickle.Kind == "headers" ? TimeSpan.FromSeconds(9) : TimeSpan.FromSeconds(4), CutOffBound);
            Assert.True(trickle.Answer.Length == 0 || trickle.Answer.StartsWith("HTTP/1.1 408"), $"{trickle.Kind}: {trickle.Answer}");
        }
        Assert.True(served >= 10, $"only {served} normal webhooks were answered meanwhile");
        // A slow sender is the sender's problem: no error (with a stack trace) per connection for anyone to flood.
        Assert.DoesNotContain(_logs.Entries, entry => entry.StartsWith("Error") || entry.StartsWith("Critical"));
    }

    /// <summary>
    /// Opens a connection, sends a request's start and then one more byte a second until the server closes it (or the
    /// bound passes); answers when it closed and what the server said. A body trickles behind a well-formed, fresh
    /// signature header: one the gateway must read the body to refuse.
    /// </summary>
    private static async Task<Trickle> TrickleAsync(IPEndPoint gateway, string kind, string start, bool completeHeaders)
    {
        var head = completeHeaders
            ? RawHttpConnection.PostHead("/webhooks/workos", Payloads.UnverifiedSignatureLine(DateTimeOffset.UtcNow), 100000)
            : "POST /webhooks/workos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
        using var connection = await RawHttpConnection.OpenAsync(gateway, head + start);
        await connection.TrickleAsync(connection.Closed, TimeSpan.FromSeconds(1), CutOffBound);
        var text = await connection.Closed.WaitAsync(CutOffBound + TimeSpan.FromSeconds(5));
        return new Trickle(kind, connection.Clock.Elapsed, text);
    }
}
