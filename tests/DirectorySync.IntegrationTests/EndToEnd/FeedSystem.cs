using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.Feed;
using DirectorySync.Simulator.History;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>What the change feed tests share: settings, a history delivered shuffled with duplicates, and waiting for a copy to match the mirror.</summary>
internal static class FeedSystem
{
    public const string Key = "read-api-key-for-the-change-feed-tests-0123456789";

    /// <summary>Read API key, quick retries (a millisecond where production waits 5 s), and the given endpoints (name, URL).</summary>
    public static Dictionary<string, string?> Settings(params (string Name, Uri Url)[] endpoints)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReadApi:Keys"] = Key,
            ["ChangeFeed:RetryScale"] = "0.0002",
            ["ChangeFeed:RequestTimeout"] = "00:00:01",
            ["ChangeFeed:MaxBatch"] = "50",
        };
        foreach (var (name, url) in endpoints)
        {
            settings[$"ChangeFeed:Endpoints:{name}:Url"] = url.ToString();
            settings[$"ChangeFeed:Endpoints:{name}:Secret"] = WebhookReceiver.Secret;
        }
        return settings;
    }

    public static async Task<GeneratedHistory> DeliverShuffledAsync(SyncSystem system, int seed, bool deleteDirectoryAtEnd, int users = 40)
    {
        var history = HistoryGenerator.Generate(new HistoryOptions
        {
            Seed = seed,
            Directories = 2,
            UsersPerDirectory = users,
            GroupsPerDirectory = 5,
            MembershipsPerUser = 2,
            ChurnPerDirectory = 150,
            DeleteDirectoryAtEnd = deleteDirectoryAtEnd,
            Generation = PayloadGeneration.Mixed,
        });
        var report = await WebhookDelivery.DeliverAsync(history.Events, new WebhookDeliveryOptions
        {
            Endpoint = system.WebhookUrl,
            Secret = SyncSystem.Secret,
            Concurrency = 16,
            Order = DeliveryOrder.Shuffled,
            DuplicateFraction = 0.2,
            Seed = seed,
        });
        Assert.True(report.AllAcknowledged, $"seed {seed}: not every event was acknowledged");
        return history;
    }

    /// <summary>Every entry from the start of the feed, applied as an application would.</summary>
    public static async Task<FeedReplica> FollowAsync(SyncSystem system)
    {
        var replica = new FeedReplica();
        await new FeedFollower(system.Http, system.GatewayUrl, Key).FollowAsync(null, null, TimeSpan.FromSeconds(1), replica.Apply, CancellationToken.None);
        return replica;
    }

    /// <summary>Waits until <paramref name="copy"/> equals the mirror; returns the differences left when <paramref name="patience"/> ran out.</summary>
    public static async Task<IReadOnlyList<string>> WaitForMirrorAsync(SyncSystem system, FeedReplica copy, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var mirror = await ShapedMirror.ReadAsync(system.ConnectionString, null, CancellationToken.None);
            IReadOnlyList<string> differences;
            // The receiver applies under this lock.
            lock (copy) differences = ShapedMirror.Compare(copy, mirror);
            if (differences.Count == 0 || DateTime.UtcNow >= deadline) return differences;
            await Task.Delay(200);
        }
    }
}
