using System.Diagnostics;
using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.Mirror;

namespace DirectorySync.Simulator.Cli;

/// <summary><c>simulate</c>: generate a history, then write it out, deliver it, and check the mirror, as asked.</summary>
internal static class SimulateCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>(DeliveryArguments.ValueOptions)
    {
        "users", "groups", "memberships-per-user", "churn", "directories", "generation", "inactive-policy", "verify",
        "verify-timeout-s", "verify-columns", "out", "start",
    };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string> { "delete-directory" };

    public static async Task<int> RunAsync(CommandLine line, CancellationToken cancellationToken)
    {
        var defaults = new HistoryOptions();
        var options = new HistoryOptions
        {
            Directories = line.Integer("directories", defaults.Directories, minimum: 1),
            UsersPerDirectory = line.Integer("users", defaults.UsersPerDirectory),
            GroupsPerDirectory = line.Integer("groups", defaults.GroupsPerDirectory),
            MembershipsPerUser = line.Integer("memberships-per-user", defaults.MembershipsPerUser),
            ChurnPerDirectory = line.Integer("churn", defaults.ChurnPerDirectory),
            DeleteDirectoryAtEnd = line.Has("delete-directory"),
            Generation = line.Choice("generation", defaults.Generation,
                ("new", PayloadGeneration.New), ("old", PayloadGeneration.Old), ("mixed", PayloadGeneration.Mixed)),
            Seed = line.Integer("seed", defaults.Seed, minimum: int.MinValue),
            StartAt = line.Time("start") ?? defaults.StartAt,
        };
        var policy = line.Choice("inactive-policy", InactivePolicy.Retain, ("retain", InactivePolicy.Retain), ("delete", InactivePolicy.Delete));
        var delivery = line.Text("url") is null ? null : DeliveryArguments.Read(line);
        var verifyConnection = line.Text("verify");
        var verifyColumns = line.Choice("verify-columns", MirrorColumns.All, ("all", MirrorColumns.All), ("common", MirrorColumns.Common));
        var verifyPatience = line.Seconds("verify-timeout-s", TimeSpan.FromSeconds(30));
        var outPath = line.Text("out");

        var clock = Stopwatch.StartNew();
        var history = HistoryGenerator.Generate(options);
        RunSummary.Line("generated", $"{history.Events.Count:N0} events for {options.Directories} {(options.Directories == 1 ? "directory" : "directories")} " +
            $"in {clock.Elapsed.TotalMilliseconds:N0} ms ({options.Generation.ToString().ToLowerInvariant()} payloads, seed {options.Seed})");

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
