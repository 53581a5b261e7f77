using System.Text.Json;
using System.Text.Json.Nodes;
using DirectorySync.IntegrationTests.Grains;
using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.Mirror;
using DirectorySync.Simulator.WorkOSApi;
using DirectorySync.Testing;
using DirectorySync.Events;
using Xunit;

namespace DirectorySync.IntegrationTests.WorkOS;

/// <summary>
/// The service against the simulator's WorkOS API (real HTTP, real silos, real Postgres): backfill of directories
/// whose events expired long ago, changes seen only through the Events API, drift repaired, deletions held by the
/// guards, 429 storms, a lost cursor, and a backfill resumed after its silo stopped.
/// </summary>
public sealed class SourceOfTruthTests
{
    private const string ApiKey = "sk_test_source_of_truth_0123456789";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>A small directory's whole history, published to a fake WorkOS long before the service starts.</summary>
    private static (FakeWorkOS Fake, GeneratedHistory History) Environment(int seed, int users = 60, int directories = 1)
    {
        var history = HistoryGenerator.Generate(new HistoryOptions
        {
            Directories = directories, UsersPerDirectory = users, GroupsPerDirectory = 6, MembershipsPerUser = 2,
            ChurnPerDirectory = 40, Seed = seed, StartAt = DateTimeOffset.UtcNow.AddDays(-60),
        });
        var fake = new FakeWorkOS(ApiKey);
        fake.Publish(history.Events);
        return (fake, history);
    }

    private async Task<(FakeWorkOSServer Server, SyncTestCluster Cluster)> StartAsync(
        FakeWorkOS fake, string name, short silos = 1, Dictionary<string, string?>? settings = null)
    {
        var server = await FakeWorkOSServer.StartAsync(fake);
        var workos = new Dictionary<string, string?>
        {
            ["WorkOS:ApiKey"] = ApiKey,
            ["WorkOS:BaseUrl"] = server.BaseAddress.ToString(),
            // The tests poll and reconcile when they mean to.
            ["WorkOS:EventsPollInterval"] = "0",
            ["WorkOS:ReconcileInterval"] = "0",
            ["WorkOS:RetryBaseDelay"] = "00:00:00.050",
        };
        foreach (var (key, value) in settings ?? []) workos[key] = value;
        var cluster = await SyncTestCluster.StartAsync(name, silos: silos, workos: workos, logs: Logs);
        return (server, cluster);
    }

    /// <summary>What the silos logged at warning or above: shown when the mirror does not match, to say why.</summary>
    private readonly EndToEnd.CapturedLogs Logs = new();

    private async Task MatchesAsync(SyncTestCluster cluster, FakeWorkOS fake, IReadOnlyCollection<string> directories)
    {
        var differences = await MirrorVerifier.WaitForMatchAsync(cluster.ConnectionString, fake.Mirror(InactivePolicy.Retain),
            Patience, directories, MirrorColumns.Common);
        Assert.True(differences.Count == 0, "The mirror differs from WorkOS:\n" + string.Join("\n", differences.Take(20))
            + "\n" + SiloLog());
    }

    private string SiloLog() => "Silo log:\n" + string.Join("\n", Logs.Entries
        .Where(e => e.StartsWith("Warning", StringComparison.Ordinal) || e.StartsWith("Error", StringComparison.Ordinal)
            || e.Contains(" DirectorySync.", StringComparison.Ordinal))
        .Select(e => e[..e.IndexOf(" | ", StringComparison.Ordinal)]).TakeLast(40));

    /// <summary>The newest run of the directory once it ended: its status and its report.</summary>
    private static async Task<(string Status, JsonElement Report)> LastRunAsync(SyncTestCluster cluster, string directory)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var run = (string?)await cluster.ScalarAsync($"""
                SELECT jsonb_build_object('status', status, 'report', report)::text FROM reconcile_runs
                WHERE workos_directory_id = '{directory}' ORDER BY run_id DESC LIMIT 1
                """);
            var parsed = run is null ? default : JsonDocument.Parse(run).RootElement;
            if (run is not null && parsed.GetProperty("status").GetString() != "running")
                return (parsed.GetProperty("status").GetString()!, parsed.GetProperty("report"));
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"No run of {directory} finished: {run}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Directories_that_existed_before_the_start_are_backfilled_though_their_events_expired_long_ago()
    {
        var (fake, history) = Environment(seed: 11, directories: 2);
        fake.ExpireEventsBefore(DateTimeOffset.UtcNow);
        var (server, cluster) = await StartAsync(fake, "backfill");
        await using (server)
        await using (cluster)
        {
            await MatchesAsync(cluster, fake, history.DirectoryIds);
            Assert.Equal("backfill", await cluster.ScalarAsync(
                $"SELECT kind FROM reconcile_runs WHERE workos_directory_id = '{history.DirectoryIds[0]}' ORDER BY run_id LIMIT 1"));
            // The client kept under WorkOS's limit of 4 /directory_users requests a second per directory.
            foreach (var directory in history.DirectoryIds)
                Assert.InRange(fake.Traffic.PeakDirectoryUserRequests(directory, TimeSpan.FromSeconds(1)), 1, 4);
        }
    }

