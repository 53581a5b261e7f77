using Orleans.Services;

namespace DirectorySync;

/// <summary>
/// One per silo (an Orleans grain service): what the silo's directory grains did over the last hour, so the operator
/// console can add up every silo's part.
/// </summary>
public interface ISyncActivityService : IGrainService
{
    /// <summary>This silo's buckets of the last hour that saw any event, oldest first.</summary>
    Task<ActivityBucket[]> RecentAsync();
}

/// <summary>
/// Events answered in one interval: how many, by <see cref="Events.ApplyOutcome"/> (indexed by its value), and a
/// histogram of their acknowledgement times (counts per <see cref="AcknowledgementBins"/> bin), so that buckets of
/// several silos add up and their percentiles can still be read.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ActivityBucket(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] long[] Outcomes,
    [property: Id(2)] long[] Acknowledgements);

/// <summary>
/// The bins of acknowledgement times: bin <c>i</c> holds times up to 0.1 ms × 2^(i/4) (each about 19% wider than the
/// one before it), so a percentile read from them is at most that far above the true one. The last bin (up to about
/// 88 s) also holds everything longer.
/// </summary>
public static class AcknowledgementBins
{
    public const int Count = 80;
    private const double FirstBoundMilliseconds = 0.1;
    private const double BinsPerDoubling = 4;

    public static double UpperBoundMilliseconds(int bin) => FirstBoundMilliseconds * Math.Pow(2, bin / BinsPerDoubling);

    public static int Of(TimeSpan time)
    {
        var milliseconds = time.TotalMilliseconds;
        if (milliseconds <= FirstBoundMilliseconds) return 0;
        var bin = (int)Math.Ceiling(Math.Log2(milliseconds / FirstBoundMilliseconds) * BinsPerDoubling);
        return Math.Min(bin, Count - 1);
    }
}
