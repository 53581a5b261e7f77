using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.Mirror;

namespace DirectorySync.Simulator.Cli;

/// <summary><c>simulate</c>: generate a history, then write it out, deliver it, and check the mirror, as asked.</summary>
internal static class SimulateCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>(
        [.. DeliveryArguments.ValueOptions, .. HistoryArguments.ValueOptions, "inactive-policy", "verify", "verify-timeout-s", "verify-columns", "out"]);

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string>(HistoryArguments.FlagOptions);

    public static async Task<int> RunAsync(CommandLine line, CancellationToken cancellationToken)
    {
        var options = HistoryArguments.Read(line);
        var policy = line.Choice("inactive-policy", InactivePolicy.Retain, ("retain", InactivePolicy.Retain), ("delete", InactivePolicy.Delete));
        var delivery = line.Text("url") is null ? null : DeliveryArguments.Read(line);
        var verifyConnection = line.Text("verify");
        var verifyColumns = line.Choice("verify-columns", MirrorColumns.All, ("all", MirrorColumns.All), ("common", MirrorColumns.Common));
        var verifyPatience = line.Seconds("verify-timeout-s", TimeSpan.FromSeconds(30));
        var outPath = line.Text("out");

        var history = HistoryArguments.Generate(options);

        if (outPath is not null)
        {
            await EventSources.WriteJsonlAsync(outPath, history.Events, cancellationToken);
            RunSummary.Line("written", $"{outPath}");
        }

        var succeeded = true;
        if (delivery is not null)
        {
            var report = await DeliveryArguments.DeliverAsync(history.Events, delivery, cancellationToken);
            succeeded = report.AllAcknowledged;
        }

        if (verifyConnection is not null)
        {
            var expected = history.Expected(policy);
            var differences = await MirrorVerifier.WaitForMatchAsync(
                verifyConnection, expected, verifyPatience, history.DirectoryIds, verifyColumns, cancellationToken);
            RunSummary.Verification(differences, expected, policy, verifyColumns);
            succeeded &= differences.Count == 0;
        }

        RunSummary.Line("result", succeeded ? "OK" : "FAILED");
        return succeeded ? 0 : 1;
    }
}
