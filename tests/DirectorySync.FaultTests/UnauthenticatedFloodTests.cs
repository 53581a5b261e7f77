using System.Net;
using DirectorySync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.FaultTests;

/// <summary>
/// A flood of requests that announce large bodies without a signature, against a gateway process: each is refused
/// before its body is read, so the gateway's memory does not grow with what the flood announces.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class UnauthenticatedFloodTests(FaultCluster fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Connections = 200;
    private const long AnnouncedBody = 1024 * 1024;
    private const long RssLimitBytes = 300L * 1024 * 1024;
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(1);

    public async Task InitializeAsync()
    {
        var restarted = await fixture.Cluster.RestoreAsync();
        if (restarted.Count > 0) output.WriteLine($"started again first: {string.Join(", ", restarted)}");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Two_hundred_unsigned_one_MiB_bodies_are_each_refused_within_a_second_and_memory_stays_bounded()
    {
        var gateway = fixture.Cluster.Gateways[0];
        var server = new IPEndPoint(IPAddress.Loopback, gateway.Url.Port);
        // One request first builds the endpoint (JIT, the request delegate): the bound is for answers, not for a cold start.
        Assert.StartsWith("HTTP/1.1 401", (await UnsignedRequestAsync(server)).Status);
        using var sampling = new CancellationTokenSource();
        var peak = SamplePeakRssAsync(gateway.ProcessId, sampling.Token);

        var floods = await Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => UnsignedRequestAsync(server)));
        await sampling.CancelAsync();
        var peakRss = await peak;

        output.WriteLine($"answers: {string.Join(", ", floods.GroupBy(f => f.Status).Select(g => $"{g.Count()} × '{g.Key}'"))}; "
            + $"slowest {floods.Max(f => f.AnsweredAfter).TotalMilliseconds:F0} ms; gateway peak RSS {peakRss / (1024 * 1024)} MB");
        Assert.All(floods, flood =>
        {
            Assert.StartsWith("HTTP/1.1 401", flood.Status);
            Assert.True(flood.AnsweredAfter < AnswerBound, $"answered after {flood.AnsweredAfter}");
        });
        Assert.InRange(peakRss, 1, RssLimitBytes);
        Assert.True(gateway.IsRunning, gateway.LogTail(20));
    }

    private sealed record Flood(string Status, TimeSpan AnsweredAfter);

    /// <summary>Announces a 1 MiB body without a signature, sends its first 16 KiB, then one byte per 100 ms until answered.</summary>
    private static async Task<Flood> UnsignedRequestAsync(IPEndPoint server)
    {
        using var connection = await RawHttpConnection.OpenAsync(server,
            RawHttpConnection.PostHead("/webhooks/workos", "", AnnouncedBody) + new string('x', 16 * 1024));
        await connection.TrickleAsync(connection.Head, TimeSpan.FromMilliseconds(100), AnswerBound * 10);
        var head = await connection.Head.WaitAsync(AnswerBound * 10);
        var answeredAfter = connection.Clock.Elapsed;
        return new Flood(head.Split("\r\n")[0], answeredAfter);
    }

    /// <summary>The largest resident set (VmRSS in /proc) the process reached while sampled every 20 ms.</summary>
    private static async Task<long> SamplePeakRssAsync(int processId, CancellationToken stop)
    {
        long peak = 0;
        while (true)
        {
            peak = Math.Max(peak, ResidentBytes(processId));
            try
            {
                await Task.Delay(20, stop);
            }
            catch (OperationCanceledException)
            {
                return Math.Max(peak, ResidentBytes(processId));
            }
        }
    }

    private static long ResidentBytes(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        // "VmRSS:     123456 kB"
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
