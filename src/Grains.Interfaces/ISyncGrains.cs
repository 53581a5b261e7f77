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
/// Owns one membership, the pair of a group and a user (key: <see cref="MembershipKey"/>). Memberships are their own
/// objects with their own order (FACTS §4), so they get their own grain: a 10,000-member group's initial
/// <c>user_added</c> burst then spreads over the cluster instead of queueing behind one group grain.
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
        _ => grains.GetGrain<IMembershipGrain>(MembershipKey.For(e.Membership!.GroupId, e.Membership.UserId)).ApplyAsync(e),
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
