using DirectorySync.Feed;
using DirectorySync.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DirectorySync;

public static class SyncServiceCollectionExtensions
{
    /// <summary>
    /// The sync engine a silo hosts: options, the Postgres data source, the directory store, the write queue's bound, the
    /// silo's activity series, and the change feed with its outbound webhooks.
    /// </summary>
    public static IServiceCollection AddDirectorySync(this IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<SyncOptions>()
            .Bind(configuration.GetSection(SyncOptions.Section))
            .Validate(o => o.MaxQueuedEvents > 0 && o.CleanupChunkSize > 0 && o.Retention > TimeSpan.Zero && o.FlushStallLimit > TimeSpan.Zero,
                $"{SyncOptions.Section}: MaxQueuedEvents, CleanupChunkSize, Retention and FlushStallLimit must be positive")
            .ValidateOnStart();
        services.AddSingleton(_ => DirectoryStore.CreateDataSource(connectionString));
        services.AddSingleton<DirectoryStore>();
        services.AddSingleton<ReconcileStore>();
        services.AddSingleton<SyncStatusQueries>();
        services.AddSingleton<QueuedEvents>();
        services.AddChangeFeed(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SyncActivity>();
        services.AddSingleton<WebhookSender>();
        return services;
    }
}
