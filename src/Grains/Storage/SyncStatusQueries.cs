using Npgsql;

namespace DirectorySync.Storage;

/// <summary>The newest event a directory's flushes applied.</summary>
public sealed record LastEvent(string EventId, DateTimeOffset? CreatedAt, DateTimeOffset? AppliedAt);

/// <summary>An object waiting in <c>sync_pending</c> for its directory, user or group.</summary>
public sealed record PendingObject(string Kind, string Id, string? UserId, string? GroupId, DateTimeOffset WaitingSince);

/// <summary>What the operator's status of a directory reads from Postgres (the rest comes from the grains).</summary>
public sealed class SyncStatusQueries(NpgsqlDataSource dataSource)
{
    public const int PendingSample = 100;

    public async Task<(bool Known, LastEvent? LastEvent, int PendingCount, IReadOnlyList<PendingObject> Pending)> DirectoryAsync(string directoryId)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new("""
            SELECT EXISTS (SELECT 1 FROM directories WHERE workos_directory_id = $1)
                OR EXISTS (SELECT 1 FROM sync_fences WHERE workos_directory_id = $1)
                OR EXISTS (SELECT 1 FROM reconcile_runs WHERE workos_directory_id = $1)
            """) { Parameters = { new() { Value = directoryId } } });
        batch.BatchCommands.Add(new("""
            SELECT last_event_id, last_event_created_at, last_applied_at FROM sync_fences
            WHERE workos_directory_id = $1 AND last_event_id IS NOT NULL
            """) { Parameters = { new() { Value = directoryId } } });
        batch.BatchCommands.Add(new("SELECT count(*)::int FROM sync_pending WHERE directory_id = $1")
            { Parameters = { new() { Value = directoryId } } });
        batch.BatchCommands.Add(new("""
            SELECT object_kind, object_id, user_id, group_id, pending_since FROM sync_pending
            WHERE directory_id = $1 ORDER BY pending_since, object_id LIMIT $2
            """) { Parameters = { new() { Value = directoryId }, new() { Value = PendingSample } } });
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.ReadAsync();
        var known = reader.GetBoolean(0);
        await reader.NextResultAsync();
        var last = await reader.ReadAsync()
            ? new LastEvent(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2))
            : null;
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
}
