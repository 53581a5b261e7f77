using System.Net;

namespace DirectorySync.Hosting;

/// <summary>
/// Counts failed token attempts per client address in fixed one-minute windows: past the limit, the address is refused
/// until its window ends. At most <see cref="MaxTracked"/> addresses are remembered, so a flood from many addresses
/// cannot grow it without bound; when full, finished windows are dropped first, then everything.
/// </summary>
public sealed class FailedAttemptThrottle(TimeProvider clock, int limit = FailedAttemptThrottle.DefaultLimit)
{
    public const int DefaultLimit = 5;
    public const int MaxTracked = 10_000;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Dictionary<IPAddress, (DateTimeOffset Start, int Failures)> _windows = [];
    private readonly Lock _lock = new();

    /// <summary>True while <paramref name="client"/> has used up its attempts; <paramref name="retryAfter"/> is how long until it may try again.</summary>
    public bool IsBlocked(IPAddress client, out TimeSpan retryAfter)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            retryAfter = _windows.TryGetValue(client, out var window) && window.Failures >= limit && now - window.Start < Window
                ? window.Start + Window - now
                : TimeSpan.Zero;
        }
        return retryAfter > TimeSpan.Zero;
    }

    /// <summary>Counts a failure; answers true when it is the one that used up the client's attempts.</summary>
    public bool RecordFailure(IPAddress client)
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            if (!_windows.TryGetValue(client, out var window) || now - window.Start >= Window)
            {
                if (_windows.Count >= MaxTracked) Prune(now);
                window = (now, 0);
            }
            window.Failures++;
            _windows[client] = window;
            return window.Failures == limit;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (client, window) in _windows.Where(entry => now - entry.Value.Start >= Window).ToList()) _windows.Remove(client);
        // Still full of live windows: forgetting them all only gives those clients their attempts back, once per minute.
        if (_windows.Count >= MaxTracked) _windows.Clear();
    }

    /// <summary>How many addresses are remembered (for tests of the bound).</summary>
    public int Tracked
    {
        get
        {
            lock (_lock) return _windows.Count;
        }
    }
}
