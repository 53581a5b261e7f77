namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>The filters of <c>GET /directory_users</c>: a directory or a group, and within a directory an idp_id or email.</summary>
internal sealed record UserFilter(string? DirectoryId, string? GroupId, string? IdpId, string? Email);

/// <summary>The filters of <c>GET /events</c>; the range is inclusive at both ends.</summary>
internal sealed record EventFilter(IReadOnlySet<string>? Types, string? OrganizationId, DateTimeOffset? RangeStart, DateTimeOffset? RangeEnd)
{
    public bool Matches(StoredEvent stored) =>
        (Types is null || Types.Contains(stored.Type))
        && (OrganizationId is null || stored.OrganizationId == OrganizationId)
        && (RangeStart is null || stored.CreatedAt >= RangeStart)
        && (RangeEnd is null || stored.CreatedAt <= RangeEnd);
}

/// <summary>What <see cref="FakeWorkOSServer"/> reads: each answer is gathered under the lock, written outside it.</summary>
public sealed partial class FakeWorkOS
{
    internal Page<DirectoryView> ListDirectories(string? organizationId, string? search, PageRequest request)
    {
        lock (_gate)
        {
            var rows = _directories.Values
                .Where(d => organizationId is null || d.OrganizationId == organizationId)
                .Where(d => search is null || d.Name?.Contains(search, StringComparison.OrdinalIgnoreCase) == true)
                .OrderBy(d => d.Key)
                .ToList();
            return ListPaging.Take(rows, d => d.Key, request, id => CursorKey(_directoryKeys, id, "Directory")).Select(ViewOf);
        }
    }

    internal DirectoryView FindDirectory(string id)
    {
        lock (_gate) return ViewOf(_directories.GetValueOrDefault(id) ?? throw ApiProblem.NotFound("Directory", id));
    }

    /// <summary>Users of a directory or group; <paramref name="hidden"/> ones are left out as if WorkOS had lost them.</summary>
    internal Page<UserView> ListUsers(UserFilter filter, IReadOnlySet<string> hidden, PageRequest request)
    {
        lock (_gate)
        {
            var candidates = filter.GroupId is { } groupId
                ? _membersOfGroup.GetValueOrDefault(groupId)
                : _usersOfDirectory.GetValueOrDefault(filter.DirectoryId!);
            var rows = Live(candidates, _users)
                .Where(u => !hidden.Contains(u.Id))
                .Where(u => filter.DirectoryId is null || u.DirectoryId == filter.DirectoryId)
                .Where(u => filter.IdpId is null || u.IdpId == filter.IdpId)
                .Where(u => filter.Email is null || string.Equals(u.Email, filter.Email, StringComparison.OrdinalIgnoreCase))
                .OrderBy(u => u.Key)
                .ToList();
            return ListPaging.Take(rows, u => u.Key, request, id => CursorKey(_userKeys, id, "Directory user")).Select(ViewOf);
        }
    }

    internal UserView FindUser(string id)
    {
        lock (_gate) return ViewOf(_users.GetValueOrDefault(id) ?? throw ApiProblem.NotFound("Directory user", id));
    }

    /// <summary>Groups of a directory or of a user.</summary>
    internal Page<StoredGroup> ListGroups(string? directoryId, string? userId, PageRequest request)
    {
        lock (_gate)
        {
            var candidates = userId is not null ? _groupsOfUser.GetValueOrDefault(userId) : _groupsOfDirectory.GetValueOrDefault(directoryId!);
            var rows = Live(candidates, _groups)
                .Where(g => directoryId is null || g.DirectoryId == directoryId)
                .OrderBy(g => g.Key)
                .ToList();
            return ListPaging.Take(rows, g => g.Key, request, id => CursorKey(_groupKeys, id, "Directory group"));
        }
    }

    internal StoredGroup FindGroup(string id)
    {
        lock (_gate) return _groups.GetValueOrDefault(id) ?? throw ApiProblem.NotFound("Directory group", id);
    }

    /// <summary>
    /// Events in the order received (whatever the order asked for, as the live API does), after or before a cursor.
    /// <c>after</c> in the answer is the page's last id only if more events match; a cursor naming an event that is
    /// unknown or no longer served is refused with <see cref="InvalidCursorStatus"/>.
    /// </summary>
    internal Page<StoredEvent> ListEvents(EventFilter filter, string? after, string? before, int limit)
    {
        lock (_gate)
        {
            var servedFrom = OldestServedEvent();
            bool Wanted(StoredEvent stored) => stored.CreatedAt >= servedFrom && filter.Matches(stored);
            var page = new List<StoredEvent>(limit);
            if (before is not null)
            {
                for (var i = CursorPosition(before, "before", servedFrom) - 1; i >= 0 && page.Count < limit; i--)
                {
                    if (Wanted(_events[i])) page.Add(_events[i]);
                }
                page.Reverse();
            }
            else
            {
                for (var i = after is null ? 0 : CursorPosition(after, "after", servedFrom) + 1; i < _events.Count && page.Count < limit; i++)
                {
                    if (Wanted(_events[i])) page.Add(_events[i]);
                }
            }
            var more = page.Count > 0 && _events.Skip(page[^1].Position + 1).Any(Wanted);
            return new Page<StoredEvent>(page, Before: null, After: more ? page[^1].Id : null);
        }
    }

    /// <summary>The directory a <c>/directory_users</c> request reads, for the per-directory rate record.</summary>
    internal string? DirectoryOfUser(string userId)
    {
        lock (_gate) return _users.GetValueOrDefault(userId)?.DirectoryId;
    }

    internal string? DirectoryOfGroup(string groupId)
    {
        lock (_gate) return _groups.GetValueOrDefault(groupId)?.DirectoryId;
    }

    private DateTimeOffset OldestServedEvent()
    {
        var from = _expiredBefore ?? DateTimeOffset.MinValue;
        if (_eventRetention is { } retention && Clock.GetUtcNow() - retention > from)
        {
            from = Clock.GetUtcNow() - retention;
        }
        return from;
    }

    private int CursorPosition(string eventId, string parameter, DateTimeOffset servedFrom)
    {
        if (!_eventPositions.TryGetValue(eventId, out var position))
        {
            throw new ApiProblem(_invalidCursorStatus, "invalid_cursor", $"No event '{eventId}' to page from.", parameter);
        }
        if (_events[position].CreatedAt < servedFrom)
        {
            throw new ApiProblem(_invalidCursorStatus, "invalid_cursor",
                $"Event '{eventId}' has expired: only events since {servedFrom:O} are served.", parameter);
        }
        return position;
    }

    private static SortKey CursorKey(Dictionary<string, SortKey> keys, string id, string what) =>
        keys.TryGetValue(id, out var key) ? key : throw ApiProblem.NotFound(what, id);

    private DirectoryView ViewOf(StoredDirectory directory)
    {
        var users = Live(_usersOfDirectory.GetValueOrDefault(directory.Id), _users).ToList();
        var active = users.Count(user => user.State == "active");
        return new DirectoryView(directory, active, users.Count - active, _groupsOfDirectory.GetValueOrDefault(directory.Id)?.Count ?? 0);
    }

    private UserView ViewOf(StoredUser user) => new(
        user,
        ServeUserGroups ? [.. Live(_groupsOfUser.GetValueOrDefault(user.Id), _groups).OrderBy(group => group.Key)] : []);
}
