using System.Threading.RateLimiting;

namespace DirectorySync.WorkOS;

/// <summary>
/// Keeps this service under WorkOS's rate limits, so that it is not answered 429 in the first place: requests a minute
/// per API key (the service has one key, so one limit for every request) and requests a second per directory on
/// <c>/directory_users</c>. A request over a limit waits its turn; none is refused.
/// </summary>
internal sealed class WorkOSRateLimits : IDisposable
{
    /// <summary>The directory a <c>/directory_users</c> request counts against (a group's listing names only the group).</summary>
    public static readonly HttpRequestOptionsKey<string> Directory = new("DirectorySync.WorkOS.Directory");

    private readonly PartitionedRateLimiter<HttpRequestMessage> _limiter;

    public WorkOSRateLimits(WorkOSOptions options)
    {
        var perKey = PartitionedRateLimiter.Create<HttpRequestMessage, bool>(
            _ => RateLimitPartition.Get(true, _ => AtMost(options.RequestsPerMinute, TimeSpan.FromMinutes(1))));
        var perDirectory = PartitionedRateLimiter.Create<HttpRequestMessage, string>(
            request => request.Options.TryGetValue(Directory, out var directoryId)
                ? RateLimitPartition.Get(directoryId, _ => AtMost(options.DirectoryUsersPerSecond, TimeSpan.FromSeconds(1)))
                : RateLimitPartition.GetNoLimiter(""));
        // The directory's turn first: waiting for it must not hold a permit of the key's budget.
        _limiter = PartitionedRateLimiter.CreateChained(perDirectory, perKey);
    }

    /// <summary>Waits until <paramref name="request"/> may be sent; cancelled only by <paramref name="cancellationToken"/>.</summary>
    public ValueTask<RateLimitLease> AcquireAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _limiter.AcquireAsync(request, 1, cancellationToken);

    public void Dispose() => _limiter.Dispose();

    /// <summary>
    /// No more than <paramref name="permits"/> in any <paramref name="period"/>, wherever the period starts. A sliding window
    /// hands a permit back up to one segment before the window has passed over it, so the window is a fifth longer than
    /// the period, which leaves the server a tenth of it for the requests' jitter on the way.
    /// </summary>
    private static SlidingWindowRateLimiter AtMost(int permits, TimeSpan period) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = permits,
        Window = period * 1.2,
        SegmentsPerWindow = 12,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });
}
