using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// Outbound webhooks end to end, to real HTTP endpoints that verify with the Standard Webhooks reference library: each
/// directory's entries arrive in order and once, whatever the endpoint did meanwhile, and one endpoint's trouble is its own.
/// </summary>
public sealed class WebhookDeliveryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_endpoint_that_was_down_for_a_while_then_receives_everything_in_order_with_no_entry_applied_twice()
    {
        await using var receiver = new WebhookReceiver();
        await using var system = await SyncSystem.StartAsync("webhooks_down", FeedSystem.Settings(("app", receiver.Url)));
        // Down (nothing listening) while the history arrives, then answering 503 now and then for a while.
        await FeedSystem.DeliverShuffledAsync(system, seed: 81, deleteDirectoryAtEnd: true);
        await Task.Delay(2000);
        var flaky = new Random(81);
        receiver.Answer = n => n < 40 && flaky.NextDouble() < 0.3 ? (503, null) : null;
        await receiver.StartAsync();

        var differences = await FeedSystem.WaitForMirrorAsync(system, receiver.Replica, Patience);
        Assert.True(differences.Count == 0, "the endpoint's copy differs from the mirror:\n" + string.Join("\n", differences.Take(15)));
        Assert.Empty(receiver.Problems);
        output.WriteLine($"{receiver.Replica.Applied} entries in {receiver.Accepted} messages, {receiver.Requests.Count} requests");
        Assert.True(receiver.Requests.Count > receiver.Accepted, "no message was refused: the retries were not tested");
        // Batches of at most ChangeFeed__MaxBatch (50), so fewer messages than entries.
        Assert.InRange(receiver.Accepted, (receiver.Replica.Applied + 49) / 50, receiver.Replica.Applied / 2);
    }

    [Fact]
    public async Task An_endpoint_that_hangs_or_fails_delays_only_its_own_deliveries()
    {
        await using var healthy = new WebhookReceiver();
        await using var hanging = new WebhookReceiver { Hangs = true };
        await using var failing = new WebhookReceiver { Answer = _ => (500, null) };
        await Task.WhenAll(healthy.StartAsync(), hanging.StartAsync(), failing.StartAsync());
        await using var system = await SyncSystem.StartAsync("webhooks_isolated",
            FeedSystem.Settings(("healthy", healthy.Url), ("hanging", hanging.Url), ("failing", failing.Url)));

        var started = Stopwatch.StartNew();
        await FeedSystem.DeliverShuffledAsync(system, seed: 82, deleteDirectoryAtEnd: false);
        var intake = started.Elapsed;
        var differences = await FeedSystem.WaitForMirrorAsync(system, healthy.Replica, TimeSpan.FromSeconds(15));
        Assert.True(differences.Count == 0, "the healthy endpoint was held up:\n" + string.Join("\n", differences.Take(15)));
        output.WriteLine($"intake {intake.TotalSeconds:F1} s; healthy endpoint complete {started.Elapsed.TotalSeconds:F1} s after the first event; " +
            $"hanging endpoint asked {hanging.Requests.Count} times, failing one {failing.Requests.Count} times");
        Assert.Empty(healthy.Problems);
        Assert.True(hanging.Requests.Count > 0 && failing.Requests.Count > 1, "the troubled endpoints were not tried");

        // Healed, they catch up in order, each entry once.
        hanging.Hangs = false;
        failing.Answer = _ => null;
        foreach (var receiver in new[] { hanging, failing })
        {
            Assert.Empty(await FeedSystem.WaitForMirrorAsync(system, receiver.Replica, Patience));
            Assert.Empty(receiver.Problems);
        }
    }

    [Fact]
    public async Task Retry_after_is_honoured_a_410_disables_the_endpoint_and_a_replay_delivers_again()
    {
        await using var receiver = new WebhookReceiver { Answer = n => n == 1 ? (429, "3") : null };
        await receiver.StartAsync();
        await using var system = await SyncSystem.StartAsync("webhooks_gone", FeedSystem.Settings(("app", receiver.Url)));
        await system.SendAsync(Payloads.Activated("event_g_1", "directory_g", 1));
        await system.SendAsync(Payloads.UserCreated("event_g_2", "user_g_1", "directory_g", 2));
        Assert.Empty(await FeedSystem.WaitForMirrorAsync(system, receiver.Replica, Patience));
        var requests = receiver.Requests.ToArray();
        // The schedule's first wait is a millisecond here; Retry-After said 3 s.
        Assert.True(requests[1] - requests[0] >= TimeSpan.FromSeconds(2.9), $"retried after {(requests[1] - requests[0]).TotalMilliseconds} ms");

        receiver.Answer = _ => (410, null);
        await system.SendAsync(Payloads.UserCreated("event_g_3", "user_g_2", "directory_g", 3));
        var status = await WaitForStatusAsync(system, s => s["disabled_reason"] is not null);
        Assert.Contains("410", (string)status["disabled_reason"]!);
        var asked = receiver.Requests.Count;
        await system.SendAsync(Payloads.UserCreated("event_g_4", "user_g_3", "directory_g", 4));
        await Task.Delay(1500);
        Assert.Equal(asked, receiver.Requests.Count);

        // The application is back and asks for a replay from the start: it skips the positions it has, the rest arrives in order.
        receiver.Answer = _ => null;
        receiver.SkipsSeenPositions = true;
        var replay = await AdminAsync(system, HttpMethod.Post, "/admin/webhooks/app/replay?from=000000000000000000000000");
        Assert.Equal(HttpStatusCode.OK, replay.Status);
        Assert.Null(replay.Json!["disabled_reason"]);
        Assert.Empty(await FeedSystem.WaitForMirrorAsync(system, receiver.Replica, Patience));
        Assert.Empty(receiver.Problems);

        Assert.Equal(HttpStatusCode.BadRequest, (await AdminAsync(system, HttpMethod.Post, "/admin/webhooks/app/replay?from=soon")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await AdminAsync(system, HttpMethod.Get, "/admin/webhooks/other")).Status);
    }

    [Fact]
    public async Task A_directory_whose_first_entry_commits_behind_a_long_open_transaction_is_delivered_once_it_commits()
    {
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        await using var system = await SyncSystem.StartAsync("webhooks_late_commit", FeedSystem.Settings(("app", receiver.Url)));

        // A transaction that stays open (as a dump or a report on the same database would) and holds the first entry of
        // a directory the endpoint has not heard of: its position is below everything written meanwhile.
        await using var open = new NpgsqlConnection(system.ConnectionString);
        await open.OpenAsync();
        await using var transaction = await open.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO change_feed (xact, ordinal, directory_id, event, data)
            VALUES (pg_current_xact_id()::text::bigint, 1, 'directory_late', 'dsync.activated',
                    '{"object": "directory", "id": "directory_late", "state": "linked"}')
            """, open, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        // Meanwhile another directory's changes commit, and arrive while the transaction is still open.
        await system.SendAsync(Payloads.Activated("event_l_1", "directory_early", 1));
        await system.SendAsync(Payloads.UserCreated("event_l_2", "user_l_1", "directory_early", 2));
        await WaitUntilAsync(() => receiver.Replica.Users.ContainsKey("user_l_1"), "the other directory's entries");

        await transaction.CommitAsync();
        await WaitUntilAsync(() => receiver.Replica.Directories.ContainsKey("directory_late"), "the late directory's entry");
        Assert.Empty(receiver.Problems);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} never arrived");
            await Task.Delay(100);
        }
    }

    private static async Task<JsonObject> WaitForStatusAsync(SyncSystem system, Func<JsonObject, bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var status = (await AdminAsync(system, HttpMethod.Get, "/admin/webhooks/app")).Json!;
            if (condition(status)) return status;
            Assert.True(DateTime.UtcNow < deadline, $"status never came: {status.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonObject? Json)> AdminAsync(SyncSystem system, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, new Uri(new Uri(system.Silos[0].Urls.Single()), path));
        using var response = await system.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : null);
    }
}
