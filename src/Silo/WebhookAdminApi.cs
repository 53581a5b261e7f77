using System.Text.Json;
using DirectorySync.Feed;
using DirectorySync.Hosting;
using Microsoft.Extensions.Options;

namespace DirectorySync.Silo;

/// <summary>
/// The outbound webhooks' operations, behind the operations token: <c>GET /admin/webhooks/{endpoint}</c> (each
/// directory's progress, the failures kept, whether a 410 disabled it) and
/// <c>POST /admin/webhooks/{endpoint}/replay?from=&lt;position&gt;</c> (deliver every entry after it again).
/// </summary>
public static partial class WebhookAdminApi
{
    public const string Prefix = "/admin";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static IEndpointRouteBuilder MapWebhookAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var webhooks = endpoints.MapGroup(Prefix + "/webhooks").RequireOperationsToken(Prefix);
        webhooks.MapGet("/{endpoint}", StatusAsync);
        webhooks.MapPost("/{endpoint}/replay", ReplayAsync);
        return endpoints;
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
