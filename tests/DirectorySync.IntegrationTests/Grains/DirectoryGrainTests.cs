using DirectorySync.Events;
using DirectorySync.Storage;
using DirectorySync.Sync;
using DirectorySync.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;
using static DirectorySync.IntegrationTests.Events;

namespace DirectorySync.IntegrationTests.Grains;

/// <summary>
/// The directory grain on real silos and Postgres: ordering, dedup, cascades, pending objects, dead letters, as
/// applications end up reading them. Two clusters share one database, one per inactive-user policy; every test uses
/// directories of its own.
/// </summary>
public sealed class DirectoryGrainTests : IAsyncLifetime
{
    private SyncTestCluster _retain = null!;
    private SyncTestCluster _delete = null!;

    public async Task InitializeAsync()
    {
        _retain = await SyncTestCluster.StartAsync("grains");
        _delete = await SyncTestCluster.StartAsync("grains", InactiveUsersPolicy.Delete, connectionString: _retain.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _retain.DisposeAsync();
        await _delete.DisposeAsync();
    }

    private SyncTestCluster Cluster(InactiveUsersPolicy policy = InactiveUsersPolicy.Retain) =>
        policy == InactiveUsersPolicy.Delete ? _delete : _retain;

    private static Task<List<ApplyOutcome>> ApplyAsync(SyncTestCluster cluster, params SyncEvent[] events) => cluster.ApplyInOrderAsync(events);

    private Task<Mirror> MirrorOf(string directory) => _retain.MirrorOf(directory);

    private Task<object?> ScalarAsync(string sql) => _retain.ScalarAsync(sql);

    /// <summary>A purge as the maintenance grain runs it, with a retention of the test's choosing.</summary>
    private async Task<PurgeResult> PurgeWithRetentionAsync(TimeSpan retention)
    {
        await using var dataSource = DirectoryStore.CreateDataSource(_retain.ConnectionString);
        return await new DirectoryStore(dataSource, Options.Create(new SyncOptions { Retention = retention }),
            NullLogger<DirectoryStore>.Instance).PurgeAsync();
    }

    [Fact]
    public async Task In_order_initial_sync_shows_directory_users_groups_and_memberships()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d1", 1), UserCreated("u1", "d1", 2), GroupCreated("g1", "d1", 3), Added("g1", "u1", "d1", 4));
        var mirror = await MirrorOf("d1");
        Assert.Equal(["d1:active"], mirror.Directories);
        Assert.Equal(["u1:u1@example.com:active"], mirror.Users);
        Assert.Equal(["g1:g1"], mirror.Groups);
        Assert.Equal(["g1/u1"], mirror.Memberships);
    }

