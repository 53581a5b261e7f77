using System.Net;
using DirectorySync.Testing;
using Xunit;
using static DirectorySync.IntegrationTests.EndToEnd.Payloads;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary><c>dsync.deleted</c>: acknowledged once recorded, cleaned up by the DirectoryGrain, resumed after a stop.</summary>
public sealed class DirectoryDeletionTests
{
    private static async Task PopulateAsync(SyncSystem system, string directory, int users)
    {
        Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(Activated($"event_{directory}_a", directory, 1))).Status);
        Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(GroupCreated($"event_{directory}_g", $"{directory}_g", directory, 2))).Status);
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(UserCreated($"event_{directory}_u{i}", $"{directory}_u{i}", directory, 3))).Status);
            Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(Added($"event_{directory}_m{i}", $"{directory}_g", $"{directory}_u{i}", directory, 4))).Status);
        });
    }

    private static Task<long> RowsAsync(SyncSystem system, string directory) =>
        MirrorQueries.DirectoryRowsAsync(system.ConnectionString, directory);

    private static async Task WaitUntilGoneAsync(SyncSystem system, string directory, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (await RowsAsync(system, directory) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"directory {directory} still has rows after {timeout}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Deleted_directory_disappears_with_everything_in_it_and_older_events_stay_out()
    {
        await using var system = await SyncSystem.StartAsync("deletion");
        await PopulateAsync(system, "dir_del", 50);

        var deleted = await system.SendAsync(DirectoryDeleted("event_dir_del_x", "dir_del", 10));
        Assert.Equal((HttpStatusCode.OK, "applied"), deleted);
        await WaitUntilGoneAsync(system, "dir_del", TimeSpan.FromSeconds(30));

        Assert.Equal((HttpStatusCode.OK, "stale"), await system.SendAsync(UserUpdated("event_dir_del_late", "dir_del_u1", "dir_del", 5)));
        Assert.Equal(0, await RowsAsync(system, "dir_del"));
    }

    [Fact]
    public async Task Cleanup_interrupted_by_a_silo_stop_is_finished_by_the_reminder_on_another_silo()
    {
        await using var system = await SyncSystem.StartAsync("deletion_resume", new Dictionary<string, string?>
        {
            ["DirectorySync:CleanupChunkSize"] = "1",
            ["DirectorySync:CleanupRetryPeriod"] = "00:00:02",
            ["Reminders:MinimumReminderPeriod"] = "00:00:01",
        });
        await PopulateAsync(system, "dir_res", 300);

        Assert.Equal((HttpStatusCode.OK, "applied"), await system.SendAsync(DirectoryDeleted("event_dir_res_x", "dir_res", 10)));
        await system.StopSiloAsync(system.Silos.Single());
        Assert.True(await RowsAsync(system, "dir_res") > 0, "the cleanup finished before the silo stopped: nothing left to resume");

        await system.StartSiloAsync();
        await WaitUntilGoneAsync(system, "dir_res", TimeSpan.FromSeconds(60));
    }
}
