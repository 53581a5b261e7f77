namespace DirectorySync.Simulator.Delivery;

/// <summary>Where a delivery stands: requests acknowledged or given up on, out of all scheduled, and retries so far.</summary>
public readonly record struct DeliveryProgress(int Acknowledged, int Failed, int Total, int Retries, TimeSpan Elapsed)
{
    public int Done => Acknowledged + Failed;
}

/// <summary>A request that was still not acknowledged after its last attempt.</summary>
public sealed record DeliveryFailure(string EventId, string EventType, int Attempts, string LastError);

/// <summary>Acknowledgement latency of the attempts that succeeded: from sending the request to its response.</summary>
public readonly record struct LatencySummary(TimeSpan P50, TimeSpan P99, TimeSpan Max)
{
    public static LatencySummary From(long[] stopwatchTicks)
    {
        if (stopwatchTicks.Length == 0) return default;
        Array.Sort(stopwatchTicks);
        return new LatencySummary(Percentile(stopwatchTicks, 0.50), Percentile(stopwatchTicks, 0.99), Ticks(stopwatchTicks[^1]));
    }

    private static TimeSpan Percentile(long[] sorted, double fraction) =>
        Ticks(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)]);

    private static TimeSpan Ticks(long stopwatchTicks) =>
        TimeSpan.FromSeconds(stopwatchTicks / (double)System.Diagnostics.Stopwatch.Frequency);
}

/// <summary>The acknowledgements that came in one stretch of a delivery (from <see cref="Start"/>, lasting <see cref="Length"/>).</summary>
public sealed record DeliveryWindow(TimeSpan Start, TimeSpan Length, int Acknowledged, LatencySummary AckLatency)
{
    public double RequestsPerSecond => Length > TimeSpan.Zero ? Acknowledged / Length.TotalSeconds : 0;
}

/// <summary>How a delivery went. Every scheduled request is either acknowledged or listed in <see cref="Failures"/>.</summary>
public sealed record DeliveryReport(
    int Events,
    int Requests,
    int Acknowledged,
    int Retries,
    IReadOnlyList<DeliveryFailure> Failures,
    TimeSpan Duration,
    LatencySummary AckLatency,
    IReadOnlyList<DeliveryWindow> Windows)
{
    public bool AllAcknowledged => Acknowledged == Requests;

    public double RequestsPerSecond => Duration > TimeSpan.Zero ? Acknowledged / Duration.TotalSeconds : 0;
}