    [Fact]
    public async Task A_change_seen_only_through_the_Events_API_reaches_the_mirror_and_its_cursor_is_kept()
    {
        var (fake, history) = Environment(seed: 12);
        fake.ExpireEventsBefore(DateTimeOffset.UtcNow);
        var (server, cluster) = await StartAsync(fake, "events-api");
        await using (server)
        await using (cluster)
        {
            await MatchesAsync(cluster, fake, history.DirectoryIds);
            var user = fake.UserIds(history.DirectoryIds[0])[3];
            var change = fake.BuildUserUpdate(user, "first_name", JsonValue.Create("Seen-Only-Via-Events"));
            fake.Publish(change);

            var source = cluster.Grains.GetGrain<IWorkOSSourceGrain>(0);
            Assert.Equal(1, await source.PollAsync());
            Assert.Equal("Seen-Only-Via-Events", await cluster.ScalarAsync($"SELECT first_name FROM directory_users WHERE workos_user_id = '{user}'"));
            Assert.Equal(change.Id, (await source.CursorAsync()).After);
            // The same event again (a webhook, or the next poll) is a duplicate: nothing is applied twice.
            Assert.Equal(0, await source.PollAsync());
            Assert.Equal(ApplyOutcome.Duplicate, await cluster.ApplyAsync(ParsedEvent(change)));
            Assert.NotNull(await cluster.ScalarAsync(
                $"SELECT confirmed_at FROM directory_freshness WHERE workos_directory_id = '{history.DirectoryIds[0]}'"));
        }
    }

    [Fact]
    public async Task Reconciliation_repairs_drift_a_deleted_row_a_changed_row_and_a_false_membership()
    {
        var (fake, history) = Environment(seed: 13);
        var (server, cluster) = await StartAsync(fake, "drift");
        await using (server)
        await using (cluster)
        {
            var directory = history.DirectoryIds[0];
            await MatchesAsync(cluster, fake, history.DirectoryIds);
            var users = fake.UserIds(directory);
            var outsider = users.Skip(2).First(u => fake.GroupIdsOf(u).Count < fake.GroupIds(directory).Count);
            var foreignGroup = fake.GroupIds(directory).First(g => !fake.GroupIdsOf(outsider).Contains(g));
            await cluster.ScalarAsync($"DELETE FROM directory_users WHERE workos_user_id = '{users[0]}'");
            await cluster.ScalarAsync($"UPDATE directory_users SET email = 'drifted@example.com', first_name = 'Drift' WHERE workos_user_id = '{users[1]}'");
            await cluster.ScalarAsync($"""
                INSERT INTO directory_group_memberships (user_id, group_id, version_at, version_event_id)
                SELECT u.id, g.id, now() - interval '1 day', 'by-hand' FROM directory_users u, directory_groups g
                WHERE u.workos_user_id = '{outsider}' AND g.workos_group_id = '{foreignGroup}'
                """);

            Assert.Equal(1L, await cluster.ScalarAsync($"SELECT count(*) FROM directory_group_memberships WHERE version_event_id = 'by-hand'"));
            await cluster.Grains.GetGrain<IReconcileGrain>(directory).StartAsync("test", force: false);

            var (status, report) = await LastRunAsync(cluster, directory);
            Assert.True(status == "completed", $"{status}: {report}");
            Assert.True(1 == report.GetProperty("memberships_to_delete").GetInt32(), report.ToString());
            Assert.Equal(1, report.GetProperty("deleted").GetInt32());
            Assert.Equal(2, report.GetProperty("repaired").GetInt32());
            await MatchesAsync(cluster, fake, history.DirectoryIds);
        }
    }

