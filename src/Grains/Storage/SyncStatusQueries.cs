using Npgsql;
using static DirectorySync.Storage.DirectoryStore;

namespace DirectorySync.Storage;

/// <summary>The newest event a directory's flushes applied.</summary>
public sealed record LastEvent(string EventId, DateTimeOffset? CreatedAt, DateTimeOffset? AppliedAt);

/// <summary>An object waiting in <c>sync_pending</c> for its directory, user or group.</summary>
public sealed record PendingObject(string Kind, string Id, string? UserId, string? GroupId, DateTimeOffset WaitingSince);

/// <summary>
/// A directory as the operator console lists it: what the mirror shows of it, its last event, when it was last confirmed
/// current (<c>directory_freshness</c>), what waits in <c>sync_pending</c> for it, and its newest reconciliation.
/// <see cref="State"/> is the mirror's, or <c>deleted</c> (a tombstone, no row) or <c>not_in_mirror</c> (only events,
/// pending objects or runs name it).
/// </summary>
public sealed record DirectoryOverview(
    string DirectoryId, string? Name, string State, string? Type, string? OrganizationId, int Users, int Groups, int Memberships,
    LastEvent? LastEvent, DateTimeOffset? ConfirmedAt, int Pending, DateTimeOffset? OldestPendingSince, ReconcileRun? LastRun);

/// <summary>An event kept as a dead letter: why, when it last arrived, and how many times it was tried.</summary>
public sealed record DeadLetterEntry(
    string EventId, string EventType, string? ObjectId, DateTimeOffset? CreatedAt, DateTimeOffset ReceivedAt, string? Reason, int Attempts);

/// <summary>An event's <c>event_log</c> row: its outcome and, to replay it, the payload as it was received.</summary>
public sealed record EventLogEntry(string EventId, string EventType, string Outcome, string? Reason, int Attempts, string? Payload);

/// <summary>What the operator's status of a directory reads from Postgres (the rest comes from the grains).</summary>
public sealed class SyncStatusQueries(NpgsqlDataSource dataSource)
{
    public const int PendingSample = 100;

