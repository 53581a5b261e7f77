using System.Text.Json;

namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>Where an object sits in a listing: WorkOS sorts by <c>created_at</c>, then by id.</summary>
internal readonly record struct SortKey(DateTimeOffset CreatedAt, string Id) : IComparable<SortKey>
{
    public int CompareTo(SortKey other)
    {
        var byTime = CreatedAt.CompareTo(other.CreatedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(Id, other.Id);
    }
}

/// <summary>A directory as its last <c>dsync.activated</c> carried it; <see cref="State"/> in the events' vocabulary.</summary>
internal sealed record StoredDirectory(SortKey Key, string? OrganizationId, string? Name, string State, string? Domain, JsonElement Json)
{
    public string Id => Key.Id;
}

/// <summary>A user or group: what the per-directory indexes need of either.</summary>
internal interface IDirectoryObject
{
    SortKey Key { get; }
    string Id { get; }
    string DirectoryId { get; }
}

/// <summary>A user as its last event's <c>data</c> carried it, with what the filters and counts need read out once.</summary>
internal sealed record StoredUser(SortKey Key, string DirectoryId, string? State, string? IdpId, string? Email, JsonElement Json)
    : IDirectoryObject
{
    public string Id => Key.Id;
}

/// <summary>A group as its last event's <c>data</c> carried it.</summary>
internal sealed record StoredGroup(SortKey Key, string DirectoryId, JsonElement Json) : IDirectoryObject
{
    public string Id => Key.Id;
}

/// <summary>One event of the log: its place in the stream, what the filters read, and the envelope as received.</summary>
internal sealed record StoredEvent(int Position, string Id, string Type, DateTimeOffset CreatedAt, string? OrganizationId, JsonElement Envelope);

/// <summary>A directory with the counts its REST object's <c>metadata</c> reports.</summary>
internal sealed record DirectoryView(StoredDirectory Directory, int ActiveUsers, int InactiveUsers, int Groups);

/// <summary>A user with its current groups (empty when <see cref="FakeWorkOS.ServeUserGroups"/> is off).</summary>
internal sealed record UserView(StoredUser User, IReadOnlyList<StoredGroup> Groups);

/// <summary>One page of a list and the cursors its <c>list_metadata</c> carries.</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, string? Before, string? After)
{
    public Page<TOut> Select<TOut>(Func<T, TOut> map) => new([.. Items.Select(map)], Before, After);
}