    [Fact]
    public async Task A_listing_that_lost_most_of_a_directory_deletes_nothing_until_an_operator_forces_it()
    {
        var (fake, history) = Environment(seed: 14);
        var (server, cluster) = await StartAsync(fake, "held");
        await using (server)
        await using (cluster)
        {
            var directory = history.DirectoryIds[0];
            await MatchesAsync(cluster, fake, history.DirectoryIds);
            var before = await cluster.ScalarAsync($"SELECT count(*) FROM directory_users u JOIN directories d ON d.id = u.directory_id WHERE d.workos_directory_id = '{directory}'");
            var hidden = fake.Faults.HideUsers(directory, 0.8);

            var grain = cluster.Grains.GetGrain<IReconcileGrain>(directory);
            var runId = await grain.StartAsync("test", force: false);
            var (status, report) = await LastRunAsync(cluster, directory);
            Assert.Equal("held", status);
            Assert.Equal(hidden.Count, report.GetProperty("users_to_delete").GetInt32());
            Assert.Equal(0, report.GetProperty("deleted").GetInt32());
            Assert.Equal(before, await cluster.ScalarAsync(
                $"SELECT count(*) FROM directory_users u JOIN directories d ON d.id = u.directory_id WHERE d.workos_directory_id = '{directory}'"));

            // The operator decides the listing was right: the held plan is applied as planned.
            Assert.Equal(runId, await grain.StartAsync("operator", force: true));
            Assert.Equal("completed", (await LastRunAsync(cluster, directory)).Status);
            Assert.Equal((long)before! - hidden.Count, await cluster.ScalarAsync(
                $"SELECT count(*) FROM directory_users u JOIN directories d ON d.id = u.directory_id WHERE d.workos_directory_id = '{directory}'"));
        }
    }

    [Fact]
    public async Task An_event_of_a_directory_the_mirror_lacks_starts_its_backfill()
    {
        var fake = new FakeWorkOS(ApiKey);
        var (server, cluster) = await StartAsync(fake, "event-starts-backfill");
        await using (server)
        await using (cluster)
        {
            // Connected to WorkOS after the service started listing: only an event (one user's update) tells of it.
            var (_, history) = Environment(seed: 18);
            fake.Publish(history.Events);
            var user = fake.UserIds(history.DirectoryIds[0])[0];
            var update = fake.BuildUserUpdate(user, "first_name", JsonValue.Create("Announced"));
            fake.Publish(update);

            Assert.Equal(ApplyOutcome.Applied, await cluster.ApplyAsync(ParsedEvent(update)));

            await MatchesAsync(cluster, fake, history.DirectoryIds);
            Assert.Equal(0L, await cluster.ScalarAsync($"SELECT count(*) FROM sync_pending WHERE directory_id = '{history.DirectoryIds[0]}'"));
        }
    }

    [Fact]
    public async Task A_listing_with_an_unreadable_entry_repairs_what_it_can_and_deletes_nothing()
    {
        var (fake, history) = Environment(seed: 19, users: 200);
        var (server, cluster) = await StartAsync(fake, "malformed");
        await using (server)
        await using (cluster)
        {
            var directory = history.DirectoryIds[0];
            await MatchesAsync(cluster, fake, history.DirectoryIds);
            Assert.Equal("completed", (await LastRunAsync(cluster, directory)).Status);
            // One user WorkOS no longer lists (well under the deletion limit), and a page with an entry that cannot be read.
            var hidden = fake.Faults.HideUsers(directory, 1);
            fake.Faults.MalformNext(MalformedEntry.MissingId, path: "/directory_users");

            await cluster.Grains.GetGrain<IReconcileGrain>(directory).StartAsync("test", force: false);

            var (status, report) = await LastRunAsync(cluster, directory);
            Assert.Equal("held", status);
            Assert.Equal(1, report.GetProperty("malformed_items").GetInt32());
            Assert.Contains("could not be read", report.GetProperty("note").GetString());
            Assert.Equal(1L, await cluster.ScalarAsync($"SELECT count(*) FROM directory_users WHERE workos_user_id = '{hidden[0]}'"));
        }
    }

    [Fact]
    public async Task A_backfill_survives_a_429_storm_and_a_failing_page_and_the_webhook_path_keeps_working()
    {
        var (fake, history) = Environment(seed: 15);
        fake.ExpireEventsBefore(DateTimeOffset.UtcNow);
        // More 429s in a row than the client retries: the run's step fails and is resumed, and the storm passes.
        fake.Faults.ThrottleNext(10, TimeSpan.FromSeconds(1));
        fake.Faults.FailRequest(number: 6, status: 502);
        var (server, cluster) = await StartAsync(fake, "storm");
        await using (server)
        await using (cluster)
        {
            // Meanwhile a webhook of another directory is applied at once.
            Assert.Equal(ApplyOutcome.Applied, await cluster.ApplyAsync(Events.Activated("d-webhooks-only", 1)));
            await MatchesAsync(cluster, fake, history.DirectoryIds);
            Assert.True(fake.Traffic.Throttled > 0, "the storm was not met");
        }
    }

