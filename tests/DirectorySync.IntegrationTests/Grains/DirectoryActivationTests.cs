using DirectorySync.Events;
using DirectorySync.Storage;
using DirectorySync.IntegrationTests.EndToEnd;
using DirectorySync.Sync;
using Orleans.Runtime;
using Xunit;
using static DirectorySync.IntegrationTests.Events;

namespace DirectorySync.IntegrationTests.Grains;

/// <summary>What a directory grain knows survives its activation, and only one activation at a time can write.</summary>
public sealed class DirectoryActivationTests
{
    [Fact]
    public async Task A_new_activation_decides_from_the_persisted_state_of_the_last_one()
    {
        await using var sync = await SyncTestCluster.StartAsync("activation");
        await sync.ApplyInOrderAsync(Activated("dA", 1), UserCreated("u1", "dA", 2), UserCreated("u2", "dA", 2), GroupCreated("g1", "dA", 3),
            Added("g1", "u1", "dA", 4), Removed("g1", "u1", "dA", 6), UserDeleted("u2", "dA", 7), UserUpdated("u1", "dA", 8, "new@example.com"),
            Added("g1", "u3", "dA", 9));
        var before = await sync.Directory("dA").SummaryAsync();

        await sync.Cluster.DeactivateAsync(sync.Directory("dA"));
        var after = await sync.Directory("dA").SummaryAsync();

        Assert.Equal((true, 1, 1, 1), (before.IsShown, before.Users, before.Groups, before.Memberships));
        Assert.Equal(before with { Epoch = after.Epoch }, after);
        Assert.True(after.Epoch > before.Epoch);
        // Each older than what the first activation applied: the live row, the tombstone of u2, the removal of g1/u1.
        var outcomes = await sync.ApplyInOrderAsync(UserUpdated("u1", "dA", 5, "old@example.com"), UserCreated("u2", "dA", 3),
            Added("g1", "u1", "dA", 5));
        Assert.All(outcomes, outcome => Assert.Equal(ApplyOutcome.Stale, outcome));
        // The pending membership (its user never arrived) is still known: it is shown once the user is.
        await sync.ApplyInOrderAsync(UserCreated("u3", "dA", 10));
        var mirror = await sync.MirrorOf("dA");
        Assert.Equal(["u1:new@example.com:active", "u3:u3@example.com:active"], mirror.Users);
        Assert.Equal(["g1/u3"], mirror.Memberships);
    }

    [Fact]
    public async Task A_stale_activation_cannot_write_over_a_newer_one()
    {
        await using var sync = await SyncTestCluster.StartAsync("fence");
        await sync.ApplyInOrderAsync(Activated("dF", 1), UserCreated("u1", "dF", 2));

        // A second activation of dF (as when a silo declared dead still runs): it loads, and writes a newer update.
        var store = sync.Store;
        var second = await store.LoadAsync("dF");
        var changes = new DirectoryChanges();
        Assert.Equal(ApplyOutcome.Applied, second.Index.Apply(UserUpdated("u1", "dF", 6, "second@example.com"), changes));
        await store.FlushAsync("dF", second.Epoch, 0, changes);

        // The first activation still believes u1 is at version 2, so it decides an update at 4 applies: its flush is refused.
        var older = UserUpdated("u1", "dF", 4, "first@example.com");
        await Assert.ThrowsAsync<DirectoryFencedException>(() => sync.ApplyAsync(older));
        Assert.Equal(["u1:second@example.com:active"], (await sync.MirrorOf("dF")).Users);

        // WorkOS retries (the fenced activation refuses until it is gone); the next activation reads the truth and finds
        // the update stale.
        Assert.Equal(ApplyOutcome.Stale, await RetriedAsync(() => sync.ApplyAsync(older)));
        Assert.Equal(["u1:second@example.com:active"], (await sync.MirrorOf("dF")).Users);
    }

    [Fact]
    public async Task A_directory_cleanup_cut_short_by_a_silo_stop_finishes_on_another_silo()
    {
        await using var sync = await SyncTestCluster.StartAsync("resume", silos: 2);
        var history = new List<SyncEvent> { Activated("dR", 1), GroupCreated("g1", "dR", 2) };
        for (var i = 0; i < 150; i++)
        {
            history.Add(UserCreated($"u{i}", "dR", 2));
            history.Add(Added("g1", $"u{i}", "dR", 3));
        }
        await sync.ApplyTogetherAsync([.. history]);
        Assert.Equal(150, (await sync.MirrorOf("dR")).Users.Count);

        // Two rows per chunk: the cleanup takes well over a second, and the silo running it stops at once.
        Assert.Equal(ApplyOutcome.Applied, await sync.ApplyAsync(DirectoryDeleted("dR", 10)));
        var grainId = ((GrainReference)sync.Directory("dR")).GrainId;
        var address = Located(sync, grainId);
        var host = sync.Cluster.Silos.Single(s => s.SiloAddress.Equals(address));
        await sync.Cluster.StopSiloAsync(host);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((long)(await sync.ScalarAsync("SELECT count(*) FROM directory_cleanups"))! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the cleanup was not resumed");
            await Task.Delay(100);
        }
        var mirror = await sync.MirrorOf("dR");
        Assert.Empty(mirror.Directories);
        Assert.Empty(mirror.Users);
        Assert.Empty(mirror.Memberships);
    }

    [Fact]
    public async Task A_cleanup_that_fails_waits_for_its_retry_period_instead_of_hammering_Postgres()
    {
        var logs = new CapturedLogs();
        await using var sync = await SyncTestCluster.StartAsync("backoff", logs: logs);
        var history = new List<SyncEvent> { Activated("dB", 1) };
        for (var i = 0; i < 20; i++) history.Add(UserCreated($"u{i}", "dB", 2));
        await sync.ApplyInOrderAsync([.. history]);

        Assert.Equal(ApplyOutcome.Applied, await sync.ApplyAsync(DirectoryDeleted("dB", 3)));
        // The cleanup's last step cannot run while its table is away: every attempt fails until it is back.
        await sync.ScalarAsync("ALTER TABLE directory_cleanups RENAME TO directory_cleanups_away");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var failures = logs.Entries.Count(e => e.Contains("relation \"directory_cleanups\" does not exist"));
        await sync.ScalarAsync("ALTER TABLE directory_cleanups_away RENAME TO directory_cleanups");

        // One attempt per retry period (a second here), not one per millisecond.
        Assert.InRange(failures, 1, 6);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((long)(await sync.ScalarAsync("SELECT count(*) FROM directory_cleanups"))! > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the cleanup did not resume once Postgres answered again");
            await Task.Delay(100);
        }
        Assert.Empty((await sync.MirrorOf("dB")).Users);
    }

    private static async Task<T> RetriedAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (EventNotAcceptedException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static SiloAddress Located(SyncTestCluster sync, GrainId grainId) =>
        sync.Cluster.TryGetGrainContext(grainId, out var context) ? context.Address.SiloAddress!
            : throw new InvalidOperationException("the directory grain is not active");
}
