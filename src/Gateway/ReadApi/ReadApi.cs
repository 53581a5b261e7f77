using System.Data;
using DirectorySync.Feed;
using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;

namespace DirectorySync.Gateway.ReadApi;

/// <summary>
/// The mirror served the way WorkOS's Directory Sync REST API serves directories (FACTS §8), at the same root paths, so
/// an application using an official WorkOS SDK switches over by changing its API hostname. Every answer carries an
/// <c>X-Request-ID</c>; errors are WorkOS's <c>{message, code, errors?}</c>; an answer about one directory tells when it
/// was last confirmed current (<c>X-DirectorySync-Synced-At</c>), so the application can fall back to WorkOS when the
/// mirror is stale. Only callers presenting a key from <c>ReadApi__Keys</c> are answered.
/// </summary>
public static partial class ReadApi
{
    public const string RequestIdHeader = "X-Request-ID";
    public const string SyncedAtHeader = "X-DirectorySync-Synced-At";

    private static readonly JsonSerializerOptions ErrorJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Its settings and connection pool; nothing when no keys are configured (then <see cref="MapReadApi"/> maps nothing).</summary>
    public static WebApplicationBuilder AddReadApi(this WebApplicationBuilder builder, string connectionString)
    {
        var options = ReadApiOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);
        if (options.IsEnabled) builder.Services.AddKeyedSingleton(nameof(ReadApi), (_, _) => CreateDataSource(connectionString, options));
        return builder;
    }

    public static WebApplication MapReadApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<ReadApiOptions>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ReadApi));
        if (!options.IsEnabled)
        {
            LogNotMapped(logger);
            return app;
        }

        var api = app.MapGroup("").AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            http.Response.Headers[RequestIdHeader] = Guid.NewGuid().ToString();
            var header = http.Request.Headers.Authorization.ToString();
            var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
            if (options.Admits(key)) return await next(context);
            LogUnauthorized(logger, http.Request.Path, key is null ? "no bearer key" : "a key that is not in ReadApi__Keys",
                http.Connection.RemoteIpAddress?.ToString());
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Error(new ReadApiError(StatusCodes.Status401Unauthorized, "Unauthorized: give a key of ReadApi__Keys as 'Authorization: Bearer <key>'.", "unauthorized"));
        });
        foreach (var resource in Enum.GetValues<Resource>())
        {
            api.MapGet($"/{resource.Path()}", (HttpContext context, [FromKeyedServices(nameof(ReadApi))] NpgsqlDataSource db) =>
                ListAsync(context, db, resource, options.UserGroups, logger));
            api.MapGet($"/{resource.Path()}/{{id}}", (HttpContext context, string id, [FromKeyedServices(nameof(ReadApi))] NpgsqlDataSource db) =>
                GetAsync(context, db, resource, id, options.UserGroups, logger));
        }
        LogMapped(logger, options.KeyHashes.Count, options.UserGroups);
        return app;
    }

    /// <summary>
    /// The read API's connections: a small pool of its own; statements prepared once per connection with generic plans
    /// (each page is one of a few statements, and planning one costs more than running it); sequential scans off, so a
    /// plan is never a scan chosen while a table was small (every read walks an index); no parallel workers, which cost
    /// more than they save on reads this size; a read buffer that takes a page's body (100 to 200 KB) in a few reads.
    /// </summary>
    private static NpgsqlDataSource CreateDataSource(string connectionString, ReadApiOptions options)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.MaxPoolSize = options.MaxConnections;
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.ReadBufferSize = 64 * 1024;
        builder.ConnectionStringBuilder.MaxAutoPrepare = 128;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        builder.ConnectionStringBuilder.Options = "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c max_parallel_workers_per_gather=0";
        return builder.Build();
    }

    private static async Task<IResult> ListAsync(HttpContext context, NpgsqlDataSource db, Resource resource, UserGroups userGroups, ILogger logger)
    {
        var (request, invalid) = ListRequest.Parse(resource, context.Request.Query);
        if (invalid is not null) return Refused(context, invalid, logger);
        return await ServeAsync(context, db, ReadQuery.ForList(request!, userGroups), missing => missing switch
        {
            "after" or "before" => InvalidCursor(request!, missing),
            "directory" => ReadApiError.NotFound(Resource.Directories, request!.Filter(missing)!),
            "group" => ReadApiError.NotFound(Resource.Groups, request!.Filter(missing)!),
            _ => ReadApiError.NotFound(Resource.Users, request!.Filter(missing)!),
        }, logger);
    }

    /// <summary>A cursor naming no object of the list's kind, by the name the client gave it (order=normal swaps them).</summary>
    private static ReadApiError InvalidCursor(ListRequest request, string cursor)
    {
        var id = cursor == "after" ? request.After : request.Before;
        var given = request.CursorsSwapped ? (cursor == "after" ? "before" : "after") : cursor;
        return ReadApiError.Invalid(new FieldError(given, "invalid_cursor",
            $"'{given}' must be the id of a {request.Resource.Noun()} of this list; there is none with id '{id}'."));
    }

    // Kestrel refuses a path holding NUL (which Postgres text cannot) before it gets here.
    private static Task<IResult> GetAsync(HttpContext context, NpgsqlDataSource db, Resource resource, string id, UserGroups userGroups, ILogger logger) =>
        ServeAsync(context, db, ReadQuery.ForObject(resource, id, userGroups), _ => ReadApiError.NotFound(resource, id), logger);

    /// <summary>Runs <paramref name="query"/> and streams its body to the client; a missing object or no body is refused.</summary>
    private static async Task<IResult> ServeAsync(HttpContext context, NpgsqlDataSource db, ReadQuery query, Func<string, ReadApiError> missing, ILogger logger)
    {
        var response = context.Response;
        try
        {
            await using var command = db.CreateCommand(query.Sql);
            foreach (var value in query.Parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow, context.RequestAborted);
            await reader.ReadAsync(context.RequestAborted);
            var absent = await reader.IsDBNullAsync(0, context.RequestAborted) ? null : reader.GetString(0);
            var syncedAt = await reader.IsDBNullAsync(1, context.RequestAborted) ? (DateTime?)null : reader.GetDateTime(1);
            if (absent is not null || await reader.IsDBNullAsync(2, context.RequestAborted))
                return Refused(context, missing(absent ?? ""), logger);

            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            if (syncedAt is { } at) response.Headers[SyncedAtHeader] = FeedEntry.Time(at);
            await using (var body = await reader.GetStreamAsync(2, context.RequestAborted))
            {
                await body.CopyToAsync(response.Body, context.RequestAborted);
            }
            return Results.Empty;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && !context.RequestAborted.IsCancellationRequested)
        {
            LogDatabaseFailed(logger, e, context.Request.Path, response.Headers[RequestIdHeader].ToString());
            // Once the body has begun the status cannot change: cutting the connection tells the client the answer is incomplete.
            if (response.HasStarted)
            {
                context.Abort();
                return Results.Empty;
            }
            return Error(new ReadApiError(StatusCodes.Status503ServiceUnavailable, "The mirror's database did not answer; retry.", "service_unavailable"));
        }
    }

    private static IResult Refused(HttpContext context, ReadApiError error, ILogger logger)
    {
        LogRefused(logger, error.Status, context.Request.Path, error.Message, context.Response.Headers[RequestIdHeader].ToString());
        return Error(error);
    }

    private static IResult Error(ReadApiError error) =>
        Results.Json(new { error.Message, error.Code, error.Errors }, ErrorJson, statusCode: error.Status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read API not mapped: ReadApi__Keys is not set (GET /directories, /directory_users and /directory_groups answer 404)")]
    private static partial void LogNotMapped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read API mapped at /directories, /directory_users and /directory_groups for {Keys} key(s); users' groups {UserGroups}")]
    private static partial void LogMapped(ILogger logger, int keys, UserGroups userGroups);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Read API refused {Path} with 401: {Reason} (from {RemoteAddress})")]
    private static partial void LogUnauthorized(ILogger logger, string path, string reason, string? remoteAddress);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read API answered {Status} to {Path}: {Reason} (request {RequestId})")]
    private static partial void LogRefused(ILogger logger, int status, string path, string reason, string requestId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Read API could not read {Path} from Postgres (request {RequestId})")]
    private static partial void LogDatabaseFailed(ILogger logger, Exception exception, string path, string requestId);
}
