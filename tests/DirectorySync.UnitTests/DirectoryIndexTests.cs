using DirectorySync.Events;
using DirectorySync.Sync;
using Xunit;
using static DirectorySync.UnitTests.IndexEvents;

namespace DirectorySync.UnitTests;

/// <summary>The directory index decides alone, from memory: what it records is what a flush will write.</summary>
public sealed class DirectoryIndexTests
{
    private static DirectoryIndex Index() => new("d1", InactiveUsersPolicy.Retain);

    [Fact]
    public void A_user_that_arrives_before_its_directory_waits_and_moves_in_as_it_is_when_the_directory_arrives()
    {
        var index = Index();
        var first = new DirectoryChanges();
        index.Apply(User(SyncEventKind.UserCreated, "u1", 2), first);
        Assert.Equal(Placement.Pending, Assert.Single(first.Users).Target);

        var second = new DirectoryChanges();
        index.Apply(Activated(1), second);
        var moved = Assert.Single(second.Users);
        Assert.Equal((Placement.Shown, (SyncEvent?)null), (moved.Target, moved.Content));
    }

    [Fact]
    public void An_object_that_moves_twice_before_a_flush_is_written_once_with_its_content()
    {
        var index = Index();
        var changes = new DirectoryChanges();
        var created = User(SyncEventKind.UserCreated, "u1", 2);
        index.Apply(created, changes);
        index.Apply(Activated(1), changes);
        var write = Assert.Single(changes.Users);
        Assert.Equal((Placement.Shown, created), (write.Target, write.Content));
    }

    [Fact]
    public void Deleting_a_user_removes_the_memberships_older_than_the_delete_and_parks_the_newer_ones()
    {
        var index = Index();
        var setup = new DirectoryChanges();
        foreach (var e in new[]
        {
            Activated(1), User(SyncEventKind.UserCreated, "u1", 2), Group(SyncEventKind.GroupCreated, "g1", 2),
            Group(SyncEventKind.GroupCreated, "g2", 2), Membership(SyncEventKind.GroupUserAdded, "g1", "u1", 3),
            Membership(SyncEventKind.GroupUserAdded, "g2", "u1", 6),
        }) index.Apply(e, setup);

        var changes = new DirectoryChanges();
        Assert.Equal(ApplyOutcome.Applied, index.Apply(User(SyncEventKind.UserDeleted, "u1", 5), changes));

        Assert.Equal(Placement.Absent, Assert.Single(changes.Users).Target);
        Assert.Equal([("g1", Placement.Absent), ("g2", Placement.Pending)],
            changes.Memberships.Select(m => (m.GroupId, m.Target)).OrderBy(m => m.GroupId).ToArray());
        Assert.Equal((0, 1), (index.UserCount, index.MembershipCount));
    }

    [Fact]
    public void A_directory_delete_forgets_everything_older_without_writing_it_row_by_row()
    {
        var index = Index();
        var setup = new DirectoryChanges();
        foreach (var e in new[] { Activated(1), User(SyncEventKind.UserCreated, "u1", 2), User(SyncEventKind.UserCreated, "u2", 9) })
            index.Apply(e, setup);

        var changes = new DirectoryChanges();
        index.Apply(DirectoryDeleted(5), changes);

        Assert.NotNull(changes.DirectoryDelete);
        Assert.False(index.IsShown);
        // u1 is the cleanup's to remove; u2 (newer than the delete) waits for the directory to come back.
        var parked = Assert.Single(changes.Users);
        Assert.Equal(("u2", Placement.Pending), (parked.Id, parked.Target));
        Assert.Equal(ApplyOutcome.Stale, index.Apply(User(SyncEventKind.UserUpdated, "u1", 4), new DirectoryChanges()));
    }
}
