using DirectorySync.Events;
using DirectorySync.Sync;

namespace DirectorySync.Storage;

/// <summary>
/// The writes one batch decided, per object: its newest delete and its newest upsert (kept only when newer than
/// that delete). Deletes run before upserts, parents before children, so a delete then a re-creation of the same
/// object in one batch ends as in-order delivery would.
/// </summary>
internal sealed class WritePlan
{
    private readonly Dictionary<ObjectKey, (SyncEvent Event, EventVersion Version)> _upserts = [];
    private readonly Dictionary<ObjectKey, (SyncEvent Event, EventVersion Version)> _deletes = [];

    public void Add(ObjectKey key, Decision decision, SyncEvent e, EventVersion version)
    {
        switch (decision)
        {
            case Decision.Upsert:
                _upserts[key] = (e, version);
                break;
            case Decision.Delete:
                _deletes[key] = (e, version);
                if (_upserts.TryGetValue(key, out var upsert) && upsert.Version < version) _upserts.Remove(key);
                break;
        }
    }

    public IEnumerable<(string Sql, string Rows)> Statements(MirrorRows rows)
    {
        var deletes = Of(_deletes);
        var upserts = Of(_upserts);
        if (deletes(ObjectKind.Directory) is { Count: > 0 } d1) yield return (Call("sync_delete_directories", "sync_delete_row"), rows.Deletes(d1));
        if (upserts(ObjectKind.Directory) is { Count: > 0 } u1) yield return (Call("sync_write_directories", "sync_directory_row"), rows.Directories(u1));
        if (deletes(ObjectKind.Membership) is { Count: > 0 } d2) yield return (Call("sync_delete_memberships", "sync_membership_row"), rows.Memberships(d2));
        if (deletes(ObjectKind.User) is { Count: > 0 } d3) yield return (Call("sync_delete_users", "sync_delete_row"), rows.Deletes(d3));
        if (deletes(ObjectKind.Group) is { Count: > 0 } d4) yield return (Call("sync_delete_groups", "sync_delete_row"), rows.Deletes(d4));
        if (upserts(ObjectKind.User) is { Count: > 0 } u2) yield return (Call("sync_write_users", "sync_user_row"), rows.Users(u2));
        if (upserts(ObjectKind.Group) is { Count: > 0 } u3) yield return (Call("sync_write_groups", "sync_group_row"), rows.Groups(u3));
        if (upserts(ObjectKind.Membership) is { Count: > 0 } u4) yield return (Call("sync_write_memberships", "sync_membership_row"), rows.Memberships(u4));
    }

    private static Func<ObjectKind, List<(SyncEvent Event, EventVersion Version)>> Of(
        Dictionary<ObjectKey, (SyncEvent Event, EventVersion Version)> writes) =>
        kind => writes.Where(w => w.Key.Kind == kind).Select(w => w.Value).ToList();

    private static string Call(string function, string rowType) =>
        $"SELECT {function}(ARRAY(SELECT r FROM jsonb_populate_recordset(NULL::{rowType}, $1::jsonb) AS r))";
}
