using DirectorySync.Simulator.History;

namespace DirectorySync.Simulator.Cli;

/// <summary>The options that shape a generated history, shared by the commands that generate one.</summary>
internal static class HistoryArguments
{
    public static readonly string[] ValueOptions =
    [
        "users", "groups", "memberships-per-user", "churn", "directories", "generation", "seed", "start",
    ];

    public static readonly string[] FlagOptions = ["delete-directory"];

    public static HistoryOptions Read(CommandLine line)
    {
        var defaults = new HistoryOptions();
        return new HistoryOptions
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
    }

    /// <summary>Generates the history and says so on stdout.</summary>
    public static GeneratedHistory Generate(HistoryOptions options)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var history = HistoryGenerator.Generate(options);
        RunSummary.Line("generated", $"{history.Events.Count:N0} events for {options.Directories} {(options.Directories == 1 ? "directory" : "directories")} " +
            $"in {clock.Elapsed.TotalMilliseconds:N0} ms ({options.Generation.ToString().ToLowerInvariant()} payloads, seed {options.Seed})");
        return history;
    }
}
