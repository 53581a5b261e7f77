using DirectorySync.Events;

namespace DirectorySync.Sync;

/// <summary>Where an object's row is in Postgres: in the mirror tables, waiting in <c>sync_pending</c>, or nowhere.</summary>
public enum Placement : byte { Absent, Pending, Shown }

/// <summary>
/// A user or group write: where its row must end up and, when an event brought new content, that event. Without
/// content the row moves between <c>sync_pending</c> and the mirror as it is. <see cref="Version"/> guards the write:
/// the row's version for a move or an upsert, the delete's version for <see cref="Placement.Absent"/>.
/// </summary>
public sealed record ObjectWrite(string Id, Placement Target, EventVersion Version, SyncEvent? Content);

public sealed record MembershipWrite(string GroupId, string UserId, Placement Target, EventVersion Version);

public sealed record TombstoneWrite(ObjectKind Kind, string Id, EventVersion Version, string? GroupId = null, string? UserId = null);

/// <summary>An event as the event log records it, and what deciding it said.</summary>
public sealed record LoggedEvent(SyncEvent Event, ApplyOutcome Outcome);

/// <summary>
/// The writes a directory's decisions owe Postgres since its last flush, one final write per object: an object that
/// moves several times before a flush is written once, where it ended. The store turns them into a few statements
/// per kind (each for a whole flush), in an order that keeps parents before children.
/// </summary>
public sealed class DirectoryChanges
{
    private readonly Dictionary<string, ObjectWrite> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ObjectWrite> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<(string GroupId, string UserId), MembershipWrite> _memberships = [];
    private readonly Dictionary<(ObjectKind, string), TombstoneWrite> _tombstones = [];
    // Where each written object's row was before this flush: the change feed reports each object's net transition.
    private readonly Dictionary<(ObjectKind Kind, string Id), Placement> _before = [];
    private readonly Dictionary<(string GroupId, string UserId), Placement> _membershipsBefore = [];
    private bool _observed;

    public List<LoggedEvent> Events { get; } = [];

    /// <summary>
    /// Users and groups this directory's index had never seen before this flush. Only Postgres sees every directory, so
    /// the flush asks it to refuse any of them that belongs to another one.
    /// </summary>
    public HashSet<string> NewUsers { get; } = new(StringComparer.Ordinal);

    public HashSet<string> NewGroups { get; } = new(StringComparer.Ordinal);

    /// <summary>The newest directory event whose content is written (activation or update).</summary>
    public SyncEvent? Directory { get; private set; }

    /// <summary>A delete of the directory: tombstone, <c>deleting</c> state and a cleanup job.</summary>
    public EventVersion? DirectoryDelete { get; private set; }

    public IEnumerable<ObjectWrite> Users => _users.Values;
    public IEnumerable<ObjectWrite> Groups => _groups.Values;
    public IEnumerable<MembershipWrite> Memberships => _memberships.Values;
    public IEnumerable<TombstoneWrite> Tombstones => _tombstones.Values;

    /// <summary>Whether the directory was shown before this flush's first decision, and after its last.</summary>
    public bool DirectoryShownBefore { get; private set; }

    public bool DirectoryShownAfter { get; private set; }

    /// <summary>Where a written user's or group's row was before this flush.</summary>
    public Placement Before(ObjectKind kind, string id) => _before.GetValueOrDefault((kind, id));

    public Placement Before(MembershipWrite write) => _membershipsBefore.GetValueOrDefault((write.GroupId, write.UserId));

    /// <summary>Called around every decision: the first call records where the directory started, each call where it is.</summary>
    internal void ObserveDirectory(bool shown)
    {
        if (!_observed) (DirectoryShownBefore, _observed) = (shown, true);
        DirectoryShownAfter = shown;
    }

    internal void WriteDirectory(SyncEvent e) => Directory = e;

    internal void Introduce(ObjectKind kind, string id) => (kind == ObjectKind.User ? NewUsers : NewGroups).Add(id);

    internal void DeleteDirectory(EventVersion version) => DirectoryDelete = version;

    internal void Write(ObjectKind kind, string id, Placement from, Placement target, EventVersion version, SyncEvent? content)
    {
        _before.TryAdd((kind, id), from);
        var writes = kind == ObjectKind.User ? _users : _groups;
        // A move keeps content this flush already owes: that row is not in Postgres yet.
        if (content is null && target != Placement.Absent && writes.TryGetValue(id, out var earlier)) content = earlier.Content;
        writes[id] = new ObjectWrite(id, target, version, content);
    }

    /// <summary>Drops what is owed for an object a directory delete removed: the cleanup removes its rows.</summary>
    internal void Forget(ObjectKind kind, string id) => (kind == ObjectKind.User ? _users : _groups).Remove(id);

    internal void ForgetMembership(string groupId, string userId) => _memberships.Remove((groupId, userId));

    internal void Write(MembershipWrite write, Placement from)
    {
        _membershipsBefore.TryAdd((write.GroupId, write.UserId), from);
        _memberships[(write.GroupId, write.UserId)] = write;
    }

    internal void Tombstone(TombstoneWrite tombstone) => _tombstones[(tombstone.Kind, tombstone.Id)] = tombstone;
}
