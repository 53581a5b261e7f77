using DirectorySync.Events;

namespace DirectorySync;

/// <summary>
/// Owns one WorkOS directory (key: directory id) and everything in it: its users, groups and memberships. The
/// directory is the consistency boundary of Directory Sync (its deletion cascades to everything in it, a membership
/// is shown only while its user and group are), so one activation decides every event of the directory from the index
/// it holds, persists its decisions, and cleans up after a deletion.
/// </summary>
public interface IDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Applies any of the ten Directory Sync events of this directory; returns once its effect is durable.</summary>
    Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent);

    /// <summary>
    /// Applies several events or listed objects (<see cref="SyncEvent.IsSnapshot"/>) of this directory together, in
    /// order, usually in one flush; returns their outcomes once all are durable.
    /// </summary>
    Task<ApplyOutcome[]> ApplyManyAsync(IReadOnlyList<SyncEvent> items);

    /// <summary>What the directory's grain holds now (loading its index if it is not active).</summary>
    Task<DirectorySummary> SummaryAsync();

    /// <summary>Rows changed behind the grain (a purge): it reads its index again before its next decision.</summary>
    Task ReloadAsync();
}

/// <summary>Counts of a directory's live objects as its grain knows them.</summary>
[GenerateSerializer, Immutable]
public sealed record DirectorySummary(
    [property: Id(0)] string DirectoryId,
    [property: Id(1)] bool IsShown,
    [property: Id(2)] int Users,
    [property: Id(3)] int Groups,
    [property: Id(4)] int Memberships,
    [property: Id(5)] long Epoch);

/// <summary>Records signed events that cannot be applied, so they are kept (and can be replayed) and acknowledged.</summary>
public interface IDeadLetterGrain : IGrainWithIntegerKey
{
    Task RecordAsync(DeadLetter deadLetter);

    /// <summary>Keeps a signed body that is not an event at all (not JSON, no id…), once per distinct body.</summary>
    Task RecordUnreadableAsync(UnreadableWebhook webhook);
}

[GenerateSerializer, Immutable]
public sealed record UnreadableWebhook(
    [property: Id(0)] byte[] Body,
    [property: Id(1)] string Reason,
    [property: Id(2)] DateTimeOffset SignedAt);

[GenerateSerializer, Immutable]
public sealed record DeadLetter(
    [property: Id(0)] string EventId,
    [property: Id(1)] string EventType,
    [property: Id(2)] string? ObjectId,
    [property: Id(3)] DateTimeOffset? CreatedAt,
    [property: Id(4)] string Reason,
    [property: Id(5)] string Payload);

/// <summary>
/// A membership's key where one string must name it (tombstones, pending rows, the event log). The group id's length
/// comes first, so no two pairs of ids share a key, whatever characters the ids hold.
/// </summary>
public static class MembershipKey
{
    public static string For(string groupId, string userId) => $"{groupId.Length}:{groupId}/{userId}";
}

/// <summary>The one place that decides which grain owns an event.</summary>
public static class EventRouting
{
    public static Task<ApplyOutcome> ApplyAsync(IGrainFactory grains, SyncEvent e) =>
        grains.GetGrain<IDirectoryGrain>(e.DirectoryId).ApplyAsync(e);
}

/// <summary>Housekeeping for the whole cluster (key 0).</summary>
public interface IMaintenanceGrain : IGrainWithIntegerKey
{
    /// <summary>Registers the hourly purge reminder (idempotent; every silo calls it at start).</summary>
    Task EnsureScheduledAsync();

    /// <summary>Drops tombstones, event log entries, pending objects and change feed entries older than their retention now.</summary>
    Task PurgeAsync();
}

/// <summary>Answers if some silo is reachable and running grains: what a gateway's readiness means.</summary>
public interface IPingGrain : IGrainWithIntegerKey
{
    Task PingAsync();
}

/// <summary>
/// Delivers the change feed to one outbound webhook endpoint (key: its name in <c>ChangeFeed:Endpoints</c>): each
/// directory's entries in feed order, a batch at a time, signed as Standard Webhooks; its progress is grain state.
/// </summary>
public interface IWebhookEndpointGrain : IGrainWithStringKey
{
    /// <summary>Activates the endpoint's delivery and keeps it alive by reminder (idempotent; every silo calls it at start).</summary>
    Task EnsureRunningAsync();

    Task<WebhookEndpointStatus> StatusAsync();

    /// <summary>
    /// Delivers again every entry after <paramref name="from"/> (a feed position), to each directory whose delivery had
    /// passed it, and enables the endpoint again if a 410 had disabled it.
    /// </summary>
    Task<WebhookEndpointStatus> ReplayAsync(string from);
}

[GenerateSerializer, Immutable]
public sealed record WebhookEndpointStatus(
    [property: Id(0)] string Endpoint,
    [property: Id(1)] bool Configured,
    [property: Id(2)] string? DisabledReason,
    [property: Id(3)] IReadOnlyList<DirectoryDeliveryStatus> Directories,
    [property: Id(4)] IReadOnlyList<DeliveryFailure> Failures);

/// <summary>
/// One directory's delivery to an endpoint: everything through <c>Delivered</c> was acknowledged; the batch after it up to
/// <c>InFlight</c> is being sent, on its <c>Attempts</c>-th failure so far.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DirectoryDeliveryStatus(
    [property: Id(0)] string DirectoryId,
    [property: Id(1)] string Delivered,
    [property: Id(2)] string? InFlight,
    [property: Id(3)] int Attempts,
    [property: Id(4)] DateTimeOffset? NextAttemptAt,
    [property: Id(5)] string? LastError);

/// <summary>A batch given up on after the whole retry schedule (or purged before it could be sent): replay it from <c>After</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryFailure(
    [property: Id(0)] string DirectoryId,
    [property: Id(1)] string After,
    [property: Id(2)] string Through,
    [property: Id(3)] int Attempts,
    [property: Id(4)] string Error,
    [property: Id(5)] DateTimeOffset FailedAt);
