using System.Text;
using DirectorySync.Events;

namespace DirectorySync.Sync;

/// <summary>
/// What a directory's grain knows of every object in its directory: per user, group and membership the version of its
/// live row, of its newest delete, and where its row is (<see cref="Placement"/>). It decides each event with
/// <see cref="SyncRules"/> against that, updates itself, and records the writes the decision owes Postgres in a
/// <see cref="DirectoryChanges"/>. Nothing here reads Postgres: the grain loads the index when it activates (and again
/// after a failed flush or a purge).
/// </summary>
/// <remarks>
/// The one rule that spans objects: a row is shown in the mirror tables only while what it belongs to is shown (a user
/// or group needs its directory, a membership its user and its group); otherwise it waits in <c>sync_pending</c>.
/// Every change that can move other rows (a directory activated or deleted, a user or group appearing or going)
/// re-places the rows that hang off it.
/// </remarks>
public sealed class DirectoryIndex(string directoryId, InactiveUsersPolicy policy)
{
    // Memberships hang off their user and group (no table of their own): a user has a handful, found by a short scan.
    private readonly Dictionary<string, Member> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Member> _groups = new(StringComparer.Ordinal);
    private EventVersion? _live;
    private EventVersion? _tombstone;

    public string DirectoryId => directoryId;

    /// <summary>A directory is shown while it has a row newer than its newest delete.</summary>
    public bool IsShown => _live is { } live && (_tombstone is not { } deleted || live > deleted);

    /// <summary>Neither activated nor deleted as far as this service knows: its objects wait for a backfill.</summary>
    public bool IsUnknown => _live is null && _tombstone is null;

    public int UserCount => _users.Values.Count(u => u.Live is not null);
    public int GroupCount => _groups.Values.Count(g => g.Live is not null);
    public int MembershipCount => Links.Count(m => m.Live is not null);

    private IEnumerable<Link> Links => _users.Values.SelectMany(u => u.Links);

    /// <summary>Decides <paramref name="e"/> (an event of this directory) and records what it owes Postgres.</summary>
    public ApplyOutcome Apply(SyncEvent e, DirectoryChanges changes)
    {
        var version = SyncRules.VersionOf(e);
        changes.ObserveDirectory(IsShown);
        var outcome = e.Kind switch
        {
            SyncEventKind.DirectoryActivated or SyncEventKind.DirectoryDeleted => ApplyDirectory(e, version, changes),
            SyncEventKind.UserCreated or SyncEventKind.UserUpdated or SyncEventKind.UserDeleted =>
                ApplyMember(ObjectKind.User, _users, e.User!.Id, e, version, changes),
            SyncEventKind.GroupCreated or SyncEventKind.GroupUpdated or SyncEventKind.GroupDeleted =>
                ApplyMember(ObjectKind.Group, _groups, e.Group!.Id, e, version, changes),
            _ => ApplyMembership(e, version, changes),
        };
        changes.Events.Add(new LoggedEvent(e, outcome));
        changes.ObserveDirectory(IsShown);
        return outcome;
    }

    private ApplyOutcome ApplyDirectory(SyncEvent e, EventVersion version, DirectoryChanges changes)
    {
        var wasShown = IsShown;
        switch (SyncRules.Decide(e, version, new ObjectState(_live, _tombstone), null, policy))
        {
            case Decision.Upsert:
                _live = version;
                changes.WriteDirectory(e);
                break;
            case Decision.Delete:
                _tombstone = version;
                if (_live <= version) _live = null;
                changes.DeleteDirectory(version);
                // Everything older than the delete went with it; the cleanup job removes those rows in chunks.
                ForgetOlderThan(version, changes);
                break;
            default:
                return ApplyOutcome.Stale;
        }
        // A delete re-places even when the directory stays shown (a newer activation came first): a membership newer
        // than the delete whose user or group it removed must leave the mirror before the cleanup cascades it away.
        if (IsShown == wasShown && changes.DirectoryDelete is null) return ApplyOutcome.Applied;
        foreach (var (id, user) in _users) Place(ObjectKind.User, id, user, changes);
        foreach (var (id, group) in _groups) Place(ObjectKind.Group, id, group, changes);
        foreach (var link in Links) Place(link, changes);
        return ApplyOutcome.Applied;
    }

    private void ForgetOlderThan(EventVersion deleted, DirectoryChanges changes)
    {
        foreach (var (id, user) in _users) Forget(ObjectKind.User, id, user, deleted, changes);
        foreach (var (id, group) in _groups) Forget(ObjectKind.Group, id, group, deleted, changes);
        foreach (var link in Links)
        {
            if (link.Live is not { } live || live > deleted) continue;
            link.Live = null;
            link.Placement = Placement.Absent;
            changes.ForgetMembership(link.GroupId, link.UserId);
        }
    }

