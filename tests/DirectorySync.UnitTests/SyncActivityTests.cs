using DirectorySync.Events;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class SyncActivityTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 10, 0, 3, TimeSpan.Zero);

    [Fact]
    public void Events_are_counted_by_outcome_in_the_ten_second_bucket_they_were_answered_in()
    {
        var clock = new SteppedClock { Now = Start };
        var activity = new SyncActivity(clock);
        activity.Record(ApplyOutcome.Applied, TimeSpan.FromMilliseconds(2));
        activity.Record(ApplyOutcome.Applied, TimeSpan.FromMilliseconds(3));
        activity.Record(ApplyOutcome.DeadLettered, acknowledgement: null);
        clock.Now += TimeSpan.FromSeconds(7);
        activity.Record(ApplyOutcome.Stale, TimeSpan.FromMilliseconds(40));

        var buckets = activity.Recent();

        Assert.Equal([Start.AddSeconds(-3), Start.AddSeconds(7)], buckets.Select(b => b.Start));
        Assert.Equal([2, 0, 0, 1], buckets[0].Outcomes);
        Assert.Equal(2, buckets[0].Acknowledgements.Sum());
        Assert.Equal([0, 0, 1, 0], buckets[1].Outcomes);
    }

    [Fact]
    public void Only_the_last_hour_is_kept_and_a_slot_reused_an_hour_later_starts_over()
    {
        var clock = new SteppedClock { Now = Start };
        var activity = new SyncActivity(clock);
        activity.Record(ApplyOutcome.Applied, TimeSpan.FromMilliseconds(1));
        clock.Now += TimeSpan.FromMinutes(59);
        activity.Record(ApplyOutcome.Applied, TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, activity.Recent().Length);

        clock.Now += TimeSpan.FromMinutes(1);
        activity.Record(ApplyOutcome.Duplicate, TimeSpan.FromMilliseconds(1));

        var buckets = activity.Recent();
        Assert.Equal(2, buckets.Length);
        Assert.Equal([1, 0, 0, 0], buckets[0].Outcomes);
        Assert.Equal([0, 1, 0, 0], buckets[1].Outcomes);
        Assert.Equal(Start.AddSeconds(-3).AddHours(1), buckets[1].Start);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    [InlineData(0.37)]
    [InlineData(1.0)]
    [InlineData(4.2)]
    [InlineData(17.0)]
    [InlineData(250.0)]
    [InlineData(3_100.0)]
    [InlineData(59_000.0)]
    public void An_acknowledgement_time_falls_in_the_bin_whose_bounds_hold_it(double milliseconds)
    {
        var bin = AcknowledgementBins.Of(TimeSpan.FromMilliseconds(milliseconds));

        Assert.True(milliseconds <= AcknowledgementBins.UpperBoundMilliseconds(bin));
        if (bin > 0) Assert.True(milliseconds > AcknowledgementBins.UpperBoundMilliseconds(bin - 1));
        // The bound read back is at most a fifth above the time.
        if (milliseconds > 0.1) Assert.True(AcknowledgementBins.UpperBoundMilliseconds(bin) <= milliseconds * 1.2);
    }

    [Fact]
    public void Times_past_the_last_bound_are_kept_in_the_last_bin()
    {
        Assert.Equal(AcknowledgementBins.Count - 1, AcknowledgementBins.Of(TimeSpan.FromMinutes(10)));
        Assert.InRange(AcknowledgementBins.UpperBoundMilliseconds(AcknowledgementBins.Count - 1), 60_000, 120_000);
    }

    [Fact]
    public void Buckets_of_several_silos_add_up_and_their_percentiles_are_read_from_the_sum()
    {
        var clock = new SteppedClock { Now = Start };
        var first = new SyncActivity(clock);
        var second = new SyncActivity(clock);
        for (var i = 0; i < 98; i++) first.Record(ApplyOutcome.Applied, TimeSpan.FromMilliseconds(2));
        second.Record(ApplyOutcome.Applied, TimeSpan.FromMilliseconds(2));
        second.Record(ApplyOutcome.Stale, TimeSpan.FromMilliseconds(900));
        second.Record(ApplyOutcome.Stale, TimeSpan.FromMilliseconds(900));

        var points = ActivitySeries.Points(first.Recent().Concat(second.Recent()), Start);

        Assert.Equal(360, points.Count);
        Assert.Equal(Start.AddSeconds(-3), points[^1].At);
        Assert.Equal(Start.AddSeconds(-3) - SyncActivity.Window + SyncActivity.BucketLength, points[0].At);
        var now = points[^1];
        Assert.Equal((99, 2), (now.Applied, now.Stale));
        Assert.InRange(now.P50Ms!.Value, 2, 2 * 1.2);
        // The 99th of 101 times is the first of the slow ones.
        Assert.InRange(now.P99Ms!.Value, 900, 900 * 1.2);
        Assert.All(points.SkipLast(1), p => Assert.Equal((0L, (double?)null), (p.Applied + p.Duplicate + p.Stale + p.DeadLettered, p.P99Ms)));
    }

    [Fact]
    public void Buckets_outside_the_hour_are_left_out()
    {
        var early = new ActivityBucket(Start.AddHours(-2), [5, 0, 0, 0], new long[AcknowledgementBins.Count]);
        var late = new ActivityBucket(Start.AddMinutes(1), [7, 0, 0, 0], new long[AcknowledgementBins.Count]);

        Assert.All(ActivitySeries.Points([early, late], Start), p => Assert.Equal(0, p.Applied));
    }
}
