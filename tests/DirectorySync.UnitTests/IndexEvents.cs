using DirectorySync.Events;

namespace DirectorySync.UnitTests;

/// <summary>Events of directory d1 for deciding in a <see cref="DirectorySync.Sync.DirectoryIndex"/>; <c>second</c> is the event's created_at offset.</summary>
internal static class IndexEvents
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static int _sequence;

    private static SyncEvent Make(SyncEventKind kind, int second, DirectoryData? directory = null, DirectoryUser? user = null,
        DirectoryGroup? group = null, GroupMembership? membership = null) =>
        new($"event_{second:D4}_{Interlocked.Increment(ref _sequence):D6}", kind.ToString(), kind, T0.AddSeconds(second), "{}",
            directory, user, group, membership);

    public static SyncEvent Activated(int second) =>
        Make(SyncEventKind.DirectoryActivated, second, directory: new DirectoryData("d1", null, "D", null, DirectoryStates.Active, []));

    public static SyncEvent DirectoryDeleted(int second) =>
        Make(SyncEventKind.DirectoryDeleted, second, directory: new DirectoryData("d1", null, "D", null, DirectoryStates.Deleting, []));

    public static SyncEvent InactiveUser(string id, int second) =>
        Make(SyncEventKind.UserUpdated, second, user: new DirectoryUser(id, "d1", null, null, $"{id}@example.com", null, null, null, null, UserStates.Inactive, [], "{}", "{}"));

    public static SyncEvent User(SyncEventKind kind, string id, int second) =>
        Make(kind, second, user: new DirectoryUser(id, "d1", null, null, $"{id}@example.com", null, null, null, null, UserStates.Active, [], "{}", "{}"));

    public static SyncEvent Group(SyncEventKind kind, string id, int second) =>
        Make(kind, second, group: new DirectoryGroup(id, "d1", null, null, id, "{}"));

    public static SyncEvent Membership(SyncEventKind kind, string group, string user, int second) =>
        Make(kind, second, membership: new GroupMembership("d1", user, group));
}
