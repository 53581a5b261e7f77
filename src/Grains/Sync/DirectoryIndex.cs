using DirectorySync.Events;

namespace DirectorySync.Sync;

/// <summary>
/// What a directory's grain knows of every object in its directory: per user, group and membership the version of its
/// live row, of its newest delete, and where its row is (<see cref="Placement"/>). It decides each event with
/// <see cref="SyncRules"/> against that, updates itself, and records the writes the decision owes Postgres in a
/// <see cref="DirectoryChanges"/>. Nothing here reads Postgres: the index is loaded once, when the grain activates.
/// </summary>
/// <remarks>
/// The one rule that spans objects: a row is shown in the mirror tables only while what it belongs to is shown (a user
/// or group needs its directory, a membership its user and its group); otherwise it waits in <c>sync_pending</c>.
/// Every change that can move other rows (a directory activated or deleted, a user or group appearing or going)
/// re-places the rows that hang off it.
/// </remarks>
public sealed class DirectoryIndex(string directoryId, InactiveUsersPolicy policy)
{
    private readonly Dictionary<string, Member> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Member> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<(string GroupId, string UserId), Link> _memberships = [];
    private EventVersion? _live;
    private EventVersion? _tombstone;

    public string DirectoryId => directoryId;

    /// <summary>A directory is shown while it has a row newer than its newest delete.</summary>
    public bool IsShown => _live is { } live && (_tombstone is not { } deleted || live > deleted);

    public bool IsDeleted => _tombstone is not null && !IsShown;

    public int UserCount => _users.Values.Count(u => u.Live is not null);
    public int GroupCount => _groups.Values.Count(g => g.Live is not null);
    public int MembershipCount => _memberships.Values.Count(m => m.Live is not null);

    /// <summary>Decides <paramref name="e"/> (an event of this directory) and records what it owes Postgres.</summary>
    public ApplyOutcome Apply(SyncEvent e, DirectoryChanges changes)
    {
        var version = SyncRules.VersionOf(e);
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
        if (IsShown == wasShown) return ApplyOutcome.Applied;
        foreach (var (id, user) in _users) Place(ObjectKind.User, id, user, changes);
        foreach (var (id, group) in _groups) Place(ObjectKind.Group, id, group, changes);
        foreach (var (key, link) in _memberships) Place(key, link, changes);
        return ApplyOutcome.Applied;
    }

