using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DirectorySync.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DirectorySync.Feed;

/// <summary>
/// <c>GET /changes?after=&amp;limit=&amp;directory=&amp;wait=</c>: the change feed in order, a page at a time, long-polled
/// with <c>wait</c>; <c>GET /changes/latest</c>: the position to follow from after reading the mirror in full. Both need
/// a read API key. Errors are WorkOS-style <c>{message, code}</c>: 400 a parameter is wrong, 410 the position is older
/// than the retention (with the oldest position still kept).
/// </summary>
public static partial class ChangesApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    public const int MaxWaitSeconds = 30;

    public static IEndpointRouteBuilder MapChangesApi(this IEndpointRouteBuilder endpoints)
    {
        var changes = endpoints.MapGroup("/changes").RequireReadApiKey();
        changes.MapGet("", ReadAsync);
        changes.MapGet("/latest", LatestAsync);
        return endpoints;
    }

    private static async Task<IResult> ReadAsync(HttpContext context, ChangeFeed feed, IOptions<ChangeFeedOptions> options, ILoggerFactory loggers)
    {
        var query = context.Request.Query;
        FeedPosition? after = null;
        if (query["after"].ToString() is { Length: > 0 } afterText)
        {
            if (!FeedPosition.TryParse(afterText, out var position))
                return BadRequest(loggers, $"after must be a position as given in list_metadata.after ({FeedPosition.TextLength} characters 0-9 and a-f), not '{Shorten(afterText)}'");
            after = position;
        }
        if (!TryNumber(query["limit"], DefaultLimit, 1, MaxLimit, out var limit))
            return BadRequest(loggers, $"limit must be a whole number from 1 to {MaxLimit}, not '{Shorten(query["limit"].ToString())}'");
        if (!TryNumber(query["wait"], 0, 0, MaxWaitSeconds, out var wait))
            return BadRequest(loggers, $"wait must be a whole number of seconds from 0 to {MaxWaitSeconds}, not '{Shorten(query["wait"].ToString())}'");
        var directory = query["directory"].ToString() is { Length: > 0 } d ? d : null;

        var waited = Stopwatch.StartNew();
        while (true)
        {
            var page = await feed.ReadAsync(after, limit, directory, cancellationToken: context.RequestAborted);
            switch (page.Status)
            {
                case FeedStatus.Unknown:
                    return BadRequest(loggers, $"after {after} is not a position this feed gave out (it is ahead of every settled entry)");
                case FeedStatus.Expired:
                    LogExpired(loggers.CreateLogger(typeof(ChangesApi)), after.GetValueOrDefault().ToString(), page.Oldest?.ToString());
                    return Results.Json(new Dictionary<string, string?>
                    {
                        ["message"] = $"Entries after {after} are no longer kept (ChangeFeed__Retention). Read the mirror in full, then follow the feed from GET /changes/latest taken before that read.",
                        ["code"] = "position_expired",
                        ["oldest_position"] = page.Oldest?.ToString(),
                    }, statusCode: StatusCodes.Status410Gone);
            }
            if (page.Entries.Count > 0 || waited.Elapsed >= TimeSpan.FromSeconds(wait)) return Page(page.Entries);
            await Task.Delay(options.Value.PollInterval, context.RequestAborted);
        }
    }

    private static async Task<IResult> LatestAsync(HttpContext context, ChangeFeed feed) =>
        Results.Json(new { position = (await feed.LatestAsync(context.RequestAborted)).ToString() });

    private static IResult Page(IReadOnlyList<FeedEntry> entries)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteStartArray("data");
            foreach (var entry in entries) entry.WriteTo(json);
            json.WriteEndArray();
            json.WriteStartObject("list_metadata");
            if (entries.Count > 0) json.WriteString("after", entries[^1].Position.ToString());
            else json.WriteNull("after");
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Results.Bytes(body.WrittenMemory, "application/json");
    }

    private static bool TryNumber(Microsoft.Extensions.Primitives.StringValues value, int fallback, int minimum, int maximum, out int number)
    {
        number = fallback;
        if (value.Count == 0) return true;
        return int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out number) && number >= minimum && number <= maximum;
    }

    private static IResult BadRequest(ILoggerFactory loggers, string message)
    {
        LogBadRequest(loggers.CreateLogger(typeof(ChangesApi)), message);
        return Results.Json(new { message, code = "invalid_request_parameters" }, statusCode: StatusCodes.Status400BadRequest);
    }

    /// <summary>Echoed back in an error, never at length.</summary>
    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "GET /changes refused with 400: {Reason}")]
    private static partial void LogBadRequest(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "GET /changes after {After} answered 410: older than the retention (oldest kept {Oldest})")]
    private static partial void LogExpired(ILogger logger, string after, string? oldest);
}
