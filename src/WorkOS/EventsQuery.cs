namespace DirectorySync.WorkOS;

/// <summary>
/// A <c>GET /events</c> request. <see cref="After"/> (an event id) and <see cref="RangeStart"/> are mutually exclusive:
/// WorkOS refuses the pair, and so does the client. The events always come oldest first (<c>order=asc</c>).
/// </summary>
public sealed record EventsQuery
{
    /// <summary>The event types asked for: by default the ten Directory Sync types.</summary>
    public IReadOnlyList<string> Types { get; init; } = WorkOSEventParser.DirectorySyncEventTypes;

    /// <summary>Continue after this event id (the cursor).</summary>
    public string? After { get; init; }

    /// <summary>Start at this time (without a cursor, or when the cursor was lost).</summary>
    public DateTimeOffset? RangeStart { get; init; }

    public DateTimeOffset? RangeEnd { get; init; }

    public string? OrganizationId { get; init; }

    /// <summary>Events per page, 1 to 100.</summary>
    public int Limit { get; init; } = WorkOSClient.MaxLimit;
}
