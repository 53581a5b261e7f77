using DirectorySync.Sync;

namespace DirectorySync;

/// <summary>Configuration section <c>DirectorySync</c>.</summary>
public sealed class SyncOptions
{
    public const string Section = "DirectorySync";

    /// <summary><c>retain</c> (default) keeps users who turn inactive; <c>delete</c> removes them like a deleted user.</summary>
    public InactiveUsersPolicy InactiveUsers { get; set; } = InactiveUsersPolicy.Retain;

    /// <summary>How long tombstones and the event log are kept (WorkOS retries for at most 3 days).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Directory role slug → application roles, e.g. <c>DirectorySync__Roles__Map__admin=owner,billing</c>.</summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A custom attribute whose value(s) are role slugs too (mapped through <see cref="RoleMap"/>).</summary>
    public string? RoleAttribute { get; set; }

    /// <summary>Events a silo accepts and holds before they are written; past it, new events are refused (503).</summary>
    public int MaxQueuedEvents { get; set; } = 20_000;

    /// <summary>
    /// How long a directory's flush may wait on Postgres before the directory refuses new events (503) until it commits:
    /// senders hear at once that Postgres is stuck, instead of each waiting out its timeout.
    /// </summary>
    public TimeSpan FlushStallLimit { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Rows removed per transaction while cleaning up a deleted directory.</summary>
    public int CleanupChunkSize { get; set; } = 5000;

    /// <summary>How often an unfinished directory cleanup is retried (by reminder) after a crash or failure.</summary>
    public TimeSpan CleanupRetryPeriod { get; set; } = TimeSpan.FromMinutes(1);

    public RoleMapping CreateRoleMapping() => new(
        RoleMap.ToDictionary(
            pair => pair.Key,
            pair => pair.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            StringComparer.Ordinal),
        string.IsNullOrWhiteSpace(RoleAttribute) ? null : RoleAttribute);
}
