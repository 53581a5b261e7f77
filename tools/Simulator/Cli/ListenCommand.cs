using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace DirectorySync.Simulator.Cli;

/// <summary>
/// <c>listen</c>: a local endpoint for the service's outbound webhooks (benchmarks): answers every POST 200 and writes,
/// per message, when it came (Unix ms), its <c>webhook-id</c>, its entries and the position of its last one.
/// </summary>
internal static class ListenCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string> { "port", "out" };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string>();

    public static async Task<int> RunAsync(CommandLine line, CancellationToken cancellationToken)
    {
        var port = line.Integer("port", 0, minimum: 1);
        if (port is 0 or > 65535) throw new UsageException("--port must be a TCP port (1-65535).");
        await using var output = line.Text("out") is { } path ? new StreamWriter(path) { AutoFlush = true } : null;
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        RunSummary.Line("listening", $"http://127.0.0.1:{port}/ (Ctrl-C to stop)");
        long messages = 0, entries = 0;
        var clock = Stopwatch.StartNew();
        await using (cancellationToken.Register(listener.Stop))
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (HttpListenerException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                using var body = await JsonDocument.ParseAsync(context.Request.InputStream, cancellationToken: cancellationToken);
                var changes = body.RootElement.GetProperty("data").GetProperty("changes");
                var last = changes.GetArrayLength() > 0 ? changes[changes.GetArrayLength() - 1].GetProperty("position").GetString() : "-";
                messages++;
                entries += changes.GetArrayLength();
                output?.WriteLine($"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\t{context.Request.Headers["webhook-id"]}\t{changes.GetArrayLength()}\t{last}");
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        }
        RunSummary.Line("received", $"{messages:N0} messages, {entries:N0} entries in {clock.Elapsed.TotalSeconds:N1} s");
        return 0;
    }
}
