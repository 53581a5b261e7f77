using DirectorySync.Simulator.Delivery;

namespace DirectorySync.Simulator.Cli;

/// <summary><c>replay</c>: resend events from a JSONL file or from the service's event log.</summary>
internal static class ReplayCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>(DeliveryArguments.ValueOptions)
    {
        "from", "from-event-log", "since",
    };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string> { "dead-letters-only" };

    public static async Task<int> RunAsync(CommandLine line, CancellationToken cancellationToken)
    {
        var delivery = DeliveryArguments.Read(line);
        var file = line.Text("from");
        var eventLog = line.Text("from-event-log");
        if ((file is null) == (eventLog is null)) throw new UsageException("Give exactly one of --from and --from-event-log.");
        if (file is not null && (line.Has("dead-letters-only") || line.Text("since") is not null))
        {
            throw new UsageException("--dead-letters-only and --since apply to --from-event-log only.");
        }

        var events = file is not null
            ? await EventSources.ReadJsonlAsync(file, cancellationToken)
            : await EventSources.ReadEventLogAsync(eventLog!, line.Has("dead-letters-only"), line.Time("since"), cancellationToken);
        RunSummary.Line("read", $"{events.Count:N0} events from {(file ?? "the event log")}");

        var report = await DeliveryArguments.DeliverAsync(events, delivery, cancellationToken);
        RunSummary.Line("result", report.AllAcknowledged ? "OK" : "FAILED");
        return report.AllAcknowledged ? 0 : 1;
    }
}
