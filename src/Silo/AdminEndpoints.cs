using System.Text.Json.Serialization;
using DirectorySync.Grains;
using DirectorySync.Hosting;
using DirectorySync.Storage;
using DirectorySync.WorkOS;

namespace DirectorySync.Silo;

/// <summary>
/// The operator's view of one directory's sync and the way to reconcile it on demand: <c>/admin</c> on the silo,
/// behind <c>Operations__Token</c> when it is set (like the dashboard).
/// </summary>
public static class AdminEndpoints
{
    public const string Prefix = "/admin";

    public static void MapAdminEndpoints(this WebApplication app)
    {
        var admin = app.MapGroup(Prefix).RequireOperationsToken(Prefix);
        // Postgres or the cluster unreachable: the operator hears so (503), with the reason, rather than a bare 500.
        admin.AddEndpointFilter(async (EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
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
        admin.MapPost("/directories/{id}/reconcile", ReconcileAsync);
        admin.MapGet("/directories/{id}/sync", SyncStatusAsync);
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
        var cursor = workos.IsConfigured ? await grains.GetGrain<IWorkOSSourceGrain>(0).CursorAsync() : null;
        var (known, lastEvent, pendingCount, pending) = await queries.DirectoryAsync(id);
        if (!known) return Problem(StatusCodes.Status404NotFound, $"Directory {id} is unknown here: no event, row or reconciliation names it");

        var progress = workos.IsConfigured ? await grains.GetGrain<IReconcileGrain>(id).ProgressAsync() : null;
        var summary = await grains.GetGrain<IDirectoryGrain>(id).SummaryAsync();
        var lastRun = (await runs.RunsAsync(id, 1)).FirstOrDefault();
        // A run can be held with nothing to delete (WorkOS no longer lists the directory): its report's note says why.
        var heldRun = lastRun is { Status: "held", Report.HeldBack: > 0 } ? lastRun : null;
        var held = heldRun is null ? [] : await runs.PlanAsync(heldRun.RunId, SyncStatusQueries.PendingSample);
        var now = DateTimeOffset.UtcNow;

        return Results.Json(new DirectorySyncStatus(
            id,
            new MirrorCounts(summary.IsShown, summary.Users, summary.Groups, summary.Memberships),
            lastEvent,
            new EventsApiStatus(workos.IsConfigured, cursor?.After, cursor?.AfterCreatedAt, cursor?.LastPolledAt, cursor?.CaughtUpAt,
                cursor?.CaughtUpAt is { } caughtUp ? (now - caughtUp).TotalSeconds : null, cursor?.LastError),
            new ReconciliationStatus(progress?.RunId is not null ? progress : null, lastRun),
            new HeldDeletions(heldRun?.RunId, heldRun?.Report.HeldBack ?? 0, held),
            new PendingObjects(pendingCount, pending)), AdminJson.Default.DirectorySyncStatus);
    }

    private static IResult? BadId(string id) => string.IsNullOrWhiteSpace(id) || id.Length > WorkOSEventParser.MaxIdLength
        ? Problem(StatusCodes.Status400BadRequest, $"A directory id is 1 to {WorkOSEventParser.MaxIdLength} characters")
        : null;

    private static IResult Problem(int status, string message) =>
        Results.Json(new AdminError(message), AdminJson.Default.AdminError, statusCode: status);
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

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ReconcileStarted))]
[JsonSerializable(typeof(AdminError))]
[JsonSerializable(typeof(DirectorySyncStatus))]
internal sealed partial class AdminJson : JsonSerializerContext;
