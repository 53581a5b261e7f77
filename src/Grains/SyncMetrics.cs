using System.Diagnostics.Metrics;
using DirectorySync.Events;

namespace DirectorySync;

/// <summary>The sync engine's instruments (meter <c>DirectorySync</c>, exported on the silo's /metrics).</summary>
internal static class SyncMetrics
{
    private static readonly Meter Meter = new("DirectorySync");
    private static readonly Counter<long> Events = Meter.CreateCounter<long>("directorysync.events", description: "Events by outcome");
    private static readonly Histogram<int> BatchSizes = Meter.CreateHistogram<int>("directorysync.batch.size", description: "Events per flush of a directory");
    private static readonly Histogram<double> BatchDurations = Meter.CreateHistogram<double>("directorysync.batch.duration", "ms", "One flush's transaction");
    private static readonly Histogram<double> LoadDurations = Meter.CreateHistogram<double>("directorysync.directory.load.duration", "ms", "Loading a directory's index");

    private static readonly Counter<long> PendingPurged = Meter.CreateCounter<long>("directorysync.pending.purged",
        description: "Pending objects given up on after the retention period (their directory, user or group never came)");
    private static int _pending;

    static SyncMetrics()
    {
        Meter.CreateObservableGauge("directorysync.pending.objects", () => Volatile.Read(ref _pending),
            description: "Objects waiting in sync_pending, as of the last purge");
        Meter.CreateObservableGauge("directorysync.events_api.lag", () => Interlocked.Read(ref _eventsCaughtUpTicks) is var ticks and > 0
                ? (DateTime.UtcNow.Ticks - ticks) / (double)TimeSpan.TicksPerSecond
                : -1, "s",
            "Seconds since the Events API tail last had everything WorkOS had (-1 before it first caught up on this silo)");
    }

    public static void PendingObjects(int waiting, int purged)
    {
        Volatile.Write(ref _pending, waiting);
        PendingPurged.Add(purged);
    }

    private static readonly Counter<long> ReconcileRuns = Meter.CreateCounter<long>("directorysync.reconcile.runs",
        description: "Reconciliations and backfills finished, by status (completed, held)");
    private static readonly Counter<long> ReconcileObjects = Meter.CreateCounter<long>("directorysync.reconcile.objects",
        description: "What reconciliations found: listed, repaired (rows written because they were missing or differed), memberships_added, deleted, held_back");
    private static readonly Counter<long> EventsPolled = Meter.CreateCounter<long>("directorysync.events_api.events",
        description: "Events read from the WorkOS Events API, by outcome");
    private static long _eventsCaughtUpTicks;

    public static void Reconciled(string status, Storage.ReconcileReport report)
    {
        ReconcileRuns.Add(1, new KeyValuePair<string, object?>("status", status));
        Add("listed", report.UsersListed + report.GroupsListed + report.MembershipsListed);
        Add("repaired", report.Repaired);
        Add("memberships_added", report.MembershipsAdded);
        Add("deleted", report.Deleted);
        Add("held_back", report.HeldBack);

        static void Add(string what, int count) => ReconcileObjects.Add(count, new KeyValuePair<string, object?>("what", what));
    }

    public static void Polled(ApplyOutcome outcome) => EventsPolled.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    /// <summary>The Events API tail had applied everything WorkOS had at this time.</summary>
    public static void EventsCaughtUp(DateTimeOffset at) => Interlocked.Exchange(ref _eventsCaughtUpTicks, at.UtcTicks);

    public static void Count(ApplyOutcome outcome) => Events.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    public static void Flushed(int events, TimeSpan duration)
    {
        BatchSizes.Record(events);
        BatchDurations.Record(duration.TotalMilliseconds);
    }

    public static void Loaded(TimeSpan duration) => LoadDurations.Record(duration.TotalMilliseconds);
}
