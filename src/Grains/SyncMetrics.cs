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

    static SyncMetrics() => Meter.CreateObservableGauge("directorysync.pending.objects", () => Volatile.Read(ref _pending),
        description: "Objects waiting in sync_pending, as of the last purge");

    public static void PendingObjects(int waiting, int purged)
    {
        Volatile.Write(ref _pending, waiting);
        PendingPurged.Add(purged);
    }

    public static void Count(ApplyOutcome outcome) => Events.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString()));

    public static void Flushed(int events, TimeSpan duration)
    {
        BatchSizes.Record(events);
        BatchDurations.Record(duration.TotalMilliseconds);
    }

    public static void Loaded(TimeSpan duration) => LoadDurations.Record(duration.TotalMilliseconds);
}