    [Fact]
    public async Task WorkOS_times_of_each_object_are_kept_and_survive_a_pending_wait()
    {
        var created = new DateTimeOffset(2026, 10, 1, 8, 0, 0, 123, TimeSpan.Zero);
        var updated = created.AddDays(3);
        var user = User("u1", "dtimes", "u1@example.com") with { CreatedAt = created, UpdatedAt = updated };
        var group = Group("g1", "dtimes", "G") with { CreatedAt = created, UpdatedAt = created };
        var activated = Activated("dtimes", 3);
        activated = activated with { Directory = activated.Directory! with { ExternalKey = "key-1", CreatedAt = created, UpdatedAt = updated } };
        var groupCreated = GroupCreated("g1", "dtimes", 4) with { Group = group };
        // The user waits in sync_pending for its directory, which carries its own times.
        await ApplyAsync(Cluster(), WithUser(SyncEventKind.UserCreated, "dsync.user.created", 1, user), activated, groupCreated);

        Assert.Equal("2026-10-01 08:00:00.123|2026-10-04 08:00:00.123", await ScalarAsync(
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || '|' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM directory_users WHERE workos_user_id = 'u1'"));
        Assert.Equal("key-1|2026-10-04 08:00:00.123", await ScalarAsync(
            "SELECT external_key || '|' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM directories WHERE workos_directory_id = 'dtimes'"));
        Assert.Equal("2026-10-01 08:00:00.123", await ScalarAsync(
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM directory_groups WHERE workos_group_id = 'g1'"));
    }

    [Fact]
    public async Task Duplicate_event_is_acknowledged_and_changes_nothing()
    {
        var store = Cluster();
        var created = UserCreated("u1", "d2", 2);
        var outcomes = await ApplyAsync(store, Activated("d2", 1), created, UserUpdated("u1", "d2", 3, "new@example.com"), created);
        Assert.Equal([ApplyOutcome.Applied, ApplyOutcome.Applied, ApplyOutcome.Applied, ApplyOutcome.Duplicate], outcomes);
        Assert.Equal(["u1:new@example.com:active"], (await MirrorOf("d2")).Users);
    }

    [Fact]
    public async Task Older_update_arriving_after_a_newer_one_is_stale()
    {
        var store = Cluster();
        var outcomes = await ApplyAsync(store, Activated("d3", 1), UserUpdated("u1", "d3", 5, "new@example.com"), UserCreated("u1", "d3", 2));
        Assert.Equal(ApplyOutcome.Stale, outcomes[2]);
        Assert.Equal(["u1:new@example.com:active"], (await MirrorOf("d3")).Users);
    }

    [Fact]
    public async Task Stale_update_after_delete_does_not_resurrect_user()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d4", 1), UserCreated("u1", "d4", 2), UserDeleted("u1", "d4", 5), UserUpdated("u1", "d4", 3, "old@example.com"));
        Assert.Empty((await MirrorOf("d4")).Users);
    }

    [Fact]
    public async Task Stale_user_added_after_user_removed_does_not_resurrect_membership()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d5", 1), UserCreated("u1", "d5", 2), GroupCreated("g1", "d5", 2),
            Removed("g1", "u1", "d5", 6), Added("g1", "u1", "d5", 4));
        Assert.Empty((await MirrorOf("d5")).Memberships);
    }

    [Fact]
    public async Task Membership_arriving_before_its_user_group_and_directory_appears_once_they_exist()
    {
        var store = Cluster();
        await ApplyAsync(store, Added("g1", "u1", "d6", 4), UserCreated("u1", "d6", 2), GroupCreated("g1", "d6", 3));
        Assert.Empty((await MirrorOf("d6")).Users);
        await ApplyAsync(store, Activated("d6", 1));
        var mirror = await MirrorOf("d6");
        Assert.Equal(["u1:u1@example.com:active"], mirror.Users);
        Assert.Equal(["g1/u1"], mirror.Memberships);
    }

    [Fact]
    public async Task Deleting_a_user_removes_its_memberships()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d7", 1), UserCreated("u1", "d7", 2), GroupCreated("g1", "d7", 2), Added("g1", "u1", "d7", 3),
            UserDeleted("u1", "d7", 4));
        var mirror = await MirrorOf("d7");
        Assert.Empty(mirror.Users);
        Assert.Empty(mirror.Memberships);
        Assert.Equal(["g1:g1"], mirror.Groups);
    }

    [Fact]
    public async Task Deleting_a_group_removes_its_memberships_and_stale_additions_stay_out()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d8", 1), UserCreated("u1", "d8", 2), UserCreated("u2", "d8", 2), GroupCreated("g1", "d8", 2),
            Added("g1", "u1", "d8", 3), GroupDeleted("g1", "d8", 5), Added("g1", "u2", "d8", 4));
        var mirror = await MirrorOf("d8");
        Assert.Empty(mirror.Groups);
        Assert.Empty(mirror.Memberships);
        Assert.Equal(2, mirror.Users.Count);
    }

    [Fact]
    public async Task Deleting_a_directory_removes_everything_in_it_and_drops_older_events()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d9", 1), UserCreated("u1", "d9", 2), UserCreated("u2", "d9", 2), UserCreated("u3", "d9", 2),
            GroupCreated("g1", "d9", 3), GroupCreated("g2", "d9", 3), Added("g1", "u1", "d9", 4), Added("g2", "u1", "d9", 4),
            Added("g1", "u2", "d9", 4), DirectoryDeleted("d9", 10));
        var outcomes = await ApplyAsync(store, UserUpdated("u1", "d9", 5, "late@example.com"), Added("g2", "u3", "d9", 6), Activated("d9", 2));
        Assert.All(outcomes, outcome => Assert.Equal(ApplyOutcome.Stale, outcome));
        var mirror = await MirrorOf("d9");
        Assert.Empty(mirror.Directories);
        Assert.Empty(mirror.Users);
        Assert.Empty(mirror.Groups);
        Assert.Empty(mirror.Memberships);
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM sync_pending WHERE directory_id = 'd9'"));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM directory_cleanups"));
    }

    [Fact]
    public async Task A_directory_delete_older_than_a_reactivation_parks_memberships_newer_than_it()
    {
        var store = Cluster();
        // In order: the delete (2) removes u1 and g1; the membership (3) waits for them; they come back at 5 and 6.
        await ApplyAsync(store, Activated("dZ", 0), UserCreated("u1", "dZ", 1), GroupCreated("g1", "dZ", 1),
            Added("g1", "u1", "dZ", 3), Activated("dZ", 4), DirectoryDeleted("dZ", 2));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM directory_group_memberships"));
        Assert.Equal(1, (await store.Directory("dZ").SummaryAsync()).Memberships);

        await store.Cluster.DeactivateAsync(store.Directory("dZ"));
        await ApplyAsync(store, UserCreated("u1", "dZ", 5), GroupCreated("g1", "dZ", 6));

        var mirror = await MirrorOf("dZ");
        Assert.Equal(["dZ:active"], mirror.Directories);
        Assert.Equal(["g1/u1"], mirror.Memberships);
    }

    [Fact]
    public async Task Inactive_user_is_kept_with_its_state_under_retain()
    {
        var store = Cluster(InactiveUsersPolicy.Retain);
        await ApplyAsync(store, Activated("d10", 1), UserCreated("u1", "d10", 2), GroupCreated("g1", "d10", 2), Added("g1", "u1", "d10", 3),
            UserUpdated("u1", "d10", 4, "u1@example.com", UserStates.Inactive));
        var mirror = await MirrorOf("d10");
        Assert.Equal(["u1:u1@example.com:inactive"], mirror.Users);
        Assert.Equal(["g1/u1"], mirror.Memberships);
    }

    [Fact]
    public async Task Inactive_user_is_removed_and_unlinked_under_delete_and_returns_without_old_memberships()
    {
        var store = Cluster(InactiveUsersPolicy.Delete);
        await ApplyAsync(store, Activated("d11", 1), UserCreated("u1", "d11", 2), GroupCreated("g1", "d11", 2), GroupCreated("g2", "d11", 2),
            Added("g1", "u1", "d11", 3), UserUpdated("u1", "d11", 4, "u1@example.com", UserStates.Inactive));
        var gone = await MirrorOf("d11");
        Assert.Empty(gone.Users);
        Assert.Empty(gone.Memberships);

        // The membership added after the reactivation arrives first; the stale pre-deactivation one last.
        await ApplyAsync(store, Added("g2", "u1", "d11", 6), UserUpdated("u1", "d11", 5, "u1@example.com"), Added("g1", "u1", "d11", 3));
        var back = await MirrorOf("d11");
        Assert.Equal(["u1:u1@example.com:active"], back.Users);
        Assert.Equal(["g2/u1"], back.Memberships);
    }

    [Fact]
    public async Task Delete_arriving_after_a_recreation_still_removes_older_memberships()
    {
        var store = Cluster(InactiveUsersPolicy.Delete);
        // In order: u1 in g1 (3), u1 deactivated (4: delete), reactivated (5), added to g2 (6).
        await ApplyAsync(store, Activated("d12", 1), UserCreated("u1", "d12", 2), GroupCreated("g1", "d12", 2), GroupCreated("g2", "d12", 2),
            Added("g1", "u1", "d12", 3), UserUpdated("u1", "d12", 5, "u1@example.com"), Added("g2", "u1", "d12", 6),
            UserUpdated("u1", "d12", 4, "u1@example.com", UserStates.Inactive));
        var mirror = await MirrorOf("d12");
        Assert.Equal(["u1:u1@example.com:active"], mirror.Users);
        Assert.Equal(["g2/u1"], mirror.Memberships);
    }

    [Fact]
    public async Task Events_applied_together_in_one_batch_end_as_in_order_delivery()
    {
        var store = Cluster();
        SyncEvent[] history =
        [
            Activated("d13", 1), UserCreated("u1", "d13", 2), UserCreated("u2", "d13", 2), GroupCreated("g1", "d13", 3),
            Added("g1", "u1", "d13", 4), Added("g1", "u2", "d13", 4), UserDeleted("u2", "d13", 5), GroupUpdated("g1", "d13", 6, "Renamed"),
        ];
        var outcomes = await store.ApplyTogetherAsync(history.Reverse().ToArray());
        Assert.DoesNotContain(ApplyOutcome.DeadLettered, outcomes);
        var mirror = await MirrorOf("d13");
        Assert.Equal(["u1:u1@example.com:active"], mirror.Users);
        Assert.Equal(["g1:Renamed"], mirror.Groups);
        Assert.Equal(["g1/u1"], mirror.Memberships);
    }

    [Fact]
    public async Task Every_order_of_a_history_yields_the_in_order_mirror()
    {
        var store = Cluster(InactiveUsersPolicy.Delete);
        static SyncEvent[] History(string d) =>
        [
            Activated(d, 1), UserCreated("u1" + d, d, 2), UserCreated("u2" + d, d, 2), GroupCreated("g1" + d, d, 3),
            Added("g1" + d, "u1" + d, d, 4), Added("g1" + d, "u2" + d, d, 4), UserUpdated("u1" + d, d, 5, "x@example.com"),
            UserUpdated("u2" + d, d, 6, "y@example.com", UserStates.Inactive), Removed("g1" + d, "u1" + d, d, 7),
            UserUpdated("u2" + d, d, 8, "y@example.com"), Added("g1" + d, "u2" + d, d, 9), GroupUpdated("g1" + d, d, 10, "Team"),
        ];
        await ApplyAsync(store, History("ref"));
        var expected = await MirrorOf("ref");
        Assert.Equal(["g1ref/u2ref"], expected.Memberships);

        var random = new Random(20261129);
        for (var run = 0; run < 40; run++)
        {
            var d = $"p{run}";
            var shuffled = History(d).OrderBy(_ => random.Next()).ToArray();
            if (run % 2 == 0) await ApplyAsync(store, shuffled);
            else await store.ApplyTogetherAsync(shuffled);
            var actual = (await MirrorOf(d)).Renamed(d, "ref");
            Assert.True(actual.SameAs(expected.Renamed("ref", "ref")),
                $"run {run}, order [{string.Join(", ", shuffled.Select(e => $"{e.EventType}@{e.CreatedAt:ss}"))}]: {actual} != {expected}");
        }
    }

    [Fact]
    public async Task Event_postgres_refuses_is_dead_lettered_without_failing_its_batch()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d14", 1));
        var poisoned = WithUser(SyncEventKind.UserCreated, "dsync.user.created", 3,
            User("u2", "d14", "u2@example.com", customAttributes: """{"note":"\u0000"}"""));
        var outcomes = await Task.WhenAll(store.ApplyAsync(UserCreated("u1", "d14", 2)), store.ApplyAsync(poisoned));
        Assert.Equal([ApplyOutcome.Applied, ApplyOutcome.DeadLettered], outcomes);
        Assert.Equal(["u1:u1@example.com:active"], (await MirrorOf("d14")).Users);
        Assert.Equal("dead_letter", await ScalarAsync($"SELECT outcome FROM event_log WHERE event_id = '{poisoned.EventId}'"));
    }

    [Fact]
    public async Task Event_whose_id_is_too_large_to_index_is_dead_lettered_without_failing_its_batch()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d15", 1));
        // The parser refuses such ids first; this is the store's own guard against the limit (SQLSTATE 54000).
        // Random letters, so that compression cannot bring the index entry under the limit.
        var random = new Random(15);
        var oversized = UserCreated(new string(Enumerable.Range(0, 20_000).Select(_ => (char)('a' + random.Next(26))).ToArray()), "d15", 3);
        var outcomes = await Task.WhenAll(store.ApplyAsync(UserCreated("u1", "d15", 2)), store.ApplyAsync(oversized));
        Assert.Equal([ApplyOutcome.Applied, ApplyOutcome.DeadLettered], outcomes);
        Assert.Equal(["u1:u1@example.com:active"], (await MirrorOf("d15")).Users);
    }

    [Fact]
    public async Task Objects_of_another_directory_are_dead_lettered_and_nothing_crosses_directories()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("dX", 1), UserCreated("uX", "dX", 2), GroupCreated("gX", "dX", 2),
            Activated("dY", 1), UserCreated("uY", "dY", 2), GroupCreated("gY", "dY", 2));

        var outcomes = await store.ApplyTogetherAsync(
            Added("gY", "uX", "dY", 3),                           // dX's user in dY's group
            UserUpdated("uX", "dY", 4, "moved@example.com"),     // dX's user claimed by dY
            GroupUpdated("gX", "dY", 4, "Moved"),                // dX's group claimed by dY
            Added("gY", "uY", "dY", 5));                          // dY's own: applied alongside

        Assert.Equal([ApplyOutcome.DeadLettered, ApplyOutcome.DeadLettered, ApplyOutcome.DeadLettered, ApplyOutcome.Applied], outcomes);
        var x = await MirrorOf("dX");
        var y = await MirrorOf("dY");
        Assert.Equal(["uX:uX@example.com:active"], x.Users);
        Assert.Equal(["gX:gX"], x.Groups);
        Assert.Equal(["uY:uY@example.com:active"], y.Users);
        Assert.Equal(["gY/uY"], y.Memberships);
        Assert.Equal(3L, await ScalarAsync("SELECT count(*) FROM event_log WHERE outcome = 'dead_letter' AND reason LIKE '%belongs to directory dX%'"));
    }

    [Fact]
    public async Task A_replayed_dead_letter_is_applied_and_the_log_keeps_both_attempts()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("dL", 1));
        var created = UserCreated("uL", "dL", 2);
        await store.Store.RecordDeadLetterAsync(new DeadLetter(created.EventId, created.EventType, "uL", created.CreatedAt,
            "the reason it could not be applied then", created.Payload));

        Assert.Equal([ApplyOutcome.Applied], await ApplyAsync(store, created));
        Assert.Equal([ApplyOutcome.Duplicate], await ApplyAsync(store, created));

        Assert.Equal(["uL:uL@example.com:active"], (await MirrorOf("dL")).Users);
        Assert.Equal("applied", await ScalarAsync($"SELECT outcome FROM event_log WHERE event_id = '{created.EventId}'"));
        Assert.Equal("dead_letter:the reason it could not be applied then", await ScalarAsync(
            $"SELECT string_agg((a ->> 'outcome') || ':' || (a ->> 'reason'), ',') FROM event_log, jsonb_array_elements(earlier_attempts) a WHERE event_id = '{created.EventId}'"));
    }

    [Fact]
    public async Task Ids_with_slashes_name_different_memberships()
    {
        var store = Cluster();
        // As "group/user", (g/x, u) and (g, x/u) were one key: the removal of one made the other's addition stale.
        await ApplyAsync(store, Activated("dS", 1), GroupCreated("g", "dS", 2), GroupCreated("g/x", "dS", 2),
            UserCreated("u", "dS", 2), UserCreated("x/u", "dS", 2), Removed("g", "x/u", "dS", 9));
        Assert.Equal([ApplyOutcome.Applied], await ApplyAsync(store, Added("g/x", "u", "dS", 5)));
        Assert.Equal(["g/x/u"], (await MirrorOf("dS")).Memberships);
    }

    [Fact]
    public async Task Event_log_records_each_event_once_with_its_outcome()
    {
        var store = Cluster();
        var created = UserCreated("u1", "d15", 3);
        await ApplyAsync(store, Activated("d15", 1), created, UserCreated("u1", "d15", 2), created);
        Assert.Equal(3L, await ScalarAsync("SELECT count(*) FROM event_log WHERE directory_id = 'd15'"));
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM event_log WHERE directory_id = 'd15' AND outcome = 'stale'"));
    }

    [Fact]
    public async Task Purge_drops_tombstones_and_event_log_entries_past_retention_and_keeps_newer_ones()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("d16", 1), UserCreated("u1", "d16", 2), UserDeleted("u1", "d16", 3),
            UserCreated("u2", "d16", 2), UserDeleted("u2", "d16", 3));
        await ScalarAsync("UPDATE sync_tombstones SET deleted_at = now() - interval '2 hours' WHERE object_id = 'u1'");
        await ScalarAsync("UPDATE event_log SET received_at = now() - interval '2 hours' WHERE object_id = 'u1'");

        var purged = await PurgeWithRetentionAsync(TimeSpan.FromHours(1));

        Assert.Equal(1, purged.Tombstones);
        Assert.Equal(2, purged.Events);
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM sync_tombstones WHERE object_id = 'u2'"));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM sync_tombstones WHERE object_id = 'u1'"));
    }

    [Fact]
    public async Task Objects_pending_past_retention_are_given_up_and_their_directory_forgets_them()
    {
        var store = Cluster();
        // The directory never arrives: its user waits in sync_pending, and the grain counts it as pending.
        await ApplyAsync(store, UserCreated("uQ", "dQ", 2), UserCreated("uQ2", "dQ", 3));
        await ScalarAsync("UPDATE sync_pending SET pending_since = now() - interval '40 days' WHERE object_id = 'uQ'");

        await store.Grains.GetGrain<IMaintenanceGrain>(0).PurgeAsync();

        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM sync_pending WHERE object_id = 'uQ'"));
        Assert.Equal(1, (await store.Directory("dQ").SummaryAsync()).Users);
        await ApplyAsync(store, Activated("dQ", 1));
        Assert.Equal(["uQ2:uQ2@example.com:active"], (await MirrorOf("dQ")).Users);
        Assert.Equal(1, (await store.Directory("dQ").SummaryAsync()).Users);
    }

    [Fact]
    public async Task Purge_keeps_the_tombstone_of_a_directory_whose_cleanup_is_still_owed()
    {
        var store = Cluster();
        await ApplyAsync(store, Activated("dP", 1), UserCreated("uP", "dP", 2), DirectoryDeleted("dP", 3));
        // As if the cleanup had been cut short long ago: owed still, its tombstone past retention.
        await ScalarAsync("INSERT INTO directory_cleanups (workos_directory_id) VALUES ('dP')");
        await ScalarAsync("UPDATE sync_tombstones SET deleted_at = now() - interval '2 hours' WHERE object_id = 'dP'");

        await PurgeWithRetentionAsync(TimeSpan.FromHours(1));

        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM sync_tombstones WHERE object_id = 'dP' AND object_kind = 'directory'"));
    }

}
