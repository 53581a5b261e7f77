using DirectorySync.Events;
using DirectorySync.Sync;

namespace DirectorySync.Feed;

/// <summary>
/// One change feed entry a flush owes: its event type and the object whose row gives its <c>data</c> (a membership is
/// named by its group in <see cref="Id"/> and its user in <see cref="UserId"/>).
/// </summary>
public sealed record FeedEntryWrite(SyncEventKind Event, ObjectKind Kind, string Id, string? UserId = null);

/// <summary>
/// The change feed entries one flush owes, derived from each object's net transition over the flush (where its row was
/// before and where it ends), never from the events that caused it: a duplicate or stale event moves nothing and adds
/// nothing; a cascade (memberships taken by a user's or group's delete, pending rows shown once their directory, user
/// or group is) moves rows and adds their entries.
/// </summary>
/// <remarks>
/// <see cref="Leaving"/> entries are shaped from the rows as they are before the flush changes them (a deletion's data is
/// the object as last shown), <see cref="Arriving"/> ones from the rows after. A directory's deletion is one
/// <c>dsync.deleted</c> standing for everything in it; when a newer activation keeps the directory shown, what is still
/// shown afterwards is announced again after it (<see cref="AnnouncedAfterDelete"/>), as in-order delivery would have
/// re-created it.
/// </remarks>
public sealed record ChangeFeedWrites(
    IReadOnlyList<FeedEntryWrite> Leaving, IReadOnlyList<FeedEntryWrite> Arriving, EventVersion? AnnouncedAfterDelete)
{
    public int Count => Leaving.Count + Arriving.Count;

    public static ChangeFeedWrites Of(DirectoryChanges changes)
    {
        if (changes.DirectoryDelete is { } deleted)
        {
            FeedEntryWrite[] leaving = changes.DirectoryShownBefore
                ? [new(SyncEventKind.DirectoryDeleted, ObjectKind.Directory, "")]
                : [];
            return new ChangeFeedWrites(leaving, [], changes.DirectoryShownAfter ? deleted : null);
        }

        var removed = changes.Memberships
            .Where(m => changes.Before(m) == Placement.Shown && m.Target != Placement.Shown)
            .ToList();
        var removedByUser = removed.ToLookup(m => m.UserId, StringComparer.Ordinal);
        var removedByGroup = removed.ToLookup(m => m.GroupId, StringComparer.Ordinal);
        var told = new HashSet<MembershipWrite>();
        var left = new List<FeedEntryWrite>();
        // A user's or group's deletion, then the memberships it took; then memberships removed on their own.
        foreach (var (kind, writes, deletedEvent) in new[]
                 {
                     (ObjectKind.User, changes.Users, SyncEventKind.UserDeleted),
                     (ObjectKind.Group, changes.Groups, SyncEventKind.GroupDeleted),
                 })
        {
            foreach (var write in writes.Where(w => changes.Before(kind, w.Id) == Placement.Shown && w.Target != Placement.Shown))
            {
                left.Add(new FeedEntryWrite(deletedEvent, kind, write.Id));
                left.AddRange((kind == ObjectKind.User ? removedByUser : removedByGroup)[write.Id].Where(told.Add).Select(Removal));
            }
        }
        left.AddRange(removed.Where(told.Add).Select(Removal));

        var arriving = new List<FeedEntryWrite>();
        if (changes.Directory is not null && changes.DirectoryShownAfter)
            arriving.Add(new FeedEntryWrite(SyncEventKind.DirectoryActivated, ObjectKind.Directory, ""));
        foreach (var (kind, writes, created, updated) in new[]
                 {
                     (ObjectKind.User, changes.Users, SyncEventKind.UserCreated, SyncEventKind.UserUpdated),
                     (ObjectKind.Group, changes.Groups, SyncEventKind.GroupCreated, SyncEventKind.GroupUpdated),
                 })
        {
            foreach (var write in writes.Where(w => w.Target == Placement.Shown))
            {
                if (changes.Before(kind, write.Id) != Placement.Shown) arriving.Add(new FeedEntryWrite(created, kind, write.Id));
                else if (write.Content is not null) arriving.Add(new FeedEntryWrite(updated, kind, write.Id));
            }
        }
        arriving.AddRange(changes.Memberships
            .Where(m => m.Target == Placement.Shown && changes.Before(m) != Placement.Shown)
            .Select(m => new FeedEntryWrite(SyncEventKind.GroupUserAdded, ObjectKind.Membership, m.GroupId, m.UserId)));
        return new ChangeFeedWrites(left, arriving, null);
    }

    private static FeedEntryWrite Removal(MembershipWrite m) =>
        new(SyncEventKind.GroupUserRemoved, ObjectKind.Membership, m.GroupId, m.UserId);

    /// <summary>The WorkOS event type an entry carries.</summary>
    public static string EventName(SyncEventKind kind) => kind switch
    {
        SyncEventKind.DirectoryActivated => "dsync.activated",
        SyncEventKind.DirectoryDeleted => "dsync.deleted",
        SyncEventKind.UserCreated => "dsync.user.created",
        SyncEventKind.UserUpdated => "dsync.user.updated",
        SyncEventKind.UserDeleted => "dsync.user.deleted",
        SyncEventKind.GroupCreated => "dsync.group.created",
        SyncEventKind.GroupUpdated => "dsync.group.updated",
        SyncEventKind.GroupDeleted => "dsync.group.deleted",
        SyncEventKind.GroupUserAdded => "dsync.group.user_added",
        _ => "dsync.group.user_removed",
    };
}
