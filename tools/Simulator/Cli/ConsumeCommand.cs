using System.Diagnostics;
using DirectorySync.Simulator.Feed;

namespace DirectorySync.Simulator.Cli;

/// <summary>
/// <c>consume</c>: follows the change feed from its start (or a position) as an application would, and with --verify
/// checks that what it rebuilt is exactly the mirror.
/// </summary>
internal static class ConsumeCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>
    {
        "url", "key", "after", "directory", "idle-s", "verify", "verify-timeout-s",
    };

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string>();

    public static async Task<int> RunAsync(CommandLine line, CancellationToken cancellationToken)
    {
        var gateway = line.Urls("url").Single();
        var key = line.RequiredText("key");
        var directory = line.Text("directory");
        var idle = line.Seconds("idle-s", TimeSpan.FromSeconds(5));
        if (idle > TimeSpan.FromSeconds(30)) throw new UsageException("--idle-s must be at most 30 (the longest long-poll).");

        var replica = new FeedReplica();
        using var http = new HttpClient { Timeout = idle + TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        await new FeedFollower(http, gateway, key).FollowAsync(line.Text("after"), directory, idle, replica.Apply, cancellationToken);
        RunSummary.Line("followed", $"{replica.Applied:N0} entries in {clock.Elapsed.TotalSeconds:N1} s, up to {replica.Position ?? "(none)"}: " +
            $"{replica.Directories.Count:N0} directories, {replica.Users.Count:N0} users, {replica.Groups.Count:N0} groups, {replica.Memberships.Count:N0} memberships");

        var succeeded = true;
        if (line.Text("verify") is { } connectionString)
        {
            var differences = await ShapedMirror.WaitForMatchAsync(connectionString, replica, directory is null ? null : [directory],
                line.Seconds("verify-timeout-s", TimeSpan.FromSeconds(30)), cancellationToken);
            RunSummary.Line("verified", differences.Count == 0
                ? "what the feed rebuilt is exactly the mirror"
                : $"{differences.Count:N0} difference(s):\n  " + string.Join("\n  ", differences.Take(20)));
            succeeded = differences.Count == 0;
        }
        RunSummary.Line("result", succeeded ? "OK" : "FAILED");
        return succeeded ? 0 : 1;
    }
}
