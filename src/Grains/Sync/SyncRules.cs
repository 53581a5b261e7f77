using DirectorySync.Events;

namespace DirectorySync.Sync;

public enum ObjectKind { Directory, User, Group, Membership }

/// <summary>A mirrored object: a directory, user or group by WorkOS id, a membership by <see cref="MembershipKey"/>.</summary>
public readonly record struct ObjectKey(ObjectKind Kind, string Id)
{
    public static ObjectKey Of(SyncEvent e) => e.Kind switch
    {
        SyncEventKind.DirectoryActivated or SyncEventKind.DirectoryDeleted => new(ObjectKind.Directory, e.Directory!.Id),
        SyncEventKind.UserCreated or SyncEventKind.UserUpdated or SyncEventKind.UserDeleted => new(ObjectKind.User, e.User!.Id),
        SyncEventKind.GroupCreated or SyncEventKind.GroupUpdated or SyncEventKind.GroupDeleted => new(ObjectKind.Group, e.Group!.Id),
        _ => new(ObjectKind.Membership, MembershipKey.For(e.Membership!.GroupId, e.Membership.UserId)),
    };
}

/// <summary>What is durably known of one object: the version of its live row (shown or pending) and of its newest delete.</summary>
public readonly record struct ObjectState(EventVersion? Live, EventVersion? Tombstone)
{
    public static readonly ObjectState Unknown = new(null, null);

    /// <summary>The state after <paramref name="decision"/> at <paramref name="version"/>.</summary>
    public ObjectState After(Decision decision, EventVersion version) => decision switch
    {
        Decision.Upsert => this with { Live = version },
        Decision.Delete => new(Live is { } live && live > version ? live : null, version),
        _ => this,
    };
}

public enum Decision
{
    /// <summary>A newer change to the object, or a newer delete of what it belongs to, was applied: change nothing.</summary>
    Stale,
    /// <summary>Write the object at the event's version.</summary>
    Upsert,
    /// <summary>Delete the object (and what hangs off it) at the event's version.</summary>
    Delete,
}

/// <summary>Whether a user who turns inactive is kept (marked inactive) or removed like a deleted user (FACTS §5).</summary>
public enum InactiveUsersPolicy { Retain, Delete }

/// <summary>
/// The sync rules, as pure functions. Every object is last-writer-wins by <see cref="EventVersion"/>; deletes leave
/// tombstones so older events never resurrect; an event older than a delete of its directory (or, for a membership,
/// of its user or group) was undone by that delete's cascade, so it is stale too.
/// </summary>
public static class SyncRules
{
    /// <remarks>
    /// A delete is compared with the newest delete only, not with the live row: a delete older than a re-creation
    /// still removes everything hanging off the object that is older than it (in-order delivery would have).
    /// </remarks>
    public static Decision Decide(SyncEvent e, EventVersion version, ObjectState self, EventVersion? newestParentDelete,
        InactiveUsersPolicy policy)
    {
        if (newestParentDelete is { } parentDelete && parentDelete >= version) return Decision.Stale;
        if (self.Tombstone is { } tombstone && tombstone >= version) return Decision.Stale;
        if (IsDelete(e, policy)) return Decision.Delete;
        return self.Live is { } live && live >= version ? Decision.Stale : Decision.Upsert;
    }

    public static bool IsDelete(SyncEvent e, InactiveUsersPolicy policy) => e.Kind switch
    {
        SyncEventKind.DirectoryDeleted or SyncEventKind.UserDeleted or SyncEventKind.GroupDeleted
            or SyncEventKind.GroupUserRemoved => true,
        SyncEventKind.UserCreated or SyncEventKind.UserUpdated =>
            policy == InactiveUsersPolicy.Delete && e.User!.State == UserStates.Inactive,
        _ => false,
    };

    /// <summary>Postgres keeps microseconds; versions are compared at that precision everywhere.</summary>
    public static EventVersion VersionOf(SyncEvent e) => e.ListedAt is { } listedAt
        ? new(Microseconds(SnapshotTime(e) ?? listedAt), SnapshotEventId)
        : new(Microseconds(e.CreatedAt), e.EventId);

    /// <summary>
    /// A snapshot's version has no event id: it sorts before every event of the same instant, so an event always wins a
    /// tie with what a listing showed.
    /// </summary>
    public const string SnapshotEventId = "";

    /// <summary>
    /// A listed user, group or directory is as new as its <c>updated_at</c>. Memberships change without bumping it, and
    /// what a listing no longer shows was removed some time before it: both are as new as the listing.
    /// </summary>
    private static DateTimeOffset? SnapshotTime(SyncEvent e) => e.Kind switch
    {
        SyncEventKind.DirectoryActivated => e.Directory!.UpdatedAt,
        SyncEventKind.UserCreated or SyncEventKind.UserUpdated => e.User!.UpdatedAt,
        SyncEventKind.GroupCreated or SyncEventKind.GroupUpdated => e.Group!.UpdatedAt,
        _ => null,
    };

    private static DateTimeOffset Microseconds(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>
    /// A listed user or group whose content differs from its mirror row while the index holds a version at least as
    /// new: the row drifted (or a change reached WorkOS without bumping <c>updated_at</c>). The listing is the truth
    /// when nothing the index holds is newer than the listing itself: the row is rewritten at the version it has.
    /// </summary>
    public static bool Repairs(SyncEvent snapshot, ObjectState self, EventVersion? newestParentDelete) =>
        snapshot.ListedAt is { } listedAt
        && self.Live is { } live && live.At <= listedAt
        && !(self.Tombstone >= live) && !(newestParentDelete >= live);
}
