using DirectorySync.Events;
using DirectorySync.Sync;
using Xunit;
using static DirectorySync.UnitTests.IndexEvents;

namespace DirectorySync.UnitTests;

/// <summary>The directory index decides alone, from memory: what it records is what a flush will write.</summary>
public sealed class DirectoryIndexTests
{
    private static DirectoryIndex Index() => new("d1", InactiveUsersPolicy.Retain);

    /// <summary>A user as a listing at <paramref name="listedSecond"/> shows it, last updated at <paramref name="updatedSecond"/>.</summary>
    private static SyncEvent Listed(string id, int updatedSecond, int listedSecond, string email = "listed@example.com") =>
        new($"snapshot/user/{id}", "dsync.user.updated", SyncEventKind.UserUpdated, T0.AddSeconds(listedSecond), "{}",
            User: new DirectoryUser(id, "d1", null, null, email, null, null, null, null, UserStates.Active, [], "{}", "{}",
                UpdatedAt: T0.AddSeconds(updatedSecond)),
            ListedAt: T0.AddSeconds(listedSecond));

    private static SyncEvent Unlisted(string id, int listedSecond) =>
        new($"snapshot/user/{id}", "dsync.user.deleted", SyncEventKind.UserDeleted, T0.AddSeconds(listedSecond), "{}",
            User: new DirectoryUser(id, "d1", null, null, null, null, null, null, null, UserStates.Inactive, [], "{}", "{}"),
            ListedAt: T0.AddSeconds(listedSecond));

    [Fact]
    public void A_listed_user_is_as_new_as_its_updated_at_so_a_newer_event_wins_and_an_older_one_does_not()
    {
        var index = Index();
        index.Apply(Activated(1), new DirectoryChanges());
        var listed = new DirectoryChanges();
        Assert.Equal(ApplyOutcome.Applied, index.Apply(Listed("u1", updatedSecond: 10, listedSecond: 20), listed));
        Assert.Equal(new EventVersion(T0.AddSeconds(10), SyncRules.SnapshotEventId), Assert.Single(listed.Users).Version);

        Assert.Equal(ApplyOutcome.Stale, index.Apply(User(SyncEventKind.UserUpdated, "u1", 9), new DirectoryChanges()));
        // An event of the same instant as updated_at carries the same change: it wins the tie.
        Assert.Equal(ApplyOutcome.Applied, index.Apply(User(SyncEventKind.UserUpdated, "u1", 10), new DirectoryChanges()));
    }

    [Fact]
    public void A_listing_never_overwrites_an_event_newer_than_the_listing_but_repairs_a_row_no_newer_than_it()
    {
        var index = Index();
        index.Apply(Activated(1), new DirectoryChanges());
        index.Apply(User(SyncEventKind.UserCreated, "u1", 5), new DirectoryChanges());
        index.Apply(User(SyncEventKind.UserCreated, "u2", 30), new DirectoryChanges());

        // u1's row drifted: the listing (updated_at older than the event that wrote the row) rewrites it at the row's version.
        var repaired = new DirectoryChanges();
        Assert.Equal(ApplyOutcome.Applied, index.Apply(Listed("u1", updatedSecond: 4, listedSecond: 20), repaired));
        var write = Assert.Single(repaired.Users);
        Assert.Equal((Placement.Shown, T0.AddSeconds(5)), (write.Target, write.Version.At));
        Assert.NotNull(write.Content);

        // u2 changed after the listing began: the listing's older view loses.
        var kept = new DirectoryChanges();
        Assert.Equal(ApplyOutcome.Stale, index.Apply(Listed("u2", updatedSecond: 4, listedSecond: 20), kept));
        Assert.Empty(kept.Users);
    }

    [Fact]
    public void A_listing_that_no_longer_shows_a_user_removes_it_unless_it_was_created_after_the_listing_began()
    {
        var index = Index();
        index.Apply(Activated(1), new DirectoryChanges());
        index.Apply(User(SyncEventKind.UserCreated, "u1", 5), new DirectoryChanges());
        index.Apply(User(SyncEventKind.UserCreated, "u2", 30), new DirectoryChanges());

        var changes = new DirectoryChanges();
        index.Apply(Unlisted("u1", 20), changes);
        index.Apply(Unlisted("u2", 20), changes);
        // A row the index never knew (written behind the grain's back) goes too.
        index.Apply(Unlisted("stray", 20), changes);

        Assert.Equal(["stray:Absent", "u1:Absent"], changes.Users.Select(w => $"{w.Id}:{w.Target}").Order().ToArray());
        Assert.Equal(1, index.UserCount);
        // An event older than the listing cannot bring the removed user back.
        Assert.Equal(ApplyOutcome.Stale, index.Apply(User(SyncEventKind.UserUpdated, "u1", 19), new DirectoryChanges()));
    }

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
