using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DirectorySync.Feed;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>GET /changes end to end: what the feed tells rebuilds the mirror, long-polls hear a commit at once, bad requests are told why.</summary>
public sealed class ChangeFeedTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_mirror_rebuilt_from_the_feed_equals_the_mirror_after_shuffled_duplicated_delivery_cascades_included()
    {
        await using var system = await SyncSystem.StartAsync("feed_rebuild", FeedSystem.Settings());
        await FeedSystem.DeliverShuffledAsync(system, seed: 71, deleteDirectoryAtEnd: false, users: 80);
        await FeedSystem.DeliverShuffledAsync(system, seed: 72, deleteDirectoryAtEnd: true);

        var (rebuilt, differences) = await FeedSystem.FollowUntilMirrorAsync(system, TimeSpan.FromSeconds(60));
        Assert.True(differences.Count == 0, "the feed does not rebuild the mirror:\n" + string.Join("\n", differences.Take(15)));
        output.WriteLine($"{rebuilt.Applied} entries rebuilt {rebuilt.Users.Count} users, {rebuilt.Groups.Count} groups, {rebuilt.Memberships.Count} memberships");

        // The cascades are in it: a deletion followed, in its transaction, by the memberships it took, and one dsync.deleted.
        var events = await EventsAsync(system);
        Assert.Contains(events.Zip(events.Skip(1)), pair => pair.First.Event is "dsync.user.deleted" or "dsync.group.deleted"
            && pair.Second.Event == "dsync.group.user_removed" && pair.First.Position[..16] == pair.Second.Position[..16]);
        Assert.Single(events, e => e.Event == "dsync.deleted");
        Assert.Equal(events.Count, events.Select(e => e.Position).Distinct().Count());
    }

    [Fact]
    public async Task A_long_poll_returns_within_a_second_of_a_commit()
    {
        await using var system = await SyncSystem.StartAsync("feed_long_poll", FeedSystem.Settings());
        Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(Payloads.Activated("event_lp_1", "directory_lp", 1))).Status);
        var latest = (string)(await GetAsync(system, "/changes?directory=directory_lp")).Json!["list_metadata"]!["after"]!;

        for (var round = 0; round < 3; round++)
        {
            // One directory's feed: across directories an entry also waits for every older transaction on the server to
            // end, and the other test classes' databases share this server (BackpressureTests holds a lock for 30 s).
            var poll = GetAsync(system, $"/changes?after={latest}&directory=directory_lp&wait=20");
            await Task.Delay(1500);
            Assert.False(poll.IsCompleted, "the long-poll answered before anything changed");
            var (status, _) = await system.SendAsync(Payloads.UserCreated($"event_lp_u{round}", $"user_lp_{round}", "directory_lp", 2 + round));
            var acknowledged = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, status);
            var answer = await poll;
            output.WriteLine($"round {round}: answered {acknowledged.ElapsedMilliseconds} ms after the acknowledgement");
            Assert.True(acknowledged.Elapsed < TimeSpan.FromSeconds(1), $"the long-poll answered {acknowledged.ElapsedMilliseconds} ms after the commit");
            var entry = Assert.Single(answer.Json!["data"]!.AsArray())!;
            Assert.Equal(("dsync.user.created", $"user_lp_{round}"), ((string)entry["event"]!, (string)entry["data"]!["id"]!));
            latest = (string)answer.Json["list_metadata"]!["after"]!;
        }

        // Across directories, GET /changes/latest reaches this directory's last entry once every older transaction on the
        // server has ended (other test classes share it), and an unfiltered read from just before it finds that entry.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string newest;
        while (string.CompareOrdinal(newest = (string)(await GetAsync(system, "/changes/latest")).Json!["position"]!, latest) < 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"/changes/latest stayed at {newest}, before {latest}");
            await Task.Delay(200);
        }
        var all = (await GetAsync(system, "/changes?limit=1000")).Json!["data"]!.AsArray();
        Assert.Contains(all, e => (string)e!["position"]! == latest && (string)e["data"]!["id"]! == "user_lp_2");
    }

    [Fact]
    public async Task Bad_requests_are_answered_with_why_and_a_position_past_the_retention_with_410()
    {
        var settings = FeedSystem.Settings();
        settings["ChangeFeed:Retention"] = "00:00:01";
        await using var system = await SyncSystem.StartAsync("feed_errors", settings);
        await system.SendAsync(Payloads.Activated("event_er_1", "directory_er", 1));
        await system.SendAsync(Payloads.UserCreated("event_er_2", "user_er_1", "directory_er", 2));
        var first = (await GetAsync(system, "/changes")).Json!["data"]!.AsArray();
        Assert.Equal(2, first.Count);

        foreach (var (query, says) in new[]
        {
            ("after=nonsense", "after must be a position"),
            ("after=00000000000000010000000A", "after must be a position"),
            ("after=7fffffffffffffff00000000", "is not a position this feed gave out (no transaction has that id yet)"),
            ("limit=0", "limit must be a whole number from 1 to 1000"),
            ("limit=1001", "limit must be"),
            ("wait=31", "wait must be a whole number of seconds from 0 to 30"),
            ("wait=-1", "wait must be"),
        })
        {
            var answer = await GetAsync(system, "/changes?" + query);
            Assert.Equal((HttpStatusCode.BadRequest, "invalid_request_parameters"), (answer.Status, (string?)answer.Json?["code"]));
            Assert.Contains(says, (string)answer.Json!["message"]!);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(system, "/changes", key: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(system, "/changes", key: FeedSystem.Key + "x")).Status);

        await Task.Delay(1500);
        await system.SendAsync(Payloads.UserCreated("event_er_3", "user_er_2", "directory_er", 3));
        Assert.Equal(2, await system.Silos[0].Services.GetRequiredService<ChangeFeed>().PurgeAsync(TimeSpan.FromSeconds(1)));
        var expired = await GetAsync(system, $"/changes?after={first[0]!["position"]}");
        Assert.Equal((HttpStatusCode.Gone, "position_expired"), (expired.Status, (string?)expired.Json!["code"]));
        var kept = (await GetAsync(system, $"/changes?after={first[1]!["position"]}")).Json!["data"]!.AsArray();
        Assert.Equal((string?)kept.Single()!["position"], (string?)expired.Json["oldest_position"]);
        // Following from the start reads what is kept.
        Assert.Equal("user_er_2", (string?)(await GetAsync(system, "/changes")).Json!["data"]![0]!["data"]!["id"]);
    }

    private static async Task<(HttpStatusCode Status, JsonObject? Json)> GetAsync(SyncSystem system, string path, string? key = FeedSystem.Key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(system.GatewayUrl, path));
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await system.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text)!.AsObject() : null);
    }

    private static async Task<List<(string Event, string Position)>> EventsAsync(SyncSystem system)
    {
        var events = new List<(string, string)>();
        string? after = null;
        while (true)
        {
            var page = (await GetAsync(system, "/changes?limit=1000" + (after is null ? "" : "&after=" + after))).Json!;
            var data = page["data"]!.AsArray();
            if (data.Count == 0) return events;
            events.AddRange(data.Select(e => ((string)e!["event"]!, (string)e["position"]!)));
            after = (string)page["list_metadata"]!["after"]!;
        }
    }
}
