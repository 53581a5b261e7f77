using DirectorySync.Events;

namespace DirectorySync;

/// <summary>Owns one WorkOS directory (key: directory id): activation, deletion and the deletion's cleanup.</summary>
public interface IDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Applies a <c>dsync.activated</c> or <c>dsync.deleted</c>; returns once its effect is durable.</summary>
    Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent);
}

/// <summary>Owns one directory user (key: directory user id).</summary>
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>Applies a <c>dsync.user.*</c> event; returns once its effect is durable.</summary>
    Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent);
}

/// <summary>Owns one directory group (key: directory group id).</summary>
public interface IGroupGrain : IGrainWithStringKey
{
    /// <summary>Applies a <c>dsync.group.created/updated/deleted</c>; returns once its effect is durable.</summary>
    Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent);
}

/// <summary>
/// Applies the membership events of one directory (key: directory id). Memberships are ordered per (group, user) pair
/// by event time (FACTS §4), and that order is decided where every decision is made: in the mirror store, under the
/// directory's lock, against the committed versions. So this grain is a stateless, reentrant door, with activations
/// on every silo: an initial sync's 50,000 <c>user_added</c> events spread over the cluster, and do not create
/// 50,000 activations (one per pair) only to forward one call each.
/// </summary>
public interface IMembershipGrain : IGrainWithStringKey
{
    /// <summary>Applies a <c>dsync.group.user_added</c> or <c>user_removed</c>; returns once its effect is durable.</summary>
    Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent);
}

/// <summary>Records signed events that cannot be applied, so they are kept (and can be replayed) and acknowledged.</summary>
public interface IDeadLetterGrain : IGrainWithIntegerKey
{
    Task RecordAsync(DeadLetter deadLetter);
}

[GenerateSerializer, Immutable]
public sealed record DeadLetter(
    [property: Id(0)] string EventId,
    [property: Id(1)] string EventType,
    [property: Id(2)] string? ObjectId,
    [property: Id(3)] DateTimeOffset? CreatedAt,
    [property: Id(4)] string Reason,
    [property: Id(5)] string Payload);

public static class MembershipKey
{
    public static string For(string groupId, string userId) => $"{groupId}/{userId}";
}

/// <summary>The one place that decides which grain owns an event.</summary>
public static class EventRouting
{
    public static Task<ApplyOutcome> ApplyAsync(IGrainFactory grains, SyncEvent e) => e.Kind switch
    {
        SyncEventKind.DirectoryActivated or SyncEventKind.DirectoryDeleted =>
            grains.GetGrain<IDirectoryGrain>(e.Directory!.Id).ApplyAsync(e),
        SyncEventKind.UserCreated or SyncEventKind.UserUpdated or SyncEventKind.UserDeleted =>
            grains.GetGrain<IUserGrain>(e.User!.Id).ApplyAsync(e),
        SyncEventKind.GroupCreated or SyncEventKind.GroupUpdated or SyncEventKind.GroupDeleted =>
            grains.GetGrain<IGroupGrain>(e.Group!.Id).ApplyAsync(e),
        _ => grains.GetGrain<IMembershipGrain>(e.Membership!.DirectoryId).ApplyAsync(e),
    };
}

/// <summary>Housekeeping for the whole cluster (key 0).</summary>
public interface IMaintenanceGrain : IGrainWithIntegerKey
{
    /// <summary>Registers the hourly purge reminder (idempotent; every silo calls it at start).</summary>
    Task EnsureScheduledAsync();

    /// <summary>Drops tombstones and event log entries older than the retention period now.</summary>
    Task PurgeAsync();
}

/// <summary>Answers if some silo is reachable and running grains: what a gateway's readiness means.</summary>
public interface IPingGrain : IGrainWithIntegerKey
{
    Task PingAsync();
}
