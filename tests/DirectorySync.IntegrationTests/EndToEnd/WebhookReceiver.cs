using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using DirectorySync.Simulator.Feed;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StandardWebhooks;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// An application's webhook endpoint, on real HTTP: verifies each message with the Standard Webhooks reference library,
/// dedupes on <c>webhook-id</c> as receivers are told to, and applies the entries of each new message to a
/// <see cref="FeedReplica"/> (which refuses an entry out of its directory's order or applied twice). What it answers is
/// up to the test (<see cref="Answer"/>); it can also be closed, then started again on the same port.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    public const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private readonly int _port = TestSilo.FreeLoopbackPort();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public Uri Url => new($"http://127.0.0.1:{_port}/hooks");

    /// <summary>What to answer a verified message (status, Retry-After); null: accept it. Called once per request.</summary>
    public Func<int, (int Status, string? RetryAfter)?> Answer { get; set; } = _ => null;

    /// <summary>Requests received (every attempt), and the times they came.</summary>
    public ConcurrentQueue<DateTimeOffset> Requests { get; } = new();

    public FeedReplica Replica { get; } = new();

    public List<string> Problems { get; } = [];

    public int Accepted { get; private set; }

    /// <summary>
    /// Skips entries at or before the last position applied of their directory, as an application does once it asked
    /// for a replay; otherwise such an entry is a problem (it came twice, or out of order).
    /// </summary>
    public bool SkipsSeenPositions { get; set; }

    /// <summary>Never answers (until the request is given up by its sender).</summary>
    public bool Hangs { get; set; }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls($"http://127.0.0.1:{_port}");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/hooks", (Delegate)ReceiveAsync);
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    private async Task<IResult> ReceiveAsync(HttpContext context)
    {
        Requests.Enqueue(DateTimeOffset.UtcNow);
        if (Hangs)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
            return Results.StatusCode(StatusCodes.Status504GatewayTimeout);
        }
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        lock (Replica)
        {
            try
            {
                new StandardWebhook(Secret).Verify(body, context.Request.Headers);
            }
            catch (Exception e)
            {
                Problems.Add($"signature not verified: {e.Message}");
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }
            if (Answer(Requests.Count) is { } refusal)
            {
                if (refusal.RetryAfter is not null) context.Response.Headers.RetryAfter = refusal.RetryAfter;
                return Results.StatusCode(refusal.Status);
            }
            // A message seen before was applied before: acknowledged again, not applied again.
            if (!_seen.Add(context.Request.Headers["webhook-id"].ToString())) return Results.Ok();
            var message = JsonNode.Parse(body)!.AsObject();
            if ((string?)message["type"] != "directory_sync.changes") Problems.Add($"message of type {message["type"]}");
            var changes = message["data"]!["changes"]!.AsArray();
            if (changes.Select(c => (string)c!["directory_id"]!).Distinct().Count() != 1) Problems.Add("a message mixing directories");
            try
            {
                foreach (var change in changes.Select(c => c!.AsObject()).Where(c => !SkipsSeenPositions || Replica.IsNew(c))) Replica.Apply(change);
            }
            catch (InvalidDataException e)
            {
                Problems.Add(e.Message);
            }
            Accepted++;
            return Results.Ok();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