    public async Task<(bool Known, LastEvent? LastEvent, int PendingCount, IReadOnlyList<PendingObject> Pending)> DirectoryAsync(string directoryId)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            SELECT EXISTS (SELECT 1 FROM directories WHERE workos_directory_id = $1)
                OR EXISTS (SELECT 1 FROM sync_fences WHERE workos_directory_id = $1)
                OR EXISTS (SELECT 1 FROM reconcile_runs WHERE workos_directory_id = $1)
            """, directoryId));
        batch.BatchCommands.Add(Command("""
            SELECT last_event_id, last_event_created_at, last_applied_at FROM sync_fences
            WHERE workos_directory_id = $1 AND last_event_id IS NOT NULL
            """, directoryId));
        batch.BatchCommands.Add(Command("SELECT count(*)::int FROM sync_pending WHERE directory_id = $1", directoryId));
        batch.BatchCommands.Add(Command("""
            SELECT object_kind, object_id, user_id, group_id, pending_since FROM sync_pending
            WHERE directory_id = $1 ORDER BY pending_since, object_id LIMIT $2
            """, directoryId, PendingSample));
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.ReadAsync();
        var known = reader.GetBoolean(0);
        await reader.NextResultAsync();
        var last = await reader.ReadAsync() ? ReadLastEvent(reader, 0) : null;
        await reader.NextResultAsync();
        await reader.ReadAsync();
        var count = reader.GetInt32(0);
        await reader.NextResultAsync();
        var pending = new List<PendingObject>();
        while (await reader.ReadAsync())
            pending.Add(new PendingObject(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4)));
        return (known || count > 0, last, count, pending);
    }

    /// <summary>
    /// Every directory any table names (the mirror, the fences of directories whose grain ran, runs, pending objects),
    /// ordered by name then id, at most <paramref name="limit"/>, and how many there are.
    /// </summary>
    public async Task<(int Total, IReadOnlyList<DirectoryOverview> Directories)> DirectoriesAsync(int limit)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH ids AS (
                SELECT workos_directory_id AS id FROM directories
                UNION SELECT workos_directory_id FROM sync_fences
                UNION SELECT workos_directory_id FROM reconcile_runs
                UNION SELECT directory_id FROM sync_pending)
            SELECT i.id, d.name,
                   coalesce(d.state, CASE WHEN EXISTS (SELECT 1 FROM sync_tombstones t WHERE t.object_kind = 'directory' AND t.object_id = i.id)
                                          THEN 'deleted' ELSE 'not_in_mirror' END),
                   d.directory_type, d.organization_id,
                   (SELECT count(*) FROM directory_users u WHERE u.directory_id = d.id)::int,
                   (SELECT count(*) FROM directory_groups g WHERE g.directory_id = d.id)::int,
                   (SELECT count(*) FROM directory_group_memberships m JOIN directory_groups g ON g.id = m.group_id WHERE g.directory_id = d.id)::int,
                   f.last_event_id, f.last_event_created_at, f.last_applied_at, fr.confirmed_at,
                   p.pending, p.oldest,
                   r.*,
                   count(*) OVER ()::int
            FROM ids i
            LEFT JOIN directories d ON d.workos_directory_id = i.id
            LEFT JOIN sync_fences f ON f.workos_directory_id = i.id
            LEFT JOIN directory_freshness fr ON fr.workos_directory_id = i.id
            LEFT JOIN LATERAL (SELECT count(*)::int AS pending, min(pending_since) AS oldest FROM sync_pending WHERE directory_id = i.id) p ON true
            LEFT JOIN LATERAL (SELECT {ReconcileStore.RunColumns} FROM reconcile_runs WHERE workos_directory_id = i.id
                               ORDER BY run_id DESC LIMIT 1) r ON true
            ORDER BY d.name NULLS LAST, i.id
            LIMIT $1
            """);
        command.Parameters.Add(new() { Value = limit });
        var directories = new List<DirectoryOverview>();
        var total = 0;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            directories.Add(new DirectoryOverview(reader.GetString(0), Text(reader, 1), reader.GetString(2), Text(reader, 3), Text(reader, 4),
                reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.IsDBNull(8) ? null : ReadLastEvent(reader, 8),
                Time(reader, 11), reader.GetInt32(12), Time(reader, 13), ReconcileStore.ReadRun(reader, 14)));
            total = reader.GetInt32(22);
        }
        return (total, directories);
    }

    /// <summary>The newest dead letters (by when they last arrived), at most <paramref name="limit"/>, and how many there are.</summary>
    public async Task<(int Total, IReadOnlyList<DeadLetterEntry> DeadLetters)> DeadLettersAsync(int limit)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new("SELECT count(*)::int FROM event_log WHERE outcome = 'dead_letter'"));
        batch.BatchCommands.Add(new("""
            SELECT event_id, event_type, object_id, created_at, received_at, reason, jsonb_array_length(earlier_attempts) + 1
            FROM event_log WHERE outcome = 'dead_letter' ORDER BY received_at DESC, event_id LIMIT $1
            """) { Parameters = { new() { Value = limit } } });
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.ReadAsync();
        var total = reader.GetInt32(0);
        await reader.NextResultAsync();
        var letters = new List<DeadLetterEntry>();
        while (await reader.ReadAsync())
            letters.Add(new DeadLetterEntry(reader.GetString(0), reader.GetString(1), Text(reader, 2), Time(reader, 3),
                reader.GetFieldValue<DateTimeOffset>(4), Text(reader, 5), reader.GetInt32(6)));
        return (total, letters);
    }

    /// <summary>
    /// An event's log row, or null. The payload is the text received: a body Postgres could not keep as jsonb was kept
    /// as a JSON string holding it (<c>sync_record_dead_letter</c>), and is unwrapped here.
    /// </summary>
    public async Task<EventLogEntry?> EventAsync(string eventId)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT event_id, event_type, outcome, reason, jsonb_array_length(earlier_attempts) + 1,
                   CASE WHEN jsonb_typeof(payload) = 'string' THEN payload #>> '{}' ELSE payload::text END
            FROM event_log WHERE event_id = $1
            """);
        command.Parameters.Add(new() { Value = eventId });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? new EventLogEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), Text(reader, 3), reader.GetInt32(4), Text(reader, 5))
            : null;
    }

    private static LastEvent ReadLastEvent(NpgsqlDataReader reader, int first) =>
        new(reader.GetString(first), Time(reader, first + 1), Time(reader, first + 2));

    private static string? Text(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);

    private static DateTimeOffset? Time(NpgsqlDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : reader.GetFieldValue<DateTimeOffset>(column);
}