    private static void Forget(ObjectKind kind, string id, Member member, EventVersion deleted, DirectoryChanges changes)
    {
        if (member.Live is not { } live || live > deleted) return;
        member.Live = null;
        member.Placement = Placement.Absent;
        changes.Forget(kind, id);
    }

    private ApplyOutcome ApplyMember(ObjectKind kind, Dictionary<string, Member> members, string id, SyncEvent e,
        EventVersion version, DirectoryChanges changes)
    {
        var member = members.GetValueOrDefault(id);
        var state = new ObjectState(member?.Live, member?.Tombstone);
        var decision = SyncRules.Decide(e, version, state, _tombstone, policy);
        if (decision == Decision.Stale)
        {
            if (SyncRules.IsDelete(e, policy) || !SyncRules.Repairs(e, state, _tombstone)) return ApplyOutcome.Stale;
            // The listing's content, at the version the row has, where the row is.
            changes.Write(kind, id, member!.Placement, member.Placement, member.Live!.Value, e);
            return ApplyOutcome.Applied;
        }
        if (member is null) members[id] = member = new Member(id);
        // Not live here (new, or known only by a tombstone or a membership): another directory may hold it.
        if (member.Live is null) changes.Introduce(kind, id);

        if (decision == Decision.Upsert)
        {
            member.Live = version;
            var from = member.Placement;
            member.Placement = IsShown ? Placement.Shown : Placement.Pending;
            changes.Write(kind, id, from, member.Placement, version, e);
        }
        else
        {
            member.Tombstone = version;
            changes.Tombstone(new TombstoneWrite(kind, id, version));
            if (RemovesRow(member, version, e))
            {
                member.Live = null;
                changes.Write(kind, id, member.Placement, Placement.Absent, version, null);
                member.Placement = Placement.Absent;
            }
            // The delete takes the memberships older than it, even when the object was re-created since.
            foreach (var link in member.Links)
            {
                if (link.Live is not { } live || live > version) continue;
                link.Live = null;
                changes.Write(new MembershipWrite(link.GroupId, link.UserId, Placement.Absent, version), link.Placement);
                link.Placement = Placement.Absent;
            }
        }
        foreach (var link in member.Links) Place(link, changes);
        return ApplyOutcome.Applied;
    }

    private ApplyOutcome ApplyMembership(SyncEvent e, EventVersion version, DirectoryChanges changes)
    {
        var m = e.Membership!;
        var user = _users.GetValueOrDefault(m.UserId);
        var group = _groups.GetValueOrDefault(m.GroupId);
        var link = user is not null && group is not null ? user.LinkTo(group) : null;
        EventVersion?[] parentDeletes = [_tombstone, user?.Tombstone, group?.Tombstone];
        var decision = SyncRules.Decide(e, version, new ObjectState(link?.Live, link?.Tombstone), parentDeletes.Max(), policy);
        if (decision == Decision.Stale) return ApplyOutcome.Stale;
        if (user?.Live is null) changes.Introduce(ObjectKind.User, m.UserId);
        if (group?.Live is null) changes.Introduce(ObjectKind.Group, m.GroupId);
        link ??= AddLink(m.GroupId, m.UserId);

        if (decision == Decision.Upsert)
        {
            link.Live = version;
            var from = link.Placement;
            link.Placement = Visible(link) ? Placement.Shown : Placement.Pending;
            changes.Write(new MembershipWrite(link.GroupId, link.UserId, link.Placement, version), from);
        }
        else
        {
            link.Tombstone = version;
            changes.Tombstone(new TombstoneWrite(ObjectKind.Membership, MembershipKey.For(m.GroupId, m.UserId), version, m.GroupId, m.UserId));
            if (RemovesRow(link, version, e))
            {
                link.Live = null;
                changes.Write(new MembershipWrite(link.GroupId, link.UserId, Placement.Absent, version), link.Placement);
                link.Placement = Placement.Absent;
            }
        }
        return ApplyOutcome.Applied;
    }

    /// <summary>
    /// A delete removes the row unless a newer version of the object is live. A listing that no longer shows an object
    /// removes a row the index does not know too: such a row got into the mirror behind the grain's back.
    /// </summary>
    private static bool RemovesRow(Tracked tracked, EventVersion version, SyncEvent e) =>
        tracked.Live is { } live ? live <= version : e.IsSnapshot;

    /// <summary>Moves a user's or group's row where its directory's visibility puts it, then its memberships.</summary>
    private void Place(ObjectKind kind, string id, Member member, DirectoryChanges changes)
    {
        if (member.Live is not { } live) return;
        var target = IsShown ? Placement.Shown : Placement.Pending;
        if (member.Placement == target) return;
        changes.Write(kind, id, member.Placement, target, live, null);
        member.Placement = target;
    }

    private void Place(Link link, DirectoryChanges changes)
    {
        if (link.Live is not { } live) return;
        var target = Visible(link) ? Placement.Shown : Placement.Pending;
        if (link.Placement == target) return;
        changes.Write(new MembershipWrite(link.GroupId, link.UserId, target, live), link.Placement);
        link.Placement = target;
    }

