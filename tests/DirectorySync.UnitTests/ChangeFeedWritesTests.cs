using DirectorySync.Events;
using DirectorySync.Feed;
using DirectorySync.Sync;
using Xunit;
using static DirectorySync.UnitTests.IndexEvents;

namespace DirectorySync.UnitTests;

/// <summary>A flush's change feed entries follow each object's net transition in the mirror, never the events' types.</summary>
public sealed class ChangeFeedWritesTests
{
    private static DirectoryIndex Shown(InactiveUsersPolicy policy = InactiveUsersPolicy.Retain)
    {
        var index = new DirectoryIndex("d1", policy);
        foreach (var e in new[]
        {
            Activated(1), User(SyncEventKind.UserCreated, "u1", 2), User(SyncEventKind.UserCreated, "u2", 2),
            Group(SyncEventKind.GroupCreated, "g1", 2), Group(SyncEventKind.GroupCreated, "g2", 2),
            Membership(SyncEventKind.GroupUserAdded, "g1", "u1", 3), Membership(SyncEventKind.GroupUserAdded, "g2", "u1", 3),
            Membership(SyncEventKind.GroupUserAdded, "g1", "u2", 3),
        }) index.Apply(e, new DirectoryChanges());
        return index;
    }

    private static string[] Entries(DirectoryIndex index, params SyncEvent[] events)
    {
        var changes = new DirectoryChanges();
        foreach (var e in events) index.Apply(e, changes);
        var feed = ChangeFeedWrites.Of(changes);
        var lines = feed.Leaving.Concat(feed.Arriving)
            .Select(w => $"{ChangeFeedWrites.EventName(w.Event)} {w.Id}{(w.UserId is null ? "" : "/" + w.UserId)}");
        return feed.AnnouncedAfterDelete is null ? lines.ToArray() : [.. lines, "everything newer than the delete"];
    }

    [Fact]
    public void Stale_and_repeated_events_add_no_entries()
    {
        var index = Shown();
        Assert.Empty(Entries(index, User(SyncEventKind.UserUpdated, "u1", 1), Membership(SyncEventKind.GroupUserAdded, "g1", "u1", 3)));
        // Added again with a newer version: the membership was shown and still is.
        Assert.Empty(Entries(index, Membership(SyncEventKind.GroupUserAdded, "g1", "u1", 4)));
    }

    [Fact]
    public void A_user_deletion_is_followed_by_the_removal_of_each_membership_it_took()
    {
        var entries = Entries(Shown(), User(SyncEventKind.UserDeleted, "u1", 5));
        Assert.Equal("dsync.user.deleted u1", entries[0]);
        Assert.Equal(["dsync.group.user_removed g1/u1", "dsync.group.user_removed g2/u1"], entries[1..].Order());
    }

    [Fact]
    public void A_group_deletion_is_followed_by_its_memberships_and_a_membership_taken_twice_is_told_once()
    {
        var entries = Entries(Shown(), Group(SyncEventKind.GroupDeleted, "g1", 5), User(SyncEventKind.UserDeleted, "u1", 6));
        Assert.Equal("dsync.user.deleted u1", entries[0]);
        Assert.Equal(["dsync.group.user_removed g1/u1", "dsync.group.user_removed g1/u2", "dsync.group.user_removed g2/u1"],
            entries.Where(e => e.Contains("user_removed")).Order());
        Assert.Contains("dsync.group.deleted g1", entries);
        Assert.Equal(5, entries.Length);
    }

    [Fact]
    public void Created_and_updated_in_one_flush_is_one_created_and_created_then_deleted_is_nothing()
    {
        var index = Shown();
        Assert.Equal(["dsync.user.created u3"],
            Entries(index, User(SyncEventKind.UserCreated, "u3", 4), User(SyncEventKind.UserUpdated, "u3", 5)));
        Assert.Equal(["dsync.user.updated u3"], Entries(index, User(SyncEventKind.UserUpdated, "u3", 6)));
        Assert.Empty(Entries(index, User(SyncEventKind.UserCreated, "u4", 4), User(SyncEventKind.UserDeleted, "u4", 5)));
    }

    [Fact]
    public void Rows_waiting_for_their_directory_are_created_when_it_is_activated()
    {
        var index = new DirectoryIndex("d1", InactiveUsersPolicy.Retain);
        Assert.Empty(Entries(index, User(SyncEventKind.UserCreated, "u1", 2), Group(SyncEventKind.GroupCreated, "g1", 2),
            Membership(SyncEventKind.GroupUserAdded, "g1", "u1", 3)));
        Assert.Equal(["dsync.activated ", "dsync.user.created u1", "dsync.group.created g1", "dsync.group.user_added g1/u1"],
            Entries(index, Activated(1)));
    }

    [Fact]
    public void A_directory_deletion_is_one_entry_for_everything_in_it()
    {
        Assert.Equal(["dsync.deleted "], Entries(Shown(), DirectoryDeleted(10), User(SyncEventKind.UserUpdated, "u1", 11)));
        // A deletion older than the activation that keeps the directory shown: what is still shown is told again.
        var index = Shown();
        Entries(index, Activated(8));
        Assert.Equal(["dsync.deleted ", "everything newer than the delete"], Entries(index, DirectoryDeleted(5)));
    }

    [Fact]
    public void Under_the_delete_policy_an_inactive_user_is_deleted()
    {
        Assert.Equal(["dsync.user.deleted u2", "dsync.group.user_removed g1/u2"],
            Entries(Shown(InactiveUsersPolicy.Delete), InactiveUser("u2", 5)));
    }
}
