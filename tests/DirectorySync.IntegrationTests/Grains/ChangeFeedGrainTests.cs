using System.Text.Json;
using System.Text.Json.Nodes;
using DirectorySync.Events;
using DirectorySync.Feed;
using DirectorySync.Simulator.Feed;
using DirectorySync.Sync;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static DirectorySync.IntegrationTests.Events;

namespace DirectorySync.IntegrationTests.Grains;

/// <summary>
/// The change feed as the directory grain writes it, on real silos and Postgres: in any order, with duplicates, what the
/// feed tells rebuilds the mirror; it tells only effective changes; a deletion's cascade is in it.
/// </summary>
public sealed class ChangeFeedGrainTests : IAsyncLifetime
{
    private SyncTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SyncTestCluster.StartAsync("feed_grains", InactiveUsersPolicy.Delete);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private ChangeFeed Feed => _cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<ChangeFeed>();

    // Cascades of every kind: a user's deletion and a group's take their memberships, an inactive user is deleted (the
    // cluster's policy), a membership waits for its user.
    private static SyncEvent[] History(string d) =>
    [
        Activated(d, 1), UserCreated("u1" + d, d, 2), UserCreated("u2" + d, d, 2), UserCreated("u3" + d, d, 2),
        GroupCreated("g1" + d, d, 3), GroupCreated("g2" + d, d, 3), Added("g1" + d, "u1" + d, d, 4), Added("g2" + d, "u1" + d, d, 4),
        Added("g1" + d, "u2" + d, d, 4), Added("g2" + d, "u3" + d, d, 4), UserUpdated("u1" + d, d, 5, "x@example.com"),
        UserDeleted("u1" + d, d, 6), GroupDeleted("g2" + d, d, 7), UserUpdated("u2" + d, d, 8, "y@example.com", UserStates.Inactive),
        GroupUpdated("g1" + d, d, 9, "Team"), Added("g1" + d, "u4" + d, d, 11), UserCreated("u4" + d, d, 10),
    ];

    [Fact]
    public async Task Every_order_of_a_history_with_duplicates_writes_a_feed_that_rebuilds_the_mirror()
    {
        var random = new Random(20261206);
        for (var run = 0; run < 12; run++)
        {
            var d = $"feed{run}";
            var history = History(d);
            var shuffled = history.Concat(history.Where(_ => random.NextDouble() < 0.3)).OrderBy(_ => random.Next()).ToArray();
            if (run % 2 == 0) await _cluster.ApplyInOrderAsync(shuffled);
            else await _cluster.ApplyTogetherAsync(shuffled);

            var (rebuilt, entries) = await RebuildAsync(d);
            var differences = ShapedMirror.Compare(rebuilt, await ShapedMirror.ReadAsync(_cluster.ConnectionString, [d], CancellationToken.None));
            Assert.True(differences.Count == 0, $"run {run}, order [{string.Join(", ", shuffled.Select(e => $"{e.EventType}@{e.CreatedAt:ss}"))}]:\n"
                + string.Join("\n", differences) + "\nfeed: " + string.Join(", ", entries));
            Assert.Equal(["g1" + d + "/u4" + d], rebuilt.Memberships.Select(m => m.GroupId + "/" + m.UserId));
        }
    }

    [Fact]
    public async Task Only_effective_changes_are_told_and_a_deletion_is_followed_by_the_memberships_it_took()
    {
        const string d = "feed_effective";
        var history = History(d);
        await _cluster.ApplyInOrderAsync(history);
        var (_, entries) = await RebuildAsync(d);
        var told = entries.Count;
        // Every event again (WorkOS's retries), and events older than what they would change.
        await _cluster.ApplyInOrderAsync(history);
        await _cluster.ApplyInOrderAsync(UserUpdated("u4" + d, d, 9, "old@example.com"), Added("g2" + d, "u3" + d, d, 5), GroupUpdated("g1" + d, d, 8, "Old"));
        Assert.Equal(told, (await RebuildAsync(d)).Entries.Count);

        var deleted = entries.IndexOf("dsync.user.deleted u1" + d);
        Assert.Equal(["dsync.group.user_removed g1" + d + "/u1" + d, "dsync.group.user_removed g2" + d + "/u1" + d],
            entries.Skip(deleted + 1).Take(2).Order());
        Assert.Contains("dsync.group.user_removed g2" + d + "/u3" + d, entries.SkipWhile(e => e != "dsync.group.deleted g2" + d));
        Assert.Contains("dsync.user.deleted u2" + d, entries);
    }

    [Fact]
    public async Task A_deletion_older_than_the_directory_s_activation_is_one_dsync_deleted_then_what_is_still_shown()
    {
        const string d = "feed_late";
        await _cluster.ApplyInOrderAsync(Activated(d, 1), UserCreated("u1" + d, d, 2), GroupCreated("g1" + d, d, 2),
            UserCreated("u2" + d, d, 20), Added("g1" + d, "u2" + d, d, 21), Activated(d, 30));
        var before = (await RebuildAsync(d)).Entries.Count;

        await _cluster.ApplyInOrderAsync(DirectoryDeleted(d, 10));
        var (rebuilt, entries) = await RebuildAsync(d);
        Assert.Equal(["dsync.deleted ", "dsync.activated ", "dsync.user.created u2" + d], entries.Skip(before));
        Assert.Empty(ShapedMirror.Compare(rebuilt, await ShapedMirror.ReadAsync(_cluster.ConnectionString, [d], CancellationToken.None)));
    }

    /// <summary>The directory's whole feed applied in order, and each entry as "event id" (a membership: group/user).</summary>
    private async Task<(FeedReplica Rebuilt, List<string> Entries)> RebuildAsync(string directory)
    {
        var page = await Feed.ReadAsync(null, 1000, directory);
        var rebuilt = new FeedReplica();
        var entries = new List<string>();
        foreach (var entry in page.Entries)
        {
            var json = Json(entry);
            rebuilt.Apply(json);
            var data = json["data"]!;
            var id = data["user"] is { } user ? $"{data["group"]!["id"]}/{user["id"]}"
                : entry.Event is "dsync.activated" or "dsync.deleted" ? ""
                : (string)data["id"]!;
            entries.Add($"{entry.Event} {id}");
        }
        return (rebuilt, entries);
    }

    private static JsonObject Json(FeedEntry entry)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) entry.WriteTo(writer);
        return JsonNode.Parse(stream.ToArray())!.AsObject();
    }
}
