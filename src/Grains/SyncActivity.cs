using DirectorySync.Events;

namespace DirectorySync;

/// <summary>
/// This silo's last hour of events in 10-second buckets: how many were answered, by outcome, and for those a directory
/// grain answered, how long each took from the grain receiving it to its flush committing (what the sender waits for).
/// Kept in memory only; the operator console adds up every silo's buckets (<see cref="ISyncActivityService"/>).
/// </summary>
public sealed class SyncActivity(TimeProvider clock)
{
    public static readonly TimeSpan BucketLength = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);
    public static readonly int OutcomeCount = Enum.GetValues<ApplyOutcome>().Length;
    private static readonly int SlotCount = (int)(Window / BucketLength);

    private readonly Lock _lock = new();
    private readonly Slot?[] _slots = new Slot?[SlotCount];

    /// <summary>An event was answered; <paramref name="acknowledgement"/> is null when no directory grain timed it.</summary>
    public void Record(ApplyOutcome outcome, TimeSpan? acknowledgement)
    {
        var start = BucketStart(clock.GetUtcNow());
        var index = (int)(start.UtcTicks / BucketLength.Ticks % SlotCount);
        lock (_lock)
        {
            var slot = _slots[index];
            // A slot last used an hour (or more) ago starts over.
            if (slot is null || slot.Start != start) _slots[index] = slot = new Slot(start);
            slot.Outcomes[(int)outcome]++;
            if (acknowledgement is { } time) slot.Acknowledgements[AcknowledgementBins.Of(time)]++;
        }
    }

    /// <summary>The buckets of the last hour that saw an event, oldest first (copies).</summary>
    public ActivityBucket[] Recent()
    {
        var oldest = BucketStart(clock.GetUtcNow()) - Window + BucketLength;
        lock (_lock)
        {
            return _slots.OfType<Slot>().Where(s => s.Start >= oldest).OrderBy(s => s.Start)
                .Select(s => new ActivityBucket(s.Start, [.. s.Outcomes], [.. s.Acknowledgements])).ToArray();
        }
    }

    public static DateTimeOffset BucketStart(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % BucketLength.Ticks, TimeSpan.Zero);

    private sealed class Slot(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;
        public long[] Outcomes { get; } = new long[OutcomeCount];
        public long[] Acknowledgements { get; } = new long[AcknowledgementBins.Count];
    }
}

/// <summary>One interval of the cluster's activity as the console draws it.</summary>
public sealed record ActivityPoint(
    DateTimeOffset At, long Applied, long Duplicate, long Stale, long DeadLettered, double? P50Ms, double? P99Ms);

/// <summary>Adds up the buckets of several silos into the last hour's points.</summary>
public static class ActivitySeries
{
    /// <summary>Every interval of the hour up to <paramref name="now"/>, oldest first; intervals without events are zeros.</summary>
    public static IReadOnlyList<ActivityPoint> Points(IEnumerable<ActivityBucket> buckets, DateTimeOffset now)
    {
        var last = SyncActivity.BucketStart(now);
        var first = last - SyncActivity.Window + SyncActivity.BucketLength;
        var sums = new Dictionary<DateTimeOffset, (long[] Outcomes, long[] Acknowledgements)>();
        foreach (var bucket in buckets.Where(b => b.Start >= first && b.Start <= last))
        {
            if (!sums.TryGetValue(bucket.Start, out var sum))
                sums[bucket.Start] = sum = (new long[SyncActivity.OutcomeCount], new long[AcknowledgementBins.Count]);
            Add(sum.Outcomes, bucket.Outcomes);
            Add(sum.Acknowledgements, bucket.Acknowledgements);
        }
        var points = new List<ActivityPoint>();
        for (var at = first; at <= last; at += SyncActivity.BucketLength)
        {
            var (outcomes, times) = sums.GetValueOrDefault(at, (new long[SyncActivity.OutcomeCount], new long[AcknowledgementBins.Count]));
            points.Add(new ActivityPoint(at, outcomes[(int)ApplyOutcome.Applied], outcomes[(int)ApplyOutcome.Duplicate],
                outcomes[(int)ApplyOutcome.Stale], outcomes[(int)ApplyOutcome.DeadLettered], Percentile(times, 0.50), Percentile(times, 0.99)));
        }
        return points;
    }

    /// <summary>The upper bound of the bin holding the <paramref name="quantile"/> of the times, or null without any.</summary>
    public static double? Percentile(long[] acknowledgements, double quantile)
    {
        var total = acknowledgements.Sum();
        if (total == 0) return null;
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var bin = 0; bin < acknowledgements.Length; bin++)
        {
            seen += acknowledgements[bin];
            if (seen >= rank) return AcknowledgementBins.UpperBoundMilliseconds(bin);
        }
        return AcknowledgementBins.UpperBoundMilliseconds(acknowledgements.Length - 1);
    }

    // A silo of another version may send arrays of another length: what both know is added.
    private static void Add(long[] into, long[] values)
    {
        for (var i = 0; i < Math.Min(into.Length, values.Length); i++) into[i] += values[i];
    }
}
