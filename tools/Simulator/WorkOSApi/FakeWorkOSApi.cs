using System.Globalization;
using System.Text.Json;
using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>
/// The HTTP surface: WorkOS's Directory Sync REST endpoints and <c>GET /events</c> over a <see cref="FakeWorkOS"/>.
/// One middleware does what every request shares (request id, API key, slowness, injected faults, errors, the traffic
/// record); each endpoint reads its parameters, asks the fake, and writes the answer.
/// </summary>
internal sealed partial class FakeWorkOSApi(FakeWorkOS fake, ILogger logger)
{
    public void Map(WebApplication app)
    {
        app.Use(HandleAsync);
        app.MapGet("/directories", ListDirectoriesAsync);
        app.MapGet("/directories/{id}", context => WriteAsync(context, writer =>
            RestObjects.WriteDirectory(writer, fake.FindDirectory(RouteId(context)), omitId: false)));
        app.MapGet("/directory_users", ListUsersAsync);
        app.MapGet("/directory_users/{id}", context => WriteAsync(context, writer =>
            RestObjects.WriteUser(writer, fake.FindUser(RouteId(context)), omitId: false)));
        app.MapGet("/directory_groups", ListGroupsAsync);
        app.MapGet("/directory_groups/{id}", context => WriteAsync(context, writer =>
            RestObjects.WriteGroup(writer, fake.FindGroup(RouteId(context)), omitId: false)));
        app.MapGet("/events", ListEventsAsync);
        app.MapFallback(context => throw new ApiProblem(404, "not_found", $"Nothing is served at {context.Request.Path}."));
    }

    private async Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        var arrived = fake.Clock.GetUtcNow();
        var request = context.Request;
        context.Response.Headers["X-Request-ID"] = $"req_{Guid.NewGuid():N}";
        var apiKey = request.Headers.Authorization.ToString() is var header
            && header.StartsWith("Bearer ", StringComparison.Ordinal) && fake.ApiKeys.Contains(header["Bearer ".Length..])
                ? header["Bearer ".Length..]
                : null;
        try
        {
            if (!HttpMethods.IsGet(request.Method))
            {
                throw new ApiProblem(405, "method_not_allowed", $"{request.Method} is not served: this fake only reads.");
            }
            if (apiKey is null)
            {
                throw new ApiProblem(401, "unauthorized", "Send a known API key as Authorization: Bearer <key>.");
            }
            if (fake.Faults.Delay is var delay && delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            if (fake.Faults.Decide(request.Path.Value ?? "") is { } fault)
            {
                await InjectAsync(context, fault);
                return;
            }
            await next(context);
        }
        catch (ApiProblem problem)
        {
            LogRefused(logger, request.Method, Target(request), problem.Status, problem.Code, problem.Message);
            await WriteErrorAsync(context, problem);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (or the server is stopping) during slow mode: nobody is left to answer.
        }
        catch (Exception exception) when (!context.Response.HasStarted)
        {
            // A fault of the fake itself: answered like WorkOS's own failures, and recorded as such in the traffic.
            LogFailed(logger, exception, request.Method, Target(request));
            await WriteErrorAsync(context, new ApiProblem(500, "internal_server_error", $"The fake failed: {exception.Message}"));
        }
        finally
        {
            fake.Traffic.Record(new ApiRequest(arrived, apiKey, request.Method, request.Path.Value ?? "",
                request.QueryString.Value ?? "", context.Response.StatusCode, DirectoryRead(request)));
        }
    }

    private async Task InjectAsync(HttpContext context, InjectedFault fault)
    {
        if (fault.RetryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = fault.RetryAfterAsDate
                ? (fake.Clock.GetUtcNow() + wait).ToString("R", CultureInfo.InvariantCulture)
                : ((long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        var problem = fault.Status == 429
            ? new ApiProblem(429, "rate_limit_exceeded", "Too many requests.")
            : new ApiProblem(fault.Status, ErrorCode(fault.Status), "The server failed to answer.");
        LogInjected(logger, context.Request.Method, Target(context.Request), fault.Status);
        await WriteErrorAsync(context, problem);
    }

    // ---- Endpoints -------------------------------------------------------------------------------------------------

    private Task ListDirectoriesAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var page = fake.ListDirectories(Single(query, "organization_id"), Single(query, "search"), ReadPage(query));
        return WriteListAsync(context, page, RestObjects.WriteDirectory, withBefore: true);
    }

    private Task ListUsersAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var filter = new UserFilter(Single(query, "directory"), Single(query, "group"), Single(query, "idp_id"), Single(query, "email"));
        if (filter.DirectoryId is null && filter.GroupId is null)
        {
            throw ApiProblem.InvalidParameter("directory", "Give directory or group: users are listed per directory or per group.");
        }
        if (filter.DirectoryId is null && (filter.IdpId is not null || filter.Email is not null))
        {
            throw ApiProblem.InvalidParameter("directory", "idp_id and email filter within a directory: give directory as well.");
        }
        var page = fake.ListUsers(filter, fake.Faults.HiddenUsers, ReadPage(query));
        return WriteListAsync(context, page, RestObjects.WriteUser, withBefore: true);
    }

    private Task ListGroupsAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var directoryId = Single(query, "directory");
        var userId = Single(query, "user");
        if (directoryId is null && userId is null)
        {
            throw ApiProblem.InvalidParameter("directory", "Give directory or user: groups are listed per directory or per user.");
        }
        var page = fake.ListGroups(directoryId, userId, ReadPage(query));
        return WriteListAsync(context, page, RestObjects.WriteGroup, withBefore: true);
    }

