using DirectorySync.Events;
using DirectorySync.Storage;
using Orleans.Concurrency;

namespace DirectorySync.Grains;

/// <summary>
/// A user or group (and the door for memberships, see <see cref="IMembershipGrain"/>). The grain is the single door to its object in the cluster; the decision is made
/// by <see cref="MirrorStore"/> with the object's committed state, so a grain holds nothing that could go stale
/// and activates without reading the database.
/// </summary>
public abstract class SyncObjectGrain(MirrorStore store) : Grain
{
    public Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent) => store.ApplyAsync(syncEvent);
}

[CollectionAgeLimit(Minutes = 5)]
public sealed class UserGrain(MirrorStore store) : SyncObjectGrain(store), IUserGrain;

[CollectionAgeLimit(Minutes = 5)]
public sealed class GroupGrain(MirrorStore store) : SyncObjectGrain(store), IGroupGrain;

[StatelessWorker, Reentrant]
public sealed class MembershipGrain(MirrorStore store) : SyncObjectGrain(store), IMembershipGrain;
