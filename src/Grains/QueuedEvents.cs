using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace DirectorySync;

/// <summary>
/// Counts the events this silo has accepted and not yet answered (queued in directory grains or in a flush). Past
/// <see cref="SyncOptions.MaxQueuedEvents"/> new events are refused at once (the gateway answers 503, WorkOS retries),
/// so a slow Postgres bounds the silo's memory instead of growing it until every request times out.
/// </summary>
public sealed class QueuedEvents
{
    private static readonly Meter Meter = new("DirectorySync");
    private int _count;

    public QueuedEvents(IOptions<SyncOptions> options)
    {
        Limit = options.Value.MaxQueuedEvents;
        Meter.CreateObservableGauge("directorysync.queue.depth", () => Volatile.Read(ref _count),
            description: "Events accepted and not yet written (or failed)");
    }

    public int Limit { get; }

    public int Count => Volatile.Read(ref _count);

    public bool TryAdd()
    {
        if (Interlocked.Increment(ref _count) <= Limit) return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    public void Remove() => Interlocked.Decrement(ref _count);
}

/// <summary>The event was not accepted (the silo's queue is full, or Postgres is stuck): safe to retry.</summary>
public sealed class EventNotAcceptedException(string message) : Exception(message);
