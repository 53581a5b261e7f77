using DirectorySync.Events;

namespace DirectorySync.WorkOS;

/// <summary>What a signed webhook body turned out to be; the endpoint answers each case differently.</summary>
public abstract record ParsedWebhook
{
    private ParsedWebhook()
    {
    }

    /// <summary>Not a WorkOS event envelope (not JSON, not an object, no string <c>id</c> or <c>event</c>): answer 400.</summary>
    public sealed record NotAnEnvelope(string Reason) : ParsedWebhook;

    /// <summary>A well-formed event of a type this service does not apply: acknowledge it so WorkOS stops retrying.</summary>
    public sealed record Ignored(string EventId, string EventType) : ParsedWebhook;

    /// <summary>A Directory Sync event whose data cannot be applied: record it, then acknowledge.</summary>
    public sealed record DeadLettered(DeadLetter Letter) : ParsedWebhook;

    /// <summary>A Directory Sync event ready for the grain that owns its object.</summary>
    public sealed record Applicable(SyncEvent Event) : ParsedWebhook;
}
