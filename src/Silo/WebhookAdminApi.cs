using System.Text.Json;
using DirectorySync.Feed;
using DirectorySync.Hosting;
using Microsoft.Extensions.Options;

namespace DirectorySync.Silo;

/// <summary>
/// The outbound webhooks' operations, part of the operations API (<c>/admin</c> and <c>/console/api</c>, behind the
/// operations token): <c>GET /webhooks</c> (every endpoint: its state, what waits and since when, its failures),
/// <c>GET /webhooks/{endpoint}</c> (each directory's progress, the failures kept, whether a 410 disabled it) and
/// <c>POST /webhooks/{endpoint}/replay?from=&lt;position&gt;</c> (deliver every entry after it again).
/// </summary>
public static partial class WebhookAdminApi
{
    // Past this many entries waiting for one directory, the list says "at least" rather than counting them all.
    private const int WaitingCountLimit = 10_000;
    private const int RecentFailures = 20;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static RouteGroupBuilder MapWebhookAdminApi(this RouteGroupBuilder api)
    {
        var webhooks = api.MapGroup("/webhooks");
        webhooks.MapGet("", ListAsync);
        webhooks.MapGet("/{endpoint}", StatusAsync);
        webhooks.MapPost("/{endpoint}/replay", ReplayAsync);
        return api;
    }

    /// <summary>Every configured endpoint, by name.</summary>
    private static async Task<IResult> ListAsync(IGrainFactory grains, ChangeFeed feed, IOptions<ChangeFeedOptions> options)
    {
        var endpoints = new List<WebhookEndpointSummary>();
        foreach (var (name, endpoint) in options.Value.Endpoints.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var status = await grains.GetGrain<IWebhookEndpointGrain>(name).StatusAsync();
            var lanes = status.Directories.Select(d => (d.DirectoryId, Delivered: FeedPosition.TryParse(d.Delivered, out var p) ? p : FeedPosition.Start)).ToList();
            var backlog = await feed.BacklogAsync(lanes, WaitingCountLimit);
            var firstWaiting = backlog.Values.Min(b => b.FirstWrittenAt);
            var retrying = status.Directories.Where(d => d.Attempts > 0).ToList();
            var positions = status.Failures.Select(f => f.After).Concat(status.DisabledReason is null ? [] : lanes.Select(l => l.Delivered.ToString()));
            endpoints.Add(new WebhookEndpointSummary(
                name,
                // Scheme, host and path: a query string may hold the receiver's own secret.
                Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url) ? url.GetLeftPart(UriPartial.Path) : endpoint.Url,
                status.DisabledReason,
                status.Directories.Count,
                backlog.Values.Sum(b => b.Waiting),
                backlog.Values.Any(b => b.Waiting >= WaitingCountLimit),
                firstWaiting,
                firstWaiting is { } first ? Math.Max(0, (DateTimeOffset.UtcNow - first).TotalSeconds) : null,
                retrying.Count,
                retrying.Select(d => d.LastError).FirstOrDefault(e => e is not null),
                retrying.Min(d => d.NextAttemptAt),
                status.Failures.Count,
                status.Failures.OrderByDescending(f => f.FailedAt).Take(RecentFailures).ToList(),
                positions.Order(StringComparer.Ordinal).FirstOrDefault()));
        }
        return Results.Json(new WebhookEndpointList(endpoints), Json);
    }

    private static async Task<IResult> StatusAsync(string endpoint, IGrainFactory grains, IOptions<ChangeFeedOptions> options) =>
        options.Value.Endpoints.ContainsKey(endpoint)
            ? Results.Json(await grains.GetGrain<IWebhookEndpointGrain>(endpoint).StatusAsync(), Json)
            : NotConfigured(endpoint);

    private static async Task<IResult> ReplayAsync(
        string endpoint, string? from, IGrainFactory grains, ChangeFeed feed, IOptions<ChangeFeedOptions> options, ILogger<ChangeFeed> logger)
    {
        if (!options.Value.Endpoints.ContainsKey(endpoint)) return NotConfigured(endpoint);
        if (!FeedPosition.TryParse(from, out var position))
            return Error(StatusCodes.Status400BadRequest, "invalid_request_parameters",
                $"from must be a feed position ({FeedPosition.TextLength} characters 0-9 and a-f, e.g. a failure's \"after\"), not '{from}'");
        var page = await feed.ReadAsync(position, 1);
        if (page.Status == FeedStatus.Unknown)
            return Error(StatusCodes.Status400BadRequest, "invalid_request_parameters", $"from {position} is ahead of every settled entry");
        if (page.Status == FeedStatus.Expired)
            return Error(StatusCodes.Status410Gone, "position_expired",
                $"entries after {position} are no longer kept (ChangeFeed__Retention); the oldest kept is {page.Oldest?.ToString() ?? "none"}");
        LogReplayRequested(logger, endpoint, position.ToString());
        return Results.Json(await grains.GetGrain<IWebhookEndpointGrain>(endpoint).ReplayAsync(position.ToString()), Json);
    }

    private static IResult NotConfigured(string endpoint) =>
        Error(StatusCodes.Status404NotFound, "endpoint_not_found", $"no endpoint '{endpoint}' in ChangeFeed__Endpoints");

    private static IResult Error(int status, string code, string message) => Results.Json(new { message, code }, statusCode: status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay of webhook endpoint {Endpoint} from {From} requested")]
    private static partial void LogReplayRequested(ILogger logger, string endpoint, string from);
}

public sealed record WebhookEndpointList(IReadOnlyList<WebhookEndpointSummary> Endpoints);

/// <summary>
/// One outbound endpoint as the console lists it. <see cref="Waiting"/> entries are not yet acknowledged (counted up to
/// 10,000 per directory: <see cref="WaitingCapped"/>), the first of them written <see cref="LagSeconds"/> ago;
/// <see cref="ReplayFrom"/> is where delivering again starts: the first failure kept, or, on a disabled endpoint, the
/// least delivered position (null: nothing to deliver again).
/// </summary>
public sealed record WebhookEndpointSummary(
    string Endpoint, string Url, string? DisabledReason, int Directories, int Waiting, bool WaitingCapped, DateTimeOffset? FirstWaitingWrittenAt,
    double? LagSeconds, int Retrying, string? LastError, DateTimeOffset? NextAttemptAt, int Failures, IReadOnlyList<DeliveryFailure> RecentFailures,
    string? ReplayFrom);
