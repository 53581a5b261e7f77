namespace DirectorySync.Simulator.Mirror;

/// <summary>
/// The product's sync rules, applied to a history delivered in order: what the mirror must hold afterwards.
/// Newest event wins per object (in order, that is simply the latest); deletes of a user, group or directory
/// cascade to what hangs off them; a deactivated user is kept or removed per <see cref="InactivePolicy"/>.
/// </summary>
public sealed class ExpectedMirror(InactivePolicy policy)
{
    private readonly Dictionary<string, MirrorDirectory> _directories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MirrorUser> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MirrorGroup> _groups = new(StringComparer.Ordinal);
    private readonly HashSet<MirrorMembership> _memberships = [];
    // Cascades need "every membership of this user / group" without scanning all memberships.
    private readonly Dictionary<string, HashSet<string>> _groupsOfUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _membersOfGroup = new(StringComparer.Ordinal);

    public InactivePolicy Policy { get; } = policy;

    /// <summary><c>dsync.activated</c>.</summary>
    public void DirectoryActivated(MirrorDirectory directory) => _directories[directory.WorkosDirectoryId] = directory;

    /// <summary><c>dsync.deleted</c>: the directory and everything in it.</summary>
    public void DirectoryDeleted(string directoryId)
    {
        _directories.Remove(directoryId);
        foreach (var user in _users.Values.Where(u => u.WorkosDirectoryId == directoryId).ToList())
        {
            UserDeleted(user.WorkosUserId);
        }
        foreach (var group in _groups.Values.Where(g => g.WorkosDirectoryId == directoryId).ToList())
        {
            GroupDeleted(group.WorkosGroupId);
        }
    }

    /// <summary><c>dsync.user.created</c> or <c>dsync.user.updated</c> carrying the user as it now is.</summary>
    public void UserWritten(MirrorUser user)
    {
        if (user.State == "inactive" && Policy == InactivePolicy.Delete)
        {
            UserDeleted(user.WorkosUserId);
            return;
        }
        _users[user.WorkosUserId] = user;
    }

    /// <summary><c>dsync.user.deleted</c>: the user and its memberships.</summary>
    public void UserDeleted(string userId)
    {
        _users.Remove(userId);
        if (_groupsOfUser.Remove(userId, out var groupIds))
        {
            foreach (var groupId in groupIds)
            {
                _membersOfGroup[groupId].Remove(userId);
                _memberships.Remove(new MirrorMembership(userId, groupId));
            }
        }
    }

    /// <summary><c>dsync.group.created</c> or <c>dsync.group.updated</c>.</summary>
    public void GroupWritten(MirrorGroup group) => _groups[group.WorkosGroupId] = group;

    /// <summary><c>dsync.group.deleted</c>: the group and its memberships.</summary>
    public void GroupDeleted(string groupId)
    {
        _groups.Remove(groupId);
        if (_membersOfGroup.Remove(groupId, out var userIds))
        {
            foreach (var userId in userIds)
            {
                _groupsOfUser[userId].Remove(groupId);
                _memberships.Remove(new MirrorMembership(userId, groupId));
            }
        }
    }

    /// <summary><c>dsync.group.user_added</c>; a membership shows only while both its user and group are in the mirror.</summary>
    public void UserAdded(string userId, string groupId)
    {
        if (!_users.ContainsKey(userId) || !_groups.ContainsKey(groupId))
        {
            return;
        }
        _memberships.Add(new MirrorMembership(userId, groupId));
        Index(_groupsOfUser, userId).Add(groupId);
        Index(_membersOfGroup, groupId).Add(userId);
    }

    /// <summary><c>dsync.group.user_removed</c>.</summary>
    public void UserRemoved(string userId, string groupId)
    {
        if (_memberships.Remove(new MirrorMembership(userId, groupId)))
        {
            _groupsOfUser[userId].Remove(groupId);
            _membersOfGroup[groupId].Remove(userId);
        }
    }

    /// <summary>A copy of the current state; later events do not change it.</summary>
    public MirrorSnapshot Snapshot() => new(
        new Dictionary<string, MirrorDirectory>(_directories, StringComparer.Ordinal),
        new Dictionary<string, MirrorUser>(_users, StringComparer.Ordinal),
        new Dictionary<string, MirrorGroup>(_groups, StringComparer.Ordinal),
        new HashSet<MirrorMembership>(_memberships));

    private static HashSet<string> Index(Dictionary<string, HashSet<string>> index, string key)
    {
        if (!index.TryGetValue(key, out var set))
        {
            set = new HashSet<string>(StringComparer.Ordinal);
            index[key] = set;
        }
        return set;
    }
}