    /// <summary><c>order</c> is checked but, as on the live API, events always come oldest first (FACTS §7).</summary>
    private Task ListEventsAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var page = ReadPage(query);
        var rangeStart = Time(query, "range_start");
        var rangeEnd = Time(query, "range_end");
        if (rangeStart is not null && (page.After ?? page.Before) is not null)
        {
            throw ApiProblem.InvalidParameter("range_start", "range_start and after are mutually exclusive: page on from a cursor, or start at a time.");
        }
        if (rangeStart > rangeEnd)
        {
            throw ApiProblem.InvalidParameter("range_end", "range_end is before range_start.");
        }
        var filter = new EventFilter(EventTypes(query), Single(query, "organization_id"), rangeStart, rangeEnd);
        var events = fake.ListEvents(filter, page.After, page.Before, page.Limit);
        return WriteListAsync(context, events, RestObjects.WriteEvent, withBefore: false);
    }

    // ---- Parameters ----------------------------------------------------------------------------------------------

    private static PageRequest ReadPage(IQueryCollection query)
    {
        var limit = PageRequest.DefaultLimit;
        if (Single(query, "limit") is { } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > PageRequest.MaxLimit))
        {
            throw ApiProblem.InvalidParameter("limit", $"limit must be a whole number from 1 to {PageRequest.MaxLimit}, not '{limitText}'.");
        }
        var order = Single(query, "order") switch
        {
            null or "desc" => ListOrder.Desc,
            "asc" => ListOrder.Asc,
            "normal" => ListOrder.Normal,
            var other => throw ApiProblem.InvalidParameter("order", $"order must be asc, desc or normal, not '{other}'."),
        };
        var before = Single(query, "before");
        var after = Single(query, "after");
        if (before is not null && after is not null)
        {
            throw ApiProblem.InvalidParameter("before", "Give before or after, not both.");
        }
        return new PageRequest(limit, order, before, after);
    }

    /// <summary>The event types asked for, in any of the three list styles: <c>events=a,b</c>, repeated <c>events=</c>, <c>events[]=</c>.</summary>
    private static HashSet<string>? EventTypes(IQueryCollection query)
    {
        var values = query["events"].Concat(query["events[]"]).ToList();
        if (values.Count == 0) return null;
        var types = values
            .SelectMany(value => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToHashSet(StringComparer.Ordinal);
        return types.Count > 0 ? types : throw ApiProblem.InvalidParameter("events", "events names no event type.");
    }

    private static DateTimeOffset? Time(IQueryCollection query, string name) =>
        Single(query, name) is not { } text ? null
        : EventSources.ParseCreatedAt(text) ?? throw ApiProblem.InvalidParameter(name, $"{name} must be an ISO-8601 time, not '{text}'.");

    /// <summary>A parameter given at most once and never empty.</summary>
    private static string? Single(IQueryCollection query, string name)
    {
        var values = query[name];
        if (values.Count == 0) return null;
        if (values.Count > 1) throw ApiProblem.InvalidParameter(name, $"{name} was given {values.Count} times: give it once.");
        return string.IsNullOrEmpty(values[0]) ? throw ApiProblem.InvalidParameter(name, $"{name} is empty.") : values[0];
    }

    private static string RouteId(HttpContext context) => (string)context.Request.RouteValues["id"]!;

    /// <summary>The directory a <c>/directory_users</c> request reads, for WorkOS's per-directory limit; never throws.</summary>
    private string? DirectoryRead(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        if (path.StartsWith("/directory_users/", StringComparison.Ordinal)) return fake.DirectoryOfUser(path["/directory_users/".Length..]);
        if (path != "/directory_users") return null;
        var directory = request.Query["directory"];
        var group = request.Query["group"];
        return directory.Count == 1 ? directory[0] : group.Count == 1 && group[0] is { } groupId ? fake.DirectoryOfGroup(groupId) : null;
    }

    // ---- Answers -------------------------------------------------------------------------------------------------

    private Task WriteListAsync<T>(HttpContext context, Page<T> page, Action<Utf8JsonWriter, T, bool> writeItem, bool withBefore)
    {
        var malformation = page.Items.Count > 0 ? fake.Faults.TakeMalformation(context.Request.Path.Value ?? "") : null;
        if (malformation is { } kind) LogMalformed(logger, Target(context.Request), kind);
        return WriteAsync(context, writer => RestObjects.WriteList(writer, page, writeItem, malformation, withBefore));
    }

    private static Task WriteErrorAsync(HttpContext context, ApiProblem problem) =>
        WriteAsync(context, writer => RestObjects.WriteError(writer, problem), problem.Status);

    /// <summary>Builds the whole body first (a lookup that throws leaves the response untouched), then sends it.</summary>
    private static async Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> write, int status = StatusCodes.Status200OK)
    {
        var body = EventPayloads.Serialise(write);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>WorkOS's snake_case codes, from the status's reason phrase (<c>service_unavailable</c>).</summary>
    private static string ErrorCode(int status) =>
        ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase
            ? phrase.ToLowerInvariant().Replace(' ', '_')
            : "server_error";

    private static string Target(HttpRequest request) => request.Path.Value + request.QueryString.Value;

    [LoggerMessage(Level = LogLevel.Warning, Message = "WorkOS API {Method} {Target} refused: {Status} {Code}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string target, int status, string code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "WorkOS API {Method} {Target} failed in the fake itself")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "WorkOS API {Method} {Target} answered {Status} as a fault asked")]
    private static partial void LogInjected(ILogger logger, string method, string target, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "WorkOS API {Target} served with one entry broken ({Kind}) as a fault asked")]
    private static partial void LogMalformed(ILogger logger, string target, MalformedEntry kind);
}