    private static bool Visible(Link link) => link.User.Placement == Placement.Shown && link.Group.Placement == Placement.Shown;

    private Link AddLink(string groupId, string userId)
    {
        var link = new Link(MemberOf(_users, userId), MemberOf(_groups, groupId));
        link.User.Add(link);
        link.Group.Add(link);
        return link;
    }

    /// <summary>The member of that id, created if new; its id string is the one every link to it shares.</summary>
    private static Member MemberOf(Dictionary<string, Member> members, string id)
    {
        if (!members.TryGetValue(id, out var member)) members[id] = member = new Member(id);
        return member;
    }

    private Link LinkOf(string groupId, string userId)
    {
        var user = MemberOf(_users, userId);
        return user.LinkTo(MemberOf(_groups, groupId)) ?? AddLink(groupId, userId);
    }

    // Loading: the store reads the persisted rows and hands them over here, the directory's own rows first.

    public void RestoreDirectory(EventVersion? live, EventVersion? tombstone)
    {
        _tombstone = tombstone;
        _live = live is { } l && (tombstone is not { } t || l > t) ? live : null;
    }

    /// <summary>A user or group row in the mirror or in <c>sync_pending</c>.</summary>
    public void RestoreObject(ObjectKind kind, string id, EventVersion version, Placement placement)
    {
        // Rows older than a delete of the directory are the cleanup job's to remove: for the index they are gone.
        if (_tombstone >= version) return;
        var member = MemberOf(kind == ObjectKind.User ? _users : _groups, id);
        if (member.Live is { } known && known >= version) return;
        member.Live = version;
        member.Placement = placement;
    }

    public void RestoreMembership(string groupId, string userId, EventVersion version, Placement placement)
    {
        if (_tombstone >= version) return;
        var link = LinkOf(groupId, userId);
        if (link.Live is { } known && known >= version) return;
        link.Live = version;
        link.Placement = placement;
    }

    /// <summary>After loading: the lists hold exactly what they need (a user's grew 1, 2, 4, 8 while its rows were read).</summary>
    public void CompleteRestore()
    {
        foreach (var member in _users.Values) member.TrimExcess();
        foreach (var member in _groups.Values) member.TrimExcess();
    }

    public void RestoreTombstone(ObjectKind kind, string id, EventVersion version) =>
        MemberOf(kind == ObjectKind.User ? _users : _groups, id).Tombstone = version;

    public void RestoreMembershipTombstone(string groupId, string userId, EventVersion version) =>
        LinkOf(groupId, userId).Tombstone = version;

    /// <summary>What the index knows of one object: its live version, its newest delete, and where its row is.</summary>
    private abstract class Tracked
    {
        private Stamp _live;
        private StampBox? _tombstone;

        public EventVersion? Live { get => _live.Version; set => _live = Stamp.Of(value); }

        public EventVersion? Tombstone { get => _tombstone?.Stamp.Version; set => _tombstone = value is null ? null : new StampBox(Stamp.Of(value)); }

        public Placement Placement;
    }

    /// <summary>A user or group, and its memberships.</summary>
    private sealed class Member(string id) : Tracked
    {
        private List<Link>? _links;

        public string Id { get; } = id;

        public IReadOnlyList<Link> Links => (IReadOnlyList<Link>?)_links ?? [];

        public void Add(Link link) => (_links ??= new List<Link>(1)).Add(link);

        public void TrimExcess() => _links?.TrimExcess();

        /// <summary>This user's membership in <paramref name="group"/>, if known (a user has a handful: a short scan).</summary>
        public Link? LinkTo(Member group) => _links?.Find(link => ReferenceEquals(link.Group, group));
    }

    private sealed class Link(Member user, Member group) : Tracked
    {
        public Member User { get; } = user;
        public Member Group { get; } = group;
        public string UserId => User.Id;
        public string GroupId => Group.Id;
    }

    /// <summary>Most objects were never deleted: their tombstone costs a null reference, not a stamp.</summary>
    private sealed record StampBox(Stamp Stamp);

    /// <summary>
    /// A version as the index keeps it, for memory's sake (hundreds of thousands of them): the time in ticks and the
    /// event id as UTF-8 bytes, rather than a nullable <see cref="EventVersion"/> and a UTF-16 string.
    /// </summary>
    private readonly struct Stamp(long ticks, byte[]? eventId)
    {
        public EventVersion? Version => eventId is null
            ? null
            : new EventVersion(new DateTimeOffset(ticks, TimeSpan.Zero), Encoding.UTF8.GetString(eventId));

        public static Stamp Of(EventVersion? version) => version is { } v
            ? new Stamp(v.At.UtcTicks, Encoding.UTF8.GetBytes(v.EventId))
            : default;
    }
}
