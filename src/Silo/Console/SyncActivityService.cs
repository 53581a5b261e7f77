using Orleans.Runtime.Services;

namespace DirectorySync.Silo;

/// <summary>This silo's <see cref="SyncActivity"/>, readable from any silo (an Orleans grain service: one per silo).</summary>
internal sealed class SyncActivityService(GrainId id, Orleans.Runtime.Silo silo, ILoggerFactory loggers, SyncActivity activity)
    : GrainService(id, silo, loggers), ISyncActivityService
{
    public Task<ActivityBucket[]> RecentAsync() => Task.FromResult(activity.Recent());
}

/// <summary>Reaches the <see cref="ISyncActivityService"/> of a given silo.</summary>
public sealed class SyncActivityClient(IServiceProvider services) : GrainServiceClient<ISyncActivityService>(services)
{
    public ISyncActivityService On(SiloAddress silo) => GetGrainService(silo);
}
