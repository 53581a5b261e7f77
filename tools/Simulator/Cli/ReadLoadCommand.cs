using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using DirectorySync.Simulator.Delivery;

namespace DirectorySync.Simulator.Cli;

/// <summary>
/// <c>read-load</c>: drives the read API as applications would, one directory's user pages. It first walks the whole
/// directory (<c>after</c> to <c>after</c>, as the SDKs' autoPagination does) to learn every page's cursor, then requests
/// pages at random at a fixed rate for a fixed time. Requests start on schedule whether or not earlier ones have answered
/// (open loop), and latency counts from the scheduled start, so a server that falls behind shows it in the percentiles.
/// </summary>
internal static class ReadLoadCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>
    {
        "url", "key", "directory", "rate", "seconds", "limit", "max-in-flight", "seed",
    };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string>();

    public static async Task<int> RunAsync(CommandLine line, CancellationToken cancellationToken)
    {
        var baseUrl = line.Urls("url").Single();
        var key = line.RequiredText("key");
        var directory = line.RequiredText("directory");
        var rate = line.Integer("rate", 200, minimum: 1);
        var duration = TimeSpan.FromSeconds(line.Integer("seconds", 60, minimum: 1));
        var limit = line.Integer("limit", 100, minimum: 1);
        var maxInFlight = line.Integer("max-in-flight", 256, minimum: 1);
        var random = new Random(line.Integer("seed", 42));

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxInFlight, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseUrl,
            Timeout = TimeSpan.FromSeconds(30),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        string Page(string? after) => $"directory_users?directory={Uri.EscapeDataString(directory)}&limit={limit}" +
            (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");

        // The walk: every page's cursor (null for the first page), and how many users the directory lists.
        var walk = Stopwatch.StartNew();
        var cursors = new List<string?> { null };
        var users = 0;
        while (true)
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(Page(cursors[^1]), cancellationToken));
            users += document.RootElement.GetProperty("data").GetArrayLength();
            if (document.RootElement.GetProperty("list_metadata").GetProperty("after").GetString() is not { } after) break;
            cursors.Add(after);
        }
        RunSummary.Line("walk", $"{users:N0} users in {cursors.Count:N0} pages of {limit} in {walk.Elapsed.TotalSeconds:0.0} s");

        // The load: request i starts at start + i / rate, on a page drawn at random.
        var latencies = new ConcurrentBag<long>();
        var failures = new ConcurrentQueue<string>();
        var skipped = 0;
        var inFlight = 0;
        var running = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var count = (int)(duration.TotalSeconds * rate);
        for (var i = 0; i < count; i++)
        {
            var scheduled = start + (long)(i * (double)Stopwatch.Frequency / rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), scheduled);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
            if (Interlocked.Increment(ref inFlight) > maxInFlight)
            {
                // The server is this far behind: counting it beats queueing without bound.
                Interlocked.Decrement(ref inFlight);
                Interlocked.Increment(ref skipped);
                continue;
            }
            var path = Page(cursors[random.Next(cursors.Count)]);
            running.Add(Task.Run(async () =>
            {
                try
                {
                    using var response = await http.GetAsync(path, HttpCompletionOption.ResponseContentRead, cancellationToken);
                    if (response.IsSuccessStatusCode) latencies.Add(Stopwatch.GetTimestamp() - scheduled);
                    else failures.Enqueue($"{(int)response.StatusCode} {path}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    failures.Enqueue($"{e.GetType().Name} {path}: {e.Message}");
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            }, cancellationToken));
        }
        await Task.WhenAll(running);
        var elapsed = Stopwatch.GetElapsedTime(start);

        var latency = LatencySummary.From([.. latencies]);
        RunSummary.Line("pages", $"{latencies.Count:N0} answered in {elapsed.TotalSeconds:0.0} s ({latencies.Count / elapsed.TotalSeconds:N0}/s), " +
            $"{limit} users each, {rate:N0}/s scheduled");
        RunSummary.Line("latency", $"p50 {latency.P50.TotalMilliseconds:0.0} ms, p99 {latency.P99.TotalMilliseconds:0.0} ms, max {latency.Max.TotalMilliseconds:0.0} ms");
        RunSummary.Line("skipped", $"{skipped:N0} (more than {maxInFlight} in flight)");
        RunSummary.Line("failures", $"{failures.Count:N0}");
        foreach (var failure in failures.Take(10)) Console.Out.WriteLine($"  {failure}");
        var ok = failures.IsEmpty && skipped == 0;
        RunSummary.Line("result", ok ? "OK" : "FAILED");
        return ok ? 0 : 1;
    }
}