    private void ForgetOlderThan(EventVersion deleted, DirectoryChanges changes)
    {
        foreach (var (id, user) in _users) Forget(ObjectKind.User, id, user, deleted, changes);
        foreach (var (id, group) in _groups) Forget(ObjectKind.Group, id, group, deleted, changes);
        foreach (var (key, link) in _memberships)
        {
            if (link.Live is not { } live || live > deleted) continue;
            link.Live = null;
            link.Placement = Placement.Absent;
            changes.ForgetMembership(key.GroupId, key.UserId);
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
        var decision = SyncRules.Decide(e, version, new ObjectState(member?.Live, member?.Tombstone), _tombstone, policy);
        if (decision == Decision.Stale) return ApplyOutcome.Stale;
        if (member is null)
        {
            members[id] = member = new Member();
            changes.Introduce(kind, id);
        }

        if (decision == Decision.Upsert)
        {
            member.Live = version;
            member.Placement = IsShown ? Placement.Shown : Placement.Pending;
            changes.Write(kind, id, member.Placement, version, e);
        }
        else
        {
            member.Tombstone = version;
            changes.Tombstone(new TombstoneWrite(kind, id, version));
            if (member.Live <= version)
            {
                member.Live = null;
                member.Placement = Placement.Absent;
                changes.Write(kind, id, Placement.Absent, version, null);
            }
            // The delete takes the memberships older than it, even when the object was re-created since.
            foreach (var link in member.Links)
            {
                if (link.Live is not { } live || live > version) continue;
                link.Live = null;
                link.Placement = Placement.Absent;
                changes.Write(new MembershipWrite(link.GroupId, link.UserId, Placement.Absent, version));
            }
        }
        foreach (var link in member.Links) Place((link.GroupId, link.UserId), link, changes);
        return ApplyOutcome.Applied;
    }

    private ApplyOutcome ApplyMembership(SyncEvent e, EventVersion version, DirectoryChanges changes)
    {
        var m = e.Membership!;
        var key = (m.GroupId, m.UserId);
        var link = _memberships.GetValueOrDefault(key);
        var user = _users.GetValueOrDefault(m.UserId);
        var group = _groups.GetValueOrDefault(m.GroupId);
        EventVersion?[] parentDeletes = [_tombstone, user?.Tombstone, group?.Tombstone];
        var decision = SyncRules.Decide(e, version, new ObjectState(link?.Live, link?.Tombstone), parentDeletes.Max(), policy);
        if (decision == Decision.Stale) return ApplyOutcome.Stale;
        if (user is null) changes.Introduce(ObjectKind.User, m.UserId);
        if (group is null) changes.Introduce(ObjectKind.Group, m.GroupId);
        link ??= AddLink(m.GroupId, m.UserId);

        if (decision == Decision.Upsert)
        {
            link.Live = version;
            link.Placement = Visible(link) ? Placement.Shown : Placement.Pending;
            changes.Write(new MembershipWrite(link.GroupId, link.UserId, link.Placement, version));
        }
        else
        {
            link.Tombstone = version;
            changes.Tombstone(new TombstoneWrite(ObjectKind.Membership, MembershipKey.For(m.GroupId, m.UserId), version, m.GroupId, m.UserId));
            if (link.Live <= version)
            {
                link.Live = null;
                link.Placement = Placement.Absent;
                changes.Write(new MembershipWrite(link.GroupId, link.UserId, Placement.Absent, version));
            }
        }
        return ApplyOutcome.Applied;
    }

    /// <summary>Moves a user's or group's row where its directory's visibility puts it, then its memberships.</summary>
    private void Place(ObjectKind kind, string id, Member member, DirectoryChanges changes)
    {
        if (member.Live is not { } live) return;
        var target = IsShown ? Placement.Shown : Placement.Pending;
        if (member.Placement == target) return;
        member.Placement = target;
        changes.Write(kind, id, target, live, null);
    }

    private void Place((string GroupId, string UserId) key, Link link, DirectoryChanges changes)
    {
        if (link.Live is not { } live) return;
        var target = Visible(link) ? Placement.Shown : Placement.Pending;
        if (link.Placement == target) return;
        link.Placement = target;
        changes.Write(new MembershipWrite(key.GroupId, key.UserId, target, live));
    }

    private bool Visible(Link link) =>
        _users.GetValueOrDefault(link.UserId)?.Placement == Placement.Shown
        && _groups.GetValueOrDefault(link.GroupId)?.Placement == Placement.Shown;

    private Link AddLink(string groupId, string userId)
    {
        var link = new Link(groupId, userId);
        _memberships[(groupId, userId)] = link;
        MemberOf(_users, userId).Add(link);
        MemberOf(_groups, groupId).Add(link);
        return link;
    }

    private static Member MemberOf(Dictionary<string, Member> members, string id)
    {
        if (!members.TryGetValue(id, out var member)) members[id] = member = new Member();
        return member;
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
        var link = _memberships.GetValueOrDefault((groupId, userId)) ?? AddLink(groupId, userId);
        if (link.Live is { } known && known >= version) return;
        link.Live = version;
        link.Placement = placement;
    }

    public void RestoreTombstone(ObjectKind kind, string id, EventVersion version) =>
        MemberOf(kind == ObjectKind.User ? _users : _groups, id).Tombstone = version;

    public void RestoreMembershipTombstone(string groupId, string userId, EventVersion version) =>
        (_memberships.GetValueOrDefault((groupId, userId)) ?? AddLink(groupId, userId)).Tombstone = version;

    /// <summary>A user or group: its live version, newest delete, where its row is, and its memberships.</summary>
    private sealed class Member
    {
        public EventVersion? Live;
        public EventVersion? Tombstone;
        public Placement Placement;
        private List<Link>? _links;

        public IReadOnlyList<Link> Links => (IReadOnlyList<Link>?)_links ?? [];

        public void Add(Link link) => (_links ??= []).Add(link);
    }

    private sealed class Link(string groupId, string userId)
    {
        public string GroupId { get; } = groupId;
        public string UserId { get; } = userId;
        public EventVersion? Live;
        public EventVersion? Tombstone;
        public Placement Placement;
    }
}
