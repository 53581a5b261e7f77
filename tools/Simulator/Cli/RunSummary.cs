using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.Mirror;

namespace DirectorySync.Simulator.Cli;

/// <summary>
/// The closing lines of a run on stdout: what was sent, how fast, what failed, whether the mirror matched.
/// Numbers format with the invariant culture (the project runs with invariant globalization).
/// </summary>
internal static class RunSummary
{
    private const int ShownProblems = 10;

    public static void Line(string label, string text) => Console.Out.WriteLine($"{label,-12} {text}");

    public static void Delivery(DeliveryReport report, WebhookDeliveryOptions options)
    {
        var duplicates = report.Requests - report.Events;
        Line("events", $"{report.Events:N0} as {report.Requests:N0} requests ({duplicates:N0} duplicates), " +
            $"{(options.Order == DeliveryOrder.InOrder ? "in order" : "shuffled")}, {options.Concurrency} in flight" +
            (options.RatePerSecond is { } rate ? $", starts paced at {rate:N0}/s" : ""));
        Line("duration", $"{report.Duration.TotalSeconds:0.00} s");
        Line("throughput", $"{report.RequestsPerSecond:N0} events/s acknowledged");
        Line("ack latency", $"p50 {Ms(report.AckLatency.P50)}, p99 {Ms(report.AckLatency.P99)}, max {Ms(report.AckLatency.Max)}");
        foreach (var window in report.Windows)
        {
            var end = window.Start + window.Length;
            Line("window", $"{window.Start.TotalSeconds:0}-{end.TotalSeconds:0} s: {window.Acknowledged:N0} acknowledged, " +
                $"{window.RequestsPerSecond:N0}/s, p50 {Ms(window.AckLatency.P50)}, p99 {Ms(window.AckLatency.P99)}, max {Ms(window.AckLatency.Max)}");
        }
        Line("retries", $"{report.Retries:N0}");
        Line("failures", $"{report.Failures.Count:N0}");
        foreach (var failure in report.Failures.Take(ShownProblems))
        {
            Console.Out.WriteLine($"  {failure.EventId} {failure.EventType}: {failure.LastError} after {failure.Attempts} attempts");
        }
        if (report.Failures.Count > ShownProblems) Console.Out.WriteLine($"  … and {report.Failures.Count - ShownProblems:N0} more");
    }

    public static void Verification(
        IReadOnlyList<MirrorDifference> differences, MirrorSnapshot expected, InactivePolicy policy, MirrorColumns columns)
    {
        var scope = $"{policy.ToString().ToLowerInvariant()} policy{(columns == MirrorColumns.Common ? ", common columns only" : "")}";
        if (differences.Count == 0)
        {
            Line("mirror", $"matches the expected mirror ({scope}): {expected}");
            return;
        }
        Line("mirror", $"{differences.Count:N0} differences from the expected mirror ({scope}): {expected}");
        foreach (var difference in differences.Take(ShownProblems))
        {
            Console.Out.WriteLine($"  {difference}");
        }
        if (differences.Count > ShownProblems) Console.Out.WriteLine($"  … and {differences.Count - ShownProblems:N0} more");
    }

    private static string Ms(TimeSpan duration) => $"{duration.TotalMilliseconds:0.0} ms";
}
