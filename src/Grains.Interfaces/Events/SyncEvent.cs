namespace DirectorySync.Events;

/// <summary>The ten Directory Sync event types this service applies.</summary>
public enum SyncEventKind
{
    DirectoryActivated,
    DirectoryDeleted,
    UserCreated,
    UserUpdated,
    UserDeleted,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    GroupUserAdded,
    GroupUserRemoved,
}

/// <summary>Normalised directory state: the events' vocabulary (the REST API's linked/unlinked map onto it).</summary>
public static class DirectoryStates
{
    public const string Active = "active";
    public const string Inactive = "inactive";
    public const string Validating = "validating";
    public const string InvalidCredentials = "invalid_credentials";
    public const string Deleting = "deleting";
}

/// <summary>Normalised user state: <c>suspended</c> is a legacy spelling of inactive.</summary>
public static class UserStates
{
    public const string Active = "active";
    public const string Inactive = "inactive";
}

[GenerateSerializer, Immutable]
public sealed record DirectoryData(
    [property: Id(0)] string Id,
    [property: Id(1)] string? OrganizationId,
    [property: Id(2)] string? Name,
    [property: Id(3)] string? Type,
    [property: Id(4)] string State,
    [property: Id(5)] IReadOnlyList<string> Domains,
    [property: Id(6)] string? ExternalKey = null,
    [property: Id(7)] DateTimeOffset? CreatedAt = null,
    [property: Id(8)] DateTimeOffset? UpdatedAt = null);

[GenerateSerializer, Immutable]
public sealed record DirectoryUser(
    [property: Id(0)] string Id,
    [property: Id(1)] string DirectoryId,
    [property: Id(2)] string? OrganizationId,
    [property: Id(3)] string? IdpId,
    [property: Id(4)] string? Email,
    [property: Id(5)] string? FirstName,
    [property: Id(6)] string? LastName,
    [property: Id(7)] string? Username,
    [property: Id(8)] string? JobTitle,
    [property: Id(9)] string State,
    [property: Id(10)] IReadOnlyList<string> RoleSlugs,
    /// <summary>The <c>custom_attributes</c> object as received (JSON text), stored verbatim.</summary>
    [property: Id(11)] string CustomAttributesJson,
    /// <summary>The <c>raw_attributes</c> object as received (JSON text), stored verbatim.</summary>
    [property: Id(12)] string RawAttributesJson,
    /// <summary>WorkOS's own <c>created_at</c> and <c>updated_at</c> of the object, when the payload has them.</summary>
    [property: Id(13)] DateTimeOffset? CreatedAt = null,
    [property: Id(14)] DateTimeOffset? UpdatedAt = null);

[GenerateSerializer, Immutable]
public sealed record DirectoryGroup(
    [property: Id(0)] string Id,
    [property: Id(1)] string DirectoryId,
    [property: Id(2)] string? OrganizationId,
    [property: Id(3)] string? IdpId,
    [property: Id(4)] string? Name,
    [property: Id(5)] string RawAttributesJson,
    [property: Id(6)] DateTimeOffset? CreatedAt = null,
    [property: Id(7)] DateTimeOffset? UpdatedAt = null);

[GenerateSerializer, Immutable]
public sealed record GroupMembership(
    [property: Id(0)] string DirectoryId,
    [property: Id(1)] string UserId,
    [property: Id(2)] string GroupId);

/// <summary>
/// One verified, parsed Directory Sync event. Exactly one of the object properties is set, per <see cref="Kind"/>:
/// directory events carry <see cref="Directory"/>, user events <see cref="User"/>, group events <see cref="Group"/>,
/// membership events <see cref="Membership"/>. <see cref="Payload"/> is the event's JSON as received, for the event log.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SyncEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string EventType,
    [property: Id(2)] SyncEventKind Kind,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] string Payload,
    [property: Id(5)] DirectoryData? Directory = null,
    [property: Id(6)] DirectoryUser? User = null,
    [property: Id(7)] DirectoryGroup? Group = null,
    [property: Id(8)] GroupMembership? Membership = null,
    [property: Id(9)] DateTimeOffset? ListedAt = null)
{
    /// <summary>
    /// Not an event but what WorkOS's REST API listed at <see cref="ListedAt"/> (a backfill or a reconciliation): its
    /// <see cref="EventId"/> only tells items apart, it has no event log row, and it is versioned by the object's own
    /// <c>updated_at</c> (or the listing's time), so any event newer than what was listed wins over it.
    /// </summary>
    public bool IsSnapshot => ListedAt is not null;

    /// <summary>The WorkOS directory this event belongs to.</summary>
    public string DirectoryId => Kind switch
    {
        SyncEventKind.DirectoryActivated or SyncEventKind.DirectoryDeleted => Directory!.Id,
        SyncEventKind.UserCreated or SyncEventKind.UserUpdated or SyncEventKind.UserDeleted => User!.DirectoryId,
        SyncEventKind.GroupCreated or SyncEventKind.GroupUpdated or SyncEventKind.GroupDeleted => Group!.DirectoryId,
        _ => Membership!.DirectoryId,
    };
}

/// <summary>What applying an event did. Every outcome is acknowledged: WorkOS must not retry any of them.</summary>
public enum ApplyOutcome
{
    /// <summary>The event changed the mirror (or its pending and tombstone bookkeeping).</summary>
    Applied,
    /// <summary>The same event id was applied before.</summary>
    Duplicate,
    /// <summary>A newer change to the same object (or a newer delete of its directory) was applied before.</summary>
    Stale,
    /// <summary>The event could not be applied and was recorded as a dead letter.</summary>
    DeadLettered,
}
