using DirectorySync.Events;

namespace DirectorySync.IntegrationTests;

/// <summary>Builds parsed events for storage-level tests; <c>second</c> is the event's created_at offset.</summary>
internal static class Events
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
    private static int _sequence;

    private static SyncEvent Make(SyncEventKind kind, string type, int second,
        DirectoryData? directory = null, DirectoryUser? user = null, DirectoryGroup? group = null, GroupMembership? membership = null)
    {
        var id = $"event_{second:D6}_{Interlocked.Increment(ref _sequence):D8}";
        return new SyncEvent(id, type, kind, T0.AddSeconds(second), $$"""{"id":"{{id}}","event":"{{type}}"}""",
            directory, user, group, membership);
    }

    public static SyncEvent Activated(string directory, int second) => Make(SyncEventKind.DirectoryActivated, "dsync.activated", second,
        directory: new DirectoryData(directory, "org_1", "Example", "okta scim v2.0", DirectoryStates.Active, ["example.com"]));

    public static SyncEvent DirectoryDeleted(string directory, int second) => Make(SyncEventKind.DirectoryDeleted, "dsync.deleted", second,
        directory: new DirectoryData(directory, "org_1", "Example", "okta scim v2.0", DirectoryStates.Deleting, []));

    public static DirectoryUser User(string user, string directory, string email, string state = UserStates.Active,
        string customAttributes = "{}") =>
        new(user, directory, "org_1", "idp_" + user, email, "First", "Last", email, "Engineer", state, ["member"], customAttributes, "{}");

    public static SyncEvent UserCreated(string user, string directory, int second, string? email = null) =>
        Make(SyncEventKind.UserCreated, "dsync.user.created", second, user: User(user, directory, email ?? $"{user}@example.com"));

    public static SyncEvent UserUpdated(string user, string directory, int second, string email, string state = UserStates.Active) =>
        Make(SyncEventKind.UserUpdated, "dsync.user.updated", second, user: User(user, directory, email, state));

    public static SyncEvent UserDeleted(string user, string directory, int second) =>
        Make(SyncEventKind.UserDeleted, "dsync.user.deleted", second, user: User(user, directory, $"{user}@example.com", UserStates.Inactive));

    public static SyncEvent WithUser(SyncEventKind kind, string type, int second, DirectoryUser user) => Make(kind, type, second, user: user);

    public static DirectoryGroup Group(string group, string directory, string name) => new(group, directory, "org_1", "idp_" + group, name, "{}");

    public static SyncEvent GroupCreated(string group, string directory, int second, string? name = null) =>
        Make(SyncEventKind.GroupCreated, "dsync.group.created", second, group: Group(group, directory, name ?? group));

    public static SyncEvent GroupUpdated(string group, string directory, int second, string name) =>
        Make(SyncEventKind.GroupUpdated, "dsync.group.updated", second, group: Group(group, directory, name));

    public static SyncEvent GroupDeleted(string group, string directory, int second) =>
        Make(SyncEventKind.GroupDeleted, "dsync.group.deleted", second, group: Group(group, directory, group));

    public static SyncEvent Added(string group, string user, string directory, int second) =>
        Make(SyncEventKind.GroupUserAdded, "dsync.group.user_added", second, membership: new GroupMembership(directory, user, group));

    public static SyncEvent Removed(string group, string user, string directory, int second) =>
        Make(SyncEventKind.GroupUserRemoved, "dsync.group.user_removed", second, membership: new GroupMembership(directory, user, group));
}
