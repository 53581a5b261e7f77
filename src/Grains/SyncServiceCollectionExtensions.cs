using DirectorySync.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DirectorySync;

public static class SyncServiceCollectionExtensions
{
    /// <summary>The sync engine a silo hosts: options, the Postgres data source and the mirror store.</summary>
    public static IServiceCollection AddDirectorySync(this IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<SyncOptions>()
            .Bind(configuration.GetSection(SyncOptions.Section))
            .Validate(o => o.MaxBatchSize > 0 && o.CleanupChunkSize > 0 && o.Retention > TimeSpan.Zero,
                $"{SyncOptions.Section}: MaxBatchSize, CleanupChunkSize and Retention must be positive")
            .ValidateOnStart();
        services.AddSingleton(_ => MirrorStore.CreateDataSource(connectionString));
        services.AddSingleton<MirrorStore>();
        services.AddHostedService(sp => sp.GetRequiredService<MirrorStore>());
        return services;
    }
}
