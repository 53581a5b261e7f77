using Orleans.Concurrency;

namespace DirectorySync;

/// <summary>
/// Reconciles one directory (key: its WorkOS id) with WorkOS's REST API: lists the directory, its groups, users and
/// memberships, repairs what differs through the directory's grain, and deletes what WorkOS no longer lists when the
/// guards allow. A backfill is the same run for a directory the mirror lacks. Progress is grain state: a run resumes
/// page by page after a crash.
/// </summary>
public interface IReconcileGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts a run (or returns the one under way). <paramref name="force"/> lifts the deletion guards: a held run's
    /// plan is applied as it was planned, or the next run deletes whatever its complete listing did not show.
    /// </summary>
    Task<long> StartAsync(string reason, bool force);

    /// <summary>Starts a backfill if the mirror lacks the directory and no run is under way.</summary>
    [OneWay]
    Task BackfillIfMissingAsync(string reason);

    /// <summary>Where the run is; answered between the run's steps' awaits (it only reads).</summary>
    [AlwaysInterleave]
    Task<ReconcileProgress> ProgressAsync();
}

/// <summary>Where a directory's run is.</summary>
[GenerateSerializer]
public sealed record ReconcileProgress(
    [property: Id(0)] long? RunId,
    [property: Id(1)] string Phase,
    [property: Id(2)] string? LastError,
    [property: Id(3)] int Failures);

/// <summary>
/// The environment's link to WorkOS (key 0): lists its directories at start and every reconciliation interval
/// (backfilling those the mirror lacks, reconciling the others), and tails the Events API, applying each page's events
/// through the directories' grains before the cursor moves past them.
/// </summary>
public interface IWorkOSSourceGrain : IGrainWithIntegerKey
{
    /// <summary>Registers the reminder that keeps the source running (every silo calls it at start; idempotent).</summary>
    Task EnsureStartedAsync();

    /// <summary>A webhook arrived: poll the Events API soon (debounced).</summary>
    [OneWay]
    Task NudgeAsync();

    /// <summary>Polls the Events API now, until it is caught up; returns how many events were applied.</summary>
    Task<int> PollAsync();

    /// <summary>Lists every directory WorkOS has and starts a run for each (only those the mirror lacks, if asked).</summary>
    Task<int> ReconcileAllAsync(string reason, bool onlyMissing);

    Task<EventsCursor> CursorAsync();
}

/// <summary>The Events API tail's position: the last event applied, and how far behind now it is.</summary>
[GenerateSerializer]
public sealed record EventsCursor(
    [property: Id(0)] string? After,
    [property: Id(1)] DateTimeOffset? AfterCreatedAt,
    [property: Id(2)] DateTimeOffset? LastPolledAt,
    [property: Id(3)] DateTimeOffset? CaughtUpAt,
    [property: Id(4)] string? LastError);
