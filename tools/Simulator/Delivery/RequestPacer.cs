using System.Diagnostics;

namespace DirectorySync.Simulator.Delivery;

/// <summary>
/// Paces request starts to a steady rate: a token bucket that holds one token. Each start is booked one interval
/// after the previous booking, or now when every sender fell behind, so a slow stretch is never followed by a
/// catch-up burst. Shared by all senders of one delivery.
/// </summary>
internal sealed class RequestPacer(int startsPerSecond)
{
    private readonly long _interval = Math.Max(1, Stopwatch.Frequency / startsPerSecond);
    private readonly Lock _gate = new();
    private long _nextStart = Stopwatch.GetTimestamp();

    /// <summary>Waits for this caller's booked start.</summary>
    public Task WaitTurnAsync(CancellationToken cancellationToken)
    {
        long now, start;
        lock (_gate)
        {
            now = Stopwatch.GetTimestamp();
            start = Math.Max(now, _nextStart);
            _nextStart = start + _interval;
        }
        var wait = TimeSpan.FromSeconds((start - now) / (double)Stopwatch.Frequency);
        return wait >= TimeSpan.FromMilliseconds(1) ? Task.Delay(wait, cancellationToken) : Task.CompletedTask;
    }
}
