using System.Text.Json.Nodes;

namespace DirectorySync.Simulator.Feed;

/// <summary>
/// What an application following the change feed holds: every directory, user and group as the last entry about it
/// said (its WorkOS REST shape), and every membership, applied in feed order the way the README tells applications to.
/// </summary>
public sealed class FeedReplica
{
    public Dictionary<string, JsonObject> Directories { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> Users { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, JsonObject> Groups { get; } = new(StringComparer.Ordinal);
    public HashSet<(string GroupId, string UserId)> Memberships { get; } = [];

    private readonly Dictionary<string, string> _positions = new(StringComparer.Ordinal);

    /// <summary>Entries applied, and the position of the last one (null before any).</summary>
    public long Applied { get; private set; }

    public string? Position { get; private set; }

    /// <summary>Whether the entry is after the last one applied of its directory (what an application keeps to skip a replayed entry).</summary>
    public bool IsNew(JsonObject entry) =>
        !_positions.TryGetValue((string)entry["directory_id"]!, out var last) || string.CompareOrdinal((string)entry["position"]!, last) > 0;

    /// <summary>
    /// Applies one entry (<c>{id, position, event, directory_id, created_at, data}</c>). Each directory's entries come in
    /// feed order (webhooks interleave directories): one not after its directory's last is refused.
    /// </summary>
    public void Apply(JsonObject entry)
    {
        var position = (string)entry["position"]!;
        var directoryId = (string)entry["directory_id"]!;
        if (_positions.TryGetValue(directoryId, out var last) && string.CompareOrdinal(position, last) <= 0)
            throw new InvalidDataException($"Entry {position} of directory {directoryId} is not after {last}: its order went back or it came twice.");
        _positions[directoryId] = position;
        var data = entry["data"]!.AsObject();
        string Id(JsonObject o) => (string)o["id"]!;
        switch ((string)entry["event"]!)
        {
            case "dsync.activated":
                Directories[Id(data)] = data;
                break;
            case "dsync.deleted":
                var directory = Id(data);
                Directories.Remove(directory);
                foreach (var user in Users.Where(u => (string?)u.Value["directory_id"] == directory).Select(u => u.Key).ToList()) RemoveUser(user);
                foreach (var group in Groups.Where(g => (string?)g.Value["directory_id"] == directory).Select(g => g.Key).ToList()) RemoveGroup(group);
                break;
            case "dsync.user.created" or "dsync.user.updated":
                Users[Id(data)] = data;
                break;
            case "dsync.user.deleted":
                RemoveUser(Id(data));
                break;
            case "dsync.group.created" or "dsync.group.updated":
                Groups[Id(data)] = data;
                break;
            case "dsync.group.deleted":
                RemoveGroup(Id(data));
                break;
            case "dsync.group.user_added":
                Memberships.Add((Id(data["group"]!.AsObject()), Id(data["user"]!.AsObject())));
                break;
            case "dsync.group.user_removed":
                Memberships.Remove((Id(data["group"]!.AsObject()), Id(data["user"]!.AsObject())));
                break;
            default:
                throw new InvalidDataException($"Entry {position} has an event type no feed entry has: {entry["event"]}");
        }
        Position = position;
        Applied++;
    }

    private void RemoveUser(string id)
    {
        Users.Remove(id);
        Memberships.RemoveWhere(m => m.UserId == id);
    }

    private void RemoveGroup(string id)
    {
        Groups.Remove(id);
        Memberships.RemoveWhere(m => m.GroupId == id);
    }
}
