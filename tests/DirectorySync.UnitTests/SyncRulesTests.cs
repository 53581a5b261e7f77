using DirectorySync.Events;
using DirectorySync.Sync;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class SyncRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static EventVersion V(int second, string id = "event_a") => new(T0.AddSeconds(second), id);

    private static SyncEvent UserEvent(SyncEventKind kind, string state = UserStates.Active) => new(
        "event_x", "dsync.user.x", kind, T0, "{}",
        User: new DirectoryUser("directory_user_1", "directory_1", null, null, "a@example.com", "A", "B", null, null,
            state, [], "{}", "{}"));

    private static SyncEvent MembershipEvent(SyncEventKind kind) => new(
        "event_x", "dsync.group.x", kind, T0, "{}", Membership: new GroupMembership("directory_1", "directory_user_1", "directory_group_1"));

    [Fact]
    public void An_event_for_an_unknown_object_is_applied() =>
        Assert.Equal(Decision.Upsert, SyncRules.Decide(UserEvent(SyncEventKind.UserCreated), V(1), ObjectState.Unknown, null, InactiveUsersPolicy.Retain));

    [Theory]
    [InlineData(5, 4)]
    [InlineData(5, 5)]
    public void An_update_not_newer_than_the_live_row_is_stale(int live, int incoming) =>
        Assert.Equal(Decision.Stale, SyncRules.Decide(UserEvent(SyncEventKind.UserUpdated), V(incoming), new(V(live), null), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void Same_time_is_ordered_by_event_id() =>
        Assert.Equal(Decision.Upsert, SyncRules.Decide(UserEvent(SyncEventKind.UserUpdated), V(5, "event_b"), new(V(5, "event_a"), null), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void Stale_update_after_delete_does_not_resurrect_user() =>
        Assert.Equal(Decision.Stale, SyncRules.Decide(UserEvent(SyncEventKind.UserUpdated), V(3), new(null, V(4)), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void Create_newer_than_the_delete_brings_the_object_back() =>
        Assert.Equal(Decision.Upsert, SyncRules.Decide(UserEvent(SyncEventKind.UserCreated), V(5), new(null, V(4)), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void Event_older_than_its_directory_delete_is_stale() =>
        Assert.Equal(Decision.Stale, SyncRules.Decide(UserEvent(SyncEventKind.UserCreated), V(3), ObjectState.Unknown, V(4), InactiveUsersPolicy.Retain));

    [Fact]
    public void Membership_older_than_its_user_delete_is_stale() =>
        Assert.Equal(Decision.Stale, SyncRules.Decide(MembershipEvent(SyncEventKind.GroupUserAdded), V(3), ObjectState.Unknown, V(4), InactiveUsersPolicy.Retain));

    [Fact]
    public void Delete_older_than_a_recreation_is_still_applied_for_its_cascade() =>
        Assert.Equal(Decision.Delete, SyncRules.Decide(UserEvent(SyncEventKind.UserDeleted), V(4), new(V(6), null), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void Delete_not_newer_than_the_recorded_delete_is_stale() =>
        Assert.Equal(Decision.Stale, SyncRules.Decide(UserEvent(SyncEventKind.UserDeleted), V(4), new(null, V(4)), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void Inactive_user_is_kept_under_retain() =>
        Assert.Equal(Decision.Upsert, SyncRules.Decide(UserEvent(SyncEventKind.UserUpdated, UserStates.Inactive), V(2), new(V(1), null), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void Inactive_user_is_deleted_under_delete() =>
        Assert.Equal(Decision.Delete, SyncRules.Decide(UserEvent(SyncEventKind.UserUpdated, UserStates.Inactive), V(2), new(V(1), null), null, InactiveUsersPolicy.Delete));

    [Fact]
    public void User_removed_is_a_membership_delete() =>
        Assert.Equal(Decision.Delete, SyncRules.Decide(MembershipEvent(SyncEventKind.GroupUserRemoved), V(2), new(V(1), null), null, InactiveUsersPolicy.Retain));

    [Fact]
    public void A_delete_keeps_a_newer_live_row_and_records_the_tombstone()
    {
        var after = new ObjectState(V(6), null).After(Decision.Delete, V(4));
        Assert.Equal(new ObjectState(V(6), V(4)), after);
    }

    [Fact]
    public void A_delete_removes_an_older_live_row()
    {
        var after = new ObjectState(V(3), null).After(Decision.Delete, V(4));
        Assert.Equal(new ObjectState(null, V(4)), after);
    }

    [Fact]
    public void Versions_are_compared_at_microsecond_precision()
    {
        var e = UserEvent(SyncEventKind.UserCreated) with { CreatedAt = T0.AddTicks(15) };
        Assert.Equal(T0.AddTicks(10), SyncRules.VersionOf(e).At);
    }
}
