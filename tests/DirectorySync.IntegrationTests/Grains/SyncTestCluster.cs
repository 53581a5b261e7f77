using DirectorySync.Events;
using DirectorySync.Silo;
using DirectorySync.Storage;
using DirectorySync.Sync;
using DirectorySync.Testing;
using DirectorySync.WorkOS;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace DirectorySync.IntegrationTests.Grains;

/// <summary>
/// Real silos of the sync grains (Orleans TestingHost, in this process) on a fresh Postgres database of our schema,
/// with reminders in that database (so a directory cleanup survives a silo) and the silos' grain storage.
/// </summary>
internal sealed class SyncTestCluster : IAsyncDisposable
{
    private SyncTestCluster(InProcessTestCluster cluster, string connectionString)
    {
        Cluster = cluster;
        ConnectionString = connectionString;
    }

    public InProcessTestCluster Cluster { get; }

    public string ConnectionString { get; }

    public IGrainFactory Grains => Cluster.Client;

    public static async Task<SyncTestCluster> StartAsync(string name, InactiveUsersPolicy policy = InactiveUsersPolicy.Retain,
        short silos = 1, string? connectionString = null, TimeSpan? retention = null, ILoggerProvider? logs = null,
        IReadOnlyDictionary<string, string?>? workos = null)
    {
        connectionString ??= await PostgresServer.Shared.CreateDatabaseAsync(name);
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DirectorySync:InactiveUsers"] = policy.ToString(),
            ["DirectorySync:CleanupChunkSize"] = "2",
            ["DirectorySync:CleanupRetryPeriod"] = "00:00:01",
            ["DirectorySync:Retention"] = (retention ?? TimeSpan.FromDays(30)).ToString(),
        }).AddInMemoryCollection(workos ?? new Dictionary<string, string?>()).Build();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Services.AddDirectorySync(settings, connectionString);
            host.Services.AddWorkOSApi(settings);
            // As the hosts do (ServiceDefaults): a failure reaches the caller as the exception it was.
            host.Services.Configure<Orleans.Serialization.ExceptionSerializationOptions>(o =>
            {
                o.SupportedNamespacePrefixes.Add("Npgsql");
                o.SupportedNamespacePrefixes.Add("DirectorySync");
            });
            if (logs is not null) host.Logging.AddProvider(logs);
        });
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = TestSilo.Invariant;
                o.ConnectionString = connectionString;
            });
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.AddSyncGrainStorage(connectionString);
            silo.AddWorkOSSource();
        });
        System.Data.Common.DbProviderFactories.RegisterFactory(TestSilo.Invariant, NpgsqlFactory.Instance);
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new SyncTestCluster(cluster, connectionString);
    }

    public IDirectoryGrain Directory(string id) => Grains.GetGrain<IDirectoryGrain>(id);

    public DirectoryStore Store => Cluster.Silos[0].ServiceProvider.GetRequiredService<DirectoryStore>();

    public Task<ApplyOutcome> ApplyAsync(SyncEvent e) => EventRouting.ApplyAsync(Grains, e);

    /// <summary>Applies events one at a time, then waits for any directory cleanup they started to finish.</summary>
    public async Task<List<ApplyOutcome>> ApplyInOrderAsync(params SyncEvent[] events)
    {
        var outcomes = new List<ApplyOutcome>();
        foreach (var e in events) outcomes.Add(await ApplyAsync(e));
        await CleanupsFinishedAsync(events);
        return outcomes;
    }

    /// <summary>Applies events all at once (they meet in the directory grain's queue), then waits for cleanups.</summary>
    public async Task<ApplyOutcome[]> ApplyTogetherAsync(params SyncEvent[] events)
    {
        var outcomes = await Task.WhenAll(events.Select(ApplyAsync));
        await CleanupsFinishedAsync(events);
        return outcomes;
    }

    private async Task CleanupsFinishedAsync(IEnumerable<SyncEvent> events)
    {
        foreach (var directory in events.Where(e => e.Kind == SyncEventKind.DirectoryDeleted).Select(e => e.DirectoryId).Distinct())
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((long)(await ScalarAsync($"SELECT count(*) FROM directory_cleanups WHERE workos_directory_id = '{directory}'"))! > 0)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"Cleanup of {directory} did not finish");
                await Task.Delay(50);
            }
        }
    }

    public Task<Mirror> MirrorOf(string directory) => Mirror.ReadAsync(ConnectionString, directory);

    public Task<object?> ScalarAsync(string sql) => MirrorQueries.ScalarAsync(ConnectionString, sql);

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}
