using System.Text;
using System.Text.Json.Serialization;
using DirectorySync.Events;
using DirectorySync.Grains;
using DirectorySync.Hosting;
using DirectorySync.Storage;
using DirectorySync.WorkOS;

namespace DirectorySync.Silo;

/// <summary>
/// The operator's view of the sync and what can be done about it: directories and their state, one directory's sync,
/// reconciliation on demand, dead letters and their replay, the cluster's recent activity, the outbound webhooks
/// (<see cref="WebhookAdminApi"/>). Mapped under <c>/admin</c> (scripts, with the bearer token) and <c>/console/api</c>
/// (the console page, whose sign-in cookie is scoped to <c>/console</c>), both behind <c>Operations__Token</c> when it
/// is set (like the dashboard).
/// </summary>
public static partial class AdminEndpoints
{
    public const string Prefix = "/admin";
    private const int DefaultListLimit = 200;
    private const int MaxListLimit = 1000;

    // A silo that does not answer within this is left out of the activity (and the answer says how many answered).
    private static readonly TimeSpan SiloAnswerTimeout = TimeSpan.FromSeconds(5);

    public static void MapAdminEndpoints(this WebApplication app) => app.MapGroup(Prefix).RequireOperationsToken(Prefix).MapOperationsApi();

    /// <summary>Maps the operations API on <paramref name="api"/> (a group already behind the operations token).</summary>
    public static RouteGroupBuilder MapOperationsApi(this RouteGroupBuilder api)
    {
        // Postgres or the cluster unreachable: the operator hears so (503), with the reason, rather than a bare 500.
        api.AddEndpointFilter(async (EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception e) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
            {
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminEndpoints))
                    .LogWarning(e, "{Method} {Path} failed", context.HttpContext.Request.Method, context.HttpContext.Request.Path);
                return (object?)Problem(StatusCodes.Status503ServiceUnavailable, $"Temporarily unable to answer: {e.Message}");
            }
        });
        api.MapGet("/directories", DirectoriesAsync);
        api.MapPost("/directories/{id}/reconcile", ReconcileAsync);
        api.MapGet("/directories/{id}/sync", SyncStatusAsync);
        api.MapGet("/dead-letters", DeadLettersAsync);
        api.MapPost("/dead-letters/{eventId}/replay", ReplayAsync);
        api.MapGet("/activity", ActivityAsync);
        return api.MapWebhookAdminApi();
    }

    /// <summary>Every directory (at most <c>limit</c>, default 200) with its counts, last event, freshness, pending objects and last run.</summary>
    private static async Task<IResult> DirectoriesAsync(string? limit, IGrainFactory grains, WorkOSOptions workos, SyncStatusQueries queries)
    {
        if (ListLimit(limit) is not { } count) return BadLimit(limit);
        // The cursor before Postgres, as for one directory's status below.
        var eventsApi = await EventsApiAsync(grains, workos);
        var (total, directories) = await queries.DirectoriesAsync(count);
        return Results.Json(new DirectoryList(eventsApi, total, directories), AdminJson.Default.DirectoryList);
    }

    /// <summary>Starts a reconciliation in the background: 202 with its run id (or the run already under way).</summary>
    private static async Task<IResult> ReconcileAsync(string id, string? force, IGrainFactory grains, WorkOSOptions workos)
    {
        if (BadId(id) is { } bad) return bad;
        if (force is not (null or "true" or "false"))
            return Problem(StatusCodes.Status400BadRequest, $"force must be true or false, not '{force}'");
        if (!workos.IsConfigured)
            return Problem(StatusCodes.Status409Conflict, "WorkOS__ApiKey (or WORKOS_API_KEY) is not set: there is no WorkOS API to reconcile with");
        var forced = force == "true";
        var runId = await grains.GetGrain<IReconcileGrain>(id).StartAsync(forced ? "operator request (forced)" : "operator request", forced);
        return Results.Json(new ReconcileStarted(runId, id, forced, $"{Prefix}/directories/{id}/sync"), AdminJson.Default.ReconcileStarted,
            statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> SyncStatusAsync(
        string id, IGrainFactory grains, WorkOSOptions workos, ReconcileStore runs, SyncStatusQueries queries)
    {
        if (BadId(id) is { } bad) return bad;
        // Each grain is asked before Postgres: the cursor moves only after its events are durable, and a run's report is
        // saved before its progress moves on, so what Postgres answers next is at least as far along (never behind).
        var eventsApi = await EventsApiAsync(grains, workos);
        var (known, lastEvent, pendingCount, pending) = await queries.DirectoryAsync(id);
        if (!known) return Problem(StatusCodes.Status404NotFound, $"Directory {id} is unknown here: no event, row or reconciliation names it");

        var progress = workos.IsConfigured ? await grains.GetGrain<IReconcileGrain>(id).ProgressAsync() : null;
        var summary = await grains.GetGrain<IDirectoryGrain>(id).SummaryAsync();
        var lastRun = (await runs.RunsAsync(id, 1)).FirstOrDefault();
        // A run can be held with nothing to delete (WorkOS no longer lists the directory): its report's note says why.
        var heldRun = lastRun is { Status: "held", Report.HeldBack: > 0 } ? lastRun : null;
        var held = heldRun is null ? [] : await runs.PlanAsync(heldRun.RunId, SyncStatusQueries.PendingSample);

        return Results.Json(new DirectorySyncStatus(
            id,
            new MirrorCounts(summary.IsShown, summary.Users, summary.Groups, summary.Memberships),
            lastEvent,
            eventsApi,
            new ReconciliationStatus(progress?.RunId is not null ? progress : null, lastRun),
            new HeldDeletions(heldRun?.RunId, heldRun?.Report.HeldBack ?? 0, held),
            new PendingObjects(pendingCount, pending)), AdminJson.Default.DirectorySyncStatus);
    }

    /// <summary>The newest dead letters (at most <c>limit</c>, default 200) and how many there are.</summary>
    private static async Task<IResult> DeadLettersAsync(string? limit, SyncStatusQueries queries)
    {
        if (ListLimit(limit) is not { } count) return BadLimit(limit);
        var (total, deadLetters) = await queries.DeadLettersAsync(count);
        return Results.Json(new DeadLetterList(total, deadLetters), AdminJson.Default.DeadLetterList);
    }

    /// <summary>
    /// Applies a dead letter again from its stored payload, through the webhook's parser and the directory's grain: an
    /// event that now can be applied is, and one that still cannot stays a dead letter with this attempt recorded.
    /// </summary>
    private static async Task<IResult> ReplayAsync(string eventId, IGrainFactory grains, SyncStatusQueries queries, ILoggerFactory loggers)
    {
        if (BadId(eventId, "An event id") is { } bad) return bad;
        var logged = await queries.EventAsync(eventId);
        if (logged is null)
            return Problem(StatusCodes.Status404NotFound, $"Event {eventId} is not in the event log (never received, or older than DirectorySync__Retention)");
        if (logged.Outcome != "dead_letter")
            return Problem(StatusCodes.Status409Conflict, $"Event {eventId} is not a dead letter: its outcome is {logged.Outcome}");
        if (logged.Payload is null)
            return Problem(StatusCodes.Status409Conflict, $"Event {eventId} has no stored payload to replay");

        var deadLetters = grains.GetGrain<IDeadLetterGrain>(0);
        var answer = WorkOSEventParser.Parse(Encoding.UTF8.GetBytes(logged.Payload)) switch
        {
            ParsedWebhook.Applicable applicable => await EventRouting.ApplyAsync(grains, applicable.Event),
            ParsedWebhook.DeadLettered dead => await RecordAsync(dead.Letter),
            // A dead letter is a Directory Sync event by construction; its stored payload saying otherwise is kept as its reason.
            ParsedWebhook.NotAnEnvelope notAnEvent => await RecordAsync(StillDead($"on replay the stored payload is not an event: {notAnEvent.Reason}")),
            ParsedWebhook.Ignored ignored => await RecordAsync(StillDead($"on replay the stored payload is of type {ignored.EventType}, which is not applied")),
            _ => throw new InvalidOperationException("Unknown parse result"),
        };
        var after = await queries.EventAsync(eventId);
        LogReplayed(loggers.CreateLogger(typeof(AdminEndpoints)), eventId, logged.EventType, answer, after?.Outcome, after?.Reason);
        return Results.Json(new DeadLetterReplayed(eventId, answer switch
        {
            ApplyOutcome.Applied => "applied",
            ApplyOutcome.Duplicate => "duplicate",
            ApplyOutcome.Stale => "stale",
            _ => "dead_letter",
        }, after?.Outcome, after?.Reason, after?.Attempts ?? logged.Attempts), AdminJson.Default.DeadLetterReplayed);

        async Task<ApplyOutcome> RecordAsync(DeadLetter letter)
        {
            await deadLetters.RecordAsync(letter);
            return ApplyOutcome.DeadLettered;
        }

        DeadLetter StillDead(string reason) => new(eventId, logged.EventType, null, null, reason, logged.Payload);
    }

    /// <summary>Events answered over the last hour, per 10 s, added up over every active silo that answers.</summary>
    private static async Task<IResult> ActivityAsync(SyncActivityClient activity, IClusterMembershipService membership, ILoggerFactory loggers)
    {
        var silos = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        var answers = await Task.WhenAll(silos.Select(async silo =>
        {
            try
            {
                return await activity.On(silo).RecentAsync().WaitAsync(SiloAnswerTimeout);
            }
            catch (Exception e)
            {
                LogSiloActivityMissing(loggers.CreateLogger(typeof(AdminEndpoints)), e, silo.ToString());
                return null;
            }
        }));
        var points = ActivitySeries.Points(answers.OfType<ActivityBucket[]>().SelectMany(a => a), DateTimeOffset.UtcNow);
        return Results.Json(new ClusterActivity(SyncActivity.BucketLength.TotalSeconds, silos.Count, answers.Count(a => a is not null), points),
            AdminJson.Default.ClusterActivity);
    }

    /// <summary>The Events API tail's position and lag (one tail for the whole environment).</summary>
    private static async Task<EventsApiStatus> EventsApiAsync(IGrainFactory grains, WorkOSOptions workos)
    {
        var cursor = workos.IsConfigured ? await grains.GetGrain<IWorkOSSourceGrain>(0).CursorAsync() : null;
        return new EventsApiStatus(workos.IsConfigured, cursor?.After, cursor?.AfterCreatedAt, cursor?.LastPolledAt, cursor?.CaughtUpAt,
            cursor?.CaughtUpAt is { } caughtUp ? (DateTimeOffset.UtcNow - caughtUp).TotalSeconds : null, cursor?.LastError);
    }

    private static int? ListLimit(string? limit) => limit is null ? DefaultListLimit
        : int.TryParse(limit, System.Globalization.NumberStyles.None, null, out var value) && value is >= 1 and <= MaxListLimit ? value
        : null;

    private static IResult BadLimit(string? limit) =>
        Problem(StatusCodes.Status400BadRequest, $"limit must be a whole number from 1 to {MaxListLimit}, not '{limit}'");

    private static IResult? BadId(string id, string what = "A directory id") => string.IsNullOrWhiteSpace(id) || id.Length > WorkOSEventParser.MaxIdLength
        ? Problem(StatusCodes.Status400BadRequest, $"{what} is 1 to {WorkOSEventParser.MaxIdLength} characters")
        : null;

    private static IResult Problem(int status, string message) =>
        Results.Json(new AdminError(message), AdminJson.Default.AdminError, statusCode: status);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Dead letter {EventId} ({EventType}) replayed by an operator: {Answer}; its event log row is now {Outcome} ({Reason})")]
    private static partial void LogReplayed(ILogger logger, string eventId, string eventType, ApplyOutcome answer, string? outcome, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} did not report its activity; the console shows the other silos' sum")]
    private static partial void LogSiloActivityMissing(ILogger logger, Exception exception, string silo);
}

public sealed record ReconcileStarted(long RunId, string DirectoryId, bool Forced, string StatusUrl);

public sealed record AdminError(string Message);

public sealed record DirectorySyncStatus(
    string DirectoryId, MirrorCounts Mirror, LastEvent? LastEvent, EventsApiStatus EventsApi, ReconciliationStatus Reconciliation,
    HeldDeletions HeldDeletions, PendingObjects Pending);

public sealed record MirrorCounts(bool Shown, int Users, int Groups, int Memberships);

public sealed record EventsApiStatus(
    bool Configured, string? Cursor, DateTimeOffset? CursorCreatedAt, DateTimeOffset? LastPolledAt, DateTimeOffset? CaughtUpAt,
    double? LagSeconds, string? LastError);

public sealed record ReconciliationStatus(ReconcileProgress? InProgress, ReconcileRun? Last);

public sealed record HeldDeletions(long? RunId, int Count, IReadOnlyList<PlannedDeletion> Sample);

public sealed record PendingObjects(int Count, IReadOnlyList<PendingObject> Sample);

public sealed record DirectoryList(EventsApiStatus EventsApi, int Total, IReadOnlyList<DirectoryOverview> Directories);

public sealed record DeadLetterList(int Total, IReadOnlyList<DeadLetterEntry> DeadLetters);

/// <summary>What the directory's grain answered the replayed event, and its event log row after it.</summary>
public sealed record DeadLetterReplayed(string EventId, string Answer, string? Outcome, string? Reason, int Attempts);

/// <summary>The last hour per <see cref="BucketSeconds"/>, summed over <see cref="SilosAnswered"/> of the active silos.</summary>
public sealed record ClusterActivity(double BucketSeconds, int Silos, int SilosAnswered, IReadOnlyList<ActivityPoint> Points);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ReconcileStarted))]
[JsonSerializable(typeof(AdminError))]
[JsonSerializable(typeof(DirectorySyncStatus))]
[JsonSerializable(typeof(DirectoryList))]
[JsonSerializable(typeof(DeadLetterList))]
[JsonSerializable(typeof(DeadLetterReplayed))]
[JsonSerializable(typeof(ClusterActivity))]
internal sealed partial class AdminJson : JsonSerializerContext;
