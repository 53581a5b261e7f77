namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>
/// One request the fake answered: when it arrived, with which API key (null when refused as unauthenticated), what it
/// asked and the status it got. <see cref="DirectoryId"/> is the directory a <c>/directory_users</c> request read
/// (named, or through its group or user), the unit of WorkOS's 4 requests/s limit.
/// </summary>
public sealed record ApiRequest(
    DateTimeOffset At, string? ApiKey, string Method, string Path, string QueryString, int Status, string? DirectoryId);

/// <summary>Every request answered, so a test can check its client's manners: rate, retries, which key.</summary>
public sealed class ApiTraffic
{
    private readonly Lock _gate = new();
    private readonly List<ApiRequest> _requests = [];

    /// <summary>A copy of the requests, in the order they were answered.</summary>
    public IReadOnlyList<ApiRequest> Requests
    {
        get { lock (_gate) return [.. _requests]; }
    }

    /// <summary>Authenticated requests per API key.</summary>
    public IReadOnlyDictionary<string, int> RequestsByKey
    {
        get
        {
            lock (_gate)
            {
                return _requests.Where(r => r.ApiKey is not null)
                    .CountBy(r => r.ApiKey!, StringComparer.Ordinal)
                    .ToDictionary(StringComparer.Ordinal);
            }
        }
    }

    /// <summary>How many 429s were served.</summary>
    public int Throttled
    {
        get { lock (_gate) return _requests.Count(r => r.Status == 429); }
    }

    /// <summary>When each <c>/directory_users</c> request for this directory arrived, in order.</summary>
    public IReadOnlyList<DateTimeOffset> DirectoryUserRequests(string directoryId)
    {
        lock (_gate)
        {
            return [.. _requests.Where(r => r.DirectoryId == directoryId).Select(r => r.At).Order()];
        }
    }

    /// <summary>
    /// The most <c>/directory_users</c> requests for this directory that arrived within any span of
    /// <paramref name="window"/> (half-open, so requests exactly one window apart are not counted together): at most 4
    /// per second is WorkOS's limit.
    /// </summary>
    public int PeakDirectoryUserRequests(string directoryId, TimeSpan window)
    {
        var times = DirectoryUserRequests(directoryId);
        var peak = 0;
        var first = 0;
        for (var last = 0; last < times.Count; last++)
        {
            while (times[last] - times[first] >= window) first++;
            peak = Math.Max(peak, last - first + 1);
        }
        return peak;
    }

    public void Clear()
    {
        lock (_gate) _requests.Clear();
    }

    internal void Record(ApiRequest request)
    {
        lock (_gate) _requests.Add(request);
    }
}