    [Fact]
    public async Task A_lost_cursor_resumes_a_little_before_it_and_reconciles_every_directory()
    {
        var (fake, history) = Environment(seed: 16);
        var (server, cluster) = await StartAsync(fake, "cursor", settings: new() { ["WorkOS:EventsLookback"] = "30.00:00:00" });
        await using (server)
        await using (cluster)
        {
            var directory = history.DirectoryIds[0];
            var source = cluster.Grains.GetGrain<IWorkOSSourceGrain>(0);
            await source.PollAsync();
            await MatchesAsync(cluster, fake, history.DirectoryIds);
            Assert.Equal("completed", (await LastRunAsync(cluster, directory)).Status);
            var runsBefore = (long)(await cluster.ScalarAsync($"SELECT count(*) FROM reconcile_runs WHERE workos_directory_id = '{directory}'"))!;

            var user = fake.UserIds(directory)[5];
            fake.Publish(fake.BuildUserUpdate(user, "last_name", JsonValue.Create("The-Cursor")));
            Assert.Equal(1, await source.PollAsync());
            Assert.NotNull((await source.CursorAsync()).After);

            // WorkOS forgets the cursor's event; a change made since is only in the Events API.
            await Task.Delay(10);
            fake.ExpireEventsBefore(DateTimeOffset.UtcNow);
            // Event times have milliseconds: the change must not fall in the millisecond the expiry cut.
            await Task.Delay(10);
            var change = fake.BuildUserUpdate(user, "last_name", JsonValue.Create("After-The-Cursor"));
            fake.Publish(change);

            var appliedAfterLoss = await source.PollAsync();
            Assert.True(appliedAfterLoss == 1, $"applied {appliedAfterLoss}\n{SiloLog()}");
            Assert.Equal(change.Id, (await source.CursorAsync()).After);
            Assert.Equal("After-The-Cursor", await cluster.ScalarAsync($"SELECT last_name FROM directory_users WHERE workos_user_id = '{user}'"));
            Assert.True((long)(await cluster.ScalarAsync($"SELECT count(*) FROM reconcile_runs WHERE workos_directory_id = '{directory}'"))! > runsBefore);
            Assert.Equal("completed", (await LastRunAsync(cluster, directory)).Status);
            await MatchesAsync(cluster, fake, history.DirectoryIds);
        }
    }

    [Fact]
    public async Task A_backfill_interrupted_by_its_silo_stopping_resumes_on_another_silo_where_it_stopped()
    {
        var (fake, history) = Environment(seed: 17, users: 400);
        fake.ExpireEventsBefore(DateTimeOffset.UtcNow);
        fake.Faults.Delay = TimeSpan.FromMilliseconds(150);
        var (server, cluster) = await StartAsync(fake, "resume", silos: 2,
            settings: new() { ["WorkOS:EventsPollInterval"] = "0" });
        await using (server)
        await using (cluster)
        {
            var directory = history.DirectoryIds[0];
            // Wait until the backfill is part way through its users, then stop every silo but one.
            var deadline = DateTime.UtcNow + Patience;
            while (fake.Traffic.DirectoryUserRequests(directory).Count < 2)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("The backfill did not start");
                await Task.Delay(50);
            }
            var runId = (long)(await cluster.ScalarAsync($"SELECT max(run_id) FROM reconcile_runs WHERE workos_directory_id = '{directory}'"))!;
            foreach (var silo in cluster.Cluster.Silos.Skip(1).ToList()) await cluster.Cluster.StopSiloAsync(silo);
            foreach (var silo in cluster.Cluster.Silos.Take(1).ToList())
            {
                await cluster.Cluster.StartAdditionalSiloAsync();
                await cluster.Cluster.StopSiloAsync(silo);
            }
            fake.Faults.Delay = TimeSpan.Zero;

            await MatchesAsync(cluster, fake, history.DirectoryIds);
            Assert.Equal("completed", (await LastRunAsync(cluster, directory)).Status);
            Assert.Equal(runId, await cluster.ScalarAsync($"SELECT max(run_id) FROM reconcile_runs WHERE workos_directory_id = '{directory}' AND kind = 'backfill'"));
            // Resumed, not restarted: the user pages were not all listed twice.
            var pages = (400 + 99) / 100;
            Assert.InRange(fake.Traffic.Requests.Count(r => r.Path.EndsWith("/directory_users", StringComparison.Ordinal)
                && r.QueryString.Contains($"directory={directory}", StringComparison.Ordinal) && !r.QueryString.Contains("group=", StringComparison.Ordinal)), pages, 2 * pages - 1);
        }
    }

    private static DirectorySync.Events.SyncEvent ParsedEvent(WebhookEvent e) =>
        ((DirectorySync.WorkOS.ParsedWebhook.Applicable)DirectorySync.WorkOS.WorkOSEventParser.Parse(e.Body.Span)).Event;
}
