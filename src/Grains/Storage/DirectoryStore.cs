using DirectorySync.Events;
using DirectorySync.Feed;
using DirectorySync.Sync;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace DirectorySync.Storage;

/// <summary>What a purge removed; <see cref="PendingPurged"/> counts, per directory, the pending objects given up on.</summary>
public sealed record PurgeResult(int Tombstones, int Events, IReadOnlyDictionary<string, int> PendingPurged, int PendingLeft);

/// <summary>A directory's index as its grain loads it, with the epoch that fences its writes.</summary>
public sealed record LoadedDirectory(DirectoryIndex Index, long Epoch, bool CleanupOwed);

/// <summary>Raised when a flush names an epoch that is no longer current: another activation of the directory has loaded since.</summary>
public sealed class DirectoryFencedException(string directoryId, Exception inner)
    : Exception($"Directory {directoryId} is now owned by another activation; this one's writes were refused.", inner);

/// <summary>Raised when a flush reaches Postgres before the flush sent ahead of it committed (or because that one failed).</summary>
public sealed class FlushOutOfOrderException(string directoryId, Exception inner)
    : Exception($"Directory {directoryId}: the flush before this one has not committed; this one was refused.", inner);

/// <summary>
/// Persists what directory grains decide, and loads what they decided before. Every statement is plain SQL; the only
/// checks in SQL are guards: a write never puts an older version over a newer one, never moves a row (or a tombstone)
/// to another directory, a flush naming another directory's object is refused (sync_refuse_foreign), and so is a flush
/// from a fenced-out activation (sync_fence). One round trip per flush: Npgsql sends
/// a batch as one implicit transaction, committed when its last statement succeeds.
/// </summary>
public sealed partial class DirectoryStore(NpgsqlDataSource dataSource, IOptions<SyncOptions> options, ILogger<DirectoryStore> logger)
{
    private const string FencedState = "DS001";
    private const string OutOfOrderState = "DS002";

    private readonly SyncOptions _options = options.Value;
    private readonly MirrorRows _rows = new(options.Value.CreateRoleMapping());

    /// <summary>
    /// The silo's connections to the mirror (the Orleans providers keep a pool of their own, see README). The store
    /// leaves nothing in a session (a failed batch is rolled back by Postgres), so a connection going back to the pool
    /// is not reset: that saves a DISCARD ALL per flush.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        // The same dozen statements run for every flush: prepared once per connection, each is parsed and planned once.
        // A plan kept that long must not be a scan chosen while the tables were small: every lookup here has an index.
        builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        builder.ConnectionStringBuilder.Options = "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off";
        return builder.Build();
    }

    /// <summary>
    /// Takes the next epoch of the directory and reads its index, in one transaction: the epoch's row lock waits for a
    /// flush another activation has in flight, so what is read includes it, and that activation cannot write again.
    /// </summary>
    public async Task<LoadedDirectory> LoadAsync(string directoryId)
    {
        var index = new DirectoryIndex(directoryId, _options.InactiveUsers);
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            INSERT INTO sync_fences (workos_directory_id, epoch) VALUES ($1, 1)
            ON CONFLICT (workos_directory_id) DO UPDATE SET epoch = sync_fences.epoch + 1, flushes = 0
            RETURNING epoch
            """, directoryId));
        batch.BatchCommands.Add(Command("""
            SELECT d.version_at, d.version_event_id, t.version_at, t.version_event_id,
                   EXISTS (SELECT 1 FROM directory_cleanups WHERE workos_directory_id = $1)
            FROM (VALUES (1)) AS one (x)
            LEFT JOIN directories d ON d.workos_directory_id = $1
            LEFT JOIN sync_tombstones t ON t.object_kind = 'directory' AND t.object_id = $1
            """, directoryId));
        batch.BatchCommands.Add(Command("""
            SELECT 'user', u.workos_user_id, u.version_at, u.version_event_id
            FROM directories d JOIN directory_users u ON u.directory_id = d.id WHERE d.workos_directory_id = $1
            UNION ALL
            SELECT 'group', g.workos_group_id, g.version_at, g.version_event_id
            FROM directories d JOIN directory_groups g ON g.directory_id = d.id WHERE d.workos_directory_id = $1
            """, directoryId));
        batch.BatchCommands.Add(Command("""
            SELECT g.workos_group_id, u.workos_user_id, m.version_at, m.version_event_id
            FROM directories d
            JOIN directory_users u ON u.directory_id = d.id
            JOIN directory_group_memberships m ON m.user_id = u.id
            JOIN directory_groups g ON g.id = m.group_id
            WHERE d.workos_directory_id = $1
            """, directoryId));
        batch.BatchCommands.Add(Command("""
            SELECT object_kind, object_id, group_id, user_id, version_at, version_event_id, 'pending' FROM sync_pending WHERE directory_id = $1
            UNION ALL
            SELECT object_kind, object_id, group_id, user_id, version_at, version_event_id, 'tombstone' FROM sync_tombstones
            WHERE directory_id = $1 AND object_kind <> 'directory'
            """, directoryId));

        await using var reader = await batch.ExecuteReaderAsync();
        await reader.ReadAsync();
        var epoch = reader.GetInt64(0);

        await reader.NextResultAsync();
        await reader.ReadAsync();
        index.RestoreDirectory(NullableVersion(reader, 0), NullableVersion(reader, 2));
        var cleanupOwed = reader.GetBoolean(4);

        await reader.NextResultAsync();
        while (await reader.ReadAsync())
            index.RestoreObject(KindOf(reader.GetString(0)), reader.GetString(1), Version(reader, 2), Placement.Shown);

        await reader.NextResultAsync();
        while (await reader.ReadAsync())
            index.RestoreMembership(reader.GetString(0), reader.GetString(1), Version(reader, 2), Placement.Shown);

        await reader.NextResultAsync();
        while (await reader.ReadAsync())
        {
            var kind = KindOf(reader.GetString(0));
            var version = Version(reader, 4);
            var pending = reader.GetString(6) == "pending";
            if (kind == ObjectKind.Membership)
            {
                var (groupId, userId) = (reader.GetString(2), reader.GetString(3));
                if (pending) index.RestoreMembership(groupId, userId, version, Placement.Pending);
                else index.RestoreMembershipTombstone(groupId, userId, version);
            }
            else if (pending) index.RestoreObject(kind, reader.GetString(1), version, Placement.Pending);
            else index.RestoreTombstone(kind, reader.GetString(1), version);
        }
        index.CompleteRestore();
        return new LoadedDirectory(index, epoch, cleanupOwed);
    }

    /// <summary>
    /// Writes <paramref name="changes"/> in one transaction, fenced by <paramref name="epoch"/> and the number of
    /// flushes that epoch has committed. Returns the ids of the events logged by this flush (new, or replacing a dead
    /// letter of the same id): any other event of it was applied or found stale before (a duplicate).
    /// </summary>
    public async Task<HashSet<string>> FlushAsync(string directoryId, long epoch, long flushes, DirectoryChanges changes)
    {
        await using var batch = dataSource.CreateBatch();
        var commands = batch.BatchCommands;
        commands.Add(Command("SELECT sync_fence($1, $2, $3)", directoryId, epoch, flushes));
        // A listing's items are not events: nothing of them goes to the event log.
        AddEventLog(commands, directoryId, changes.Events.Where(l => !l.Event.IsSnapshot).ToList());
        if (changes.Events.LastOrDefault(l => l.Outcome == ApplyOutcome.Applied && !l.Event.IsSnapshot)?.Event is { } last)
            commands.Add(Command("""
                UPDATE sync_fences SET last_event_id = $2, last_event_created_at = $3, last_applied_at = now()
                WHERE workos_directory_id = $1
                """, directoryId, last.EventId, last.CreatedAt.UtcDateTime));
        if (changes.NewUsers.Count > 0 || changes.NewGroups.Count > 0)
            commands.Add(Command("SELECT sync_refuse_foreign($1, $2, $3)", directoryId, changes.NewUsers.ToArray(), changes.NewGroups.ToArray()));
        // The change feed's entries, in this same transaction: what leaves the mirror is shaped before it goes.
        var feed = ChangeFeedWrites.Of(changes);
        ChangeFeedStatements.AddLeaving(commands, directoryId, feed);

        if (changes.Directory is { } directory)
            commands.Add(Command(DirectoryUpsert, _rows.Directories([(directory, SyncRules.VersionOf(directory))])));
        if (changes.DirectoryDelete is { } deleted)
        {
            commands.Add(Command("""
                UPDATE directories SET state = 'deleting', synced_at = now()
                WHERE workos_directory_id = $1 AND NOT sync_newer(version_at, version_event_id, $2, $3)
                """, directoryId, deleted.At.UtcDateTime, deleted.EventId));
            commands.Add(Command("INSERT INTO directory_cleanups (workos_directory_id) VALUES ($1) ON CONFLICT DO NOTHING", directoryId));
        }

        // Rows leave the mirror before rows enter it, and users and groups enter before the memberships that need them.
        var memberships = changes.Memberships.ToLookup(m => m.Target);
        AddMembershipRemovals(commands, directoryId, memberships[Placement.Absent].Concat(memberships[Placement.Pending]), fromMirror: true);
        var objectWrites = ObjectTables.ToDictionary(t => t.Kind,
            t => (t.Kind == ObjectKind.User ? changes.Users : changes.Groups).ToLookup(w => (w.Target, w.Content is not null)));
        foreach (var table in ObjectTables)
        {
            var writes = objectWrites[table.Kind];
            var absent = writes[(Placement.Absent, false)].ToList();
            AddRemovals(commands, table.MirrorDelete, directoryId, absent);
            AddRemovals(commands, PendingDelete(table.Kind), directoryId, absent);
            if (writes[(Placement.Pending, false)].Select(w => w.Id).ToArray() is { Length: > 0 } demoted)
                commands.Add(Command(table.Demote, directoryId, demoted));
            if (writes[(Placement.Pending, true)].ToList() is { Count: > 0 } pended)
            {
                commands.Add(Command(table.PendingUpsert, directoryId, table.Rows(_rows, pended)));
                AddRemovals(commands, table.MirrorDelete, directoryId, pended);
            }
        }
        foreach (var table in ObjectTables)
        {
            var writes = objectWrites[table.Kind];
            if (writes[(Placement.Shown, true)].ToList() is { Count: > 0 } shown)
            {
                commands.Add(Command(table.Upsert, directoryId, table.Rows(_rows, shown)));
                AddRemovals(commands, PendingDelete(table.Kind), directoryId, shown);
            }
            if (writes[(Placement.Shown, false)].Select(w => w.Id).ToArray() is { Length: > 0 } promoted)
                commands.Add(Command(table.Promote, directoryId, promoted));
        }
        if (memberships[Placement.Shown].ToList() is { Count: > 0 } linked)
        {
            commands.Add(Command(MembershipUpsert, directoryId, Column(linked, m => m.GroupId), Column(linked, m => m.UserId),
                Column(linked, m => m.Version.At.UtcDateTime), Column(linked, m => m.Version.EventId)));
            AddMembershipRemovals(commands, directoryId, linked, fromMirror: false);
        }
        if (memberships[Placement.Pending].ToList() is { Count: > 0 } waiting)
        {
            commands.Add(Command(MembershipPendingUpsert, directoryId, Column(waiting, m => MembershipKey.For(m.GroupId, m.UserId)),
                Column(waiting, m => m.GroupId), Column(waiting, m => m.UserId),
                Column(waiting, m => m.Version.At.UtcDateTime), Column(waiting, m => m.Version.EventId)));
        }
        if (changes.Tombstones.ToList() is { Count: > 0 } tombstones)
        {
            commands.Add(Command(TombstoneUpsert, directoryId,
                Column(tombstones, t => t.Id), Column(tombstones, t => KindName(t.Kind)), Column(tombstones, t => t.GroupId),
                Column(tombstones, t => t.UserId), Column(tombstones, t => t.Version.At.UtcDateTime), Column(tombstones, t => t.Version.EventId)));
        }
        if (changes.DirectoryDelete is { } directoryDeleted)
        {
            commands.Add(Command(TombstoneUpsert, directoryId, new[] { directoryId }, new[] { "directory" }, new string?[] { null },
                new string?[] { null }, new[] { directoryDeleted.At.UtcDateTime }, new[] { directoryDeleted.EventId }));
        }
        ChangeFeedStatements.AddArriving(commands, directoryId, feed);

        try
        {
            var logged = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await batch.ExecuteReaderAsync();
            await reader.NextResultAsync();
            while (await reader.ReadAsync()) logged.Add(reader.GetString(0));
            // Reading every result makes a failure of any later statement surface here, before the caller is answered.
            while (await reader.NextResultAsync()) { }
            return logged;
        }
        catch (PostgresException e) when (e.SqlState == FencedState)
        {
            throw new DirectoryFencedException(directoryId, e);
        }
        catch (PostgresException e) when (e.SqlState == OutOfOrderState)
        {
            throw new FlushOutOfOrderException(directoryId, e);
        }
    }

    /// <summary>
    /// Removes one chunk of a deleted directory's rows older than its delete; true once nothing is left. Rows newer than
    /// the delete were moved where they belong by the delete's own flush (the index re-places everything then), so the
    /// version guard is all this needs.
    /// </summary>
    public async Task<bool> CleanupDirectoryStepAsync(string directoryId)
    {
        var chunk = _options.CleanupChunkSize;
        // Memberships first: deleting a user or group takes its memberships with it (ON DELETE CASCADE), unbounded.
        if (await ExecuteAsync(CleanupMemberships, directoryId, chunk) >= chunk) return false;
        if (await ExecuteAsync(CleanupObjects("directory_users"), directoryId, chunk) >= chunk) return false;
        if (await ExecuteAsync(CleanupObjects("directory_groups"), directoryId, chunk) >= chunk) return false;

        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            /* directory cleanup */ DELETE FROM directories d USING sync_tombstones t
            WHERE d.workos_directory_id = $1 AND t.object_kind = 'directory' AND t.object_id = $1
              AND NOT sync_newer(d.version_at, d.version_event_id, t.version_at, t.version_event_id)
            """, directoryId));
        batch.BatchCommands.Add(Command("""
            /* directory cleanup */ DELETE FROM sync_pending p USING sync_tombstones t
            WHERE p.directory_id = $1 AND t.object_kind = 'directory' AND t.object_id = $1
              AND NOT sync_newer(p.version_at, p.version_event_id, t.version_at, t.version_event_id)
            """, directoryId));
        batch.BatchCommands.Add(Command("/* directory cleanup */ DELETE FROM directory_cleanups WHERE workos_directory_id = $1", directoryId));
        await batch.ExecuteNonQueryAsync();
        return true;
    }

    public async Task RecordDeadLetterAsync(DeadLetter deadLetter)
    {
        await using var command = dataSource.CreateCommand("SELECT sync_record_dead_letter($1, $2, $3, NULL, $4, $5, $6)");
        command.Parameters.Add(new() { Value = deadLetter.EventId });
        command.Parameters.Add(new() { Value = deadLetter.EventType });
        command.Parameters.Add(new() { Value = (object?)deadLetter.ObjectId ?? DBNull.Value });
        command.Parameters.Add(new() { Value = (object?)deadLetter.CreatedAt?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = deadLetter.Reason });
        // Postgres text cannot hold U+0000; the body is kept for reading, not for verifying.
        command.Parameters.Add(new() { Value = deadLetter.Payload.Replace('\0', '\uFFFD') });
        await command.ExecuteNonQueryAsync();
        SyncMetrics.Count(ApplyOutcome.DeadLettered);
        LogDeadLetter(deadLetter.EventId, deadLetter.EventType, deadLetter.Reason);
    }

    /// <summary>Keeps a signed body that is not an event; the same body again only counts another attempt.</summary>
    public async Task RecordUnreadableAsync(UnreadableWebhook webhook)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO unreadable_webhooks AS w (body_sha256, body, reason, signed_at) VALUES (sha256($1), $1, $2, $3)
            ON CONFLICT (body_sha256) DO UPDATE SET attempts = w.attempts + 1, last_received_at = now()
            """);
        command.Parameters.Add(new() { Value = webhook.Body });
        command.Parameters.Add(new() { Value = webhook.Reason });
        command.Parameters.Add(new() { Value = webhook.SignedAt.UtcDateTime });
        await command.ExecuteNonQueryAsync();
        LogUnreadable(webhook.Body.Length, webhook.Reason);
    }

    /// <summary>
    /// Drops what is older than the retention period: tombstones (except the tombstone of a directory whose cleanup is
    /// still owed: the cleanup needs it to know what is older than the delete), event log entries, and objects that have
    /// waited that long in sync_pending for a directory, user or group that never came.
    /// </summary>
    public async Task<PurgeResult> PurgeAsync()
    {
        await using var expired = dataSource.CreateBatch();
        expired.BatchCommands.Add(Command("""
            DELETE FROM sync_tombstones t WHERE t.deleted_at < now() - $1
              AND NOT (t.object_kind = 'directory' AND EXISTS (SELECT 1 FROM directory_cleanups c WHERE c.workos_directory_id = t.object_id))
            """, _options.Retention));
        expired.BatchCommands.Add(Command("DELETE FROM event_log WHERE received_at < now() - $1", _options.Retention));
        await expired.ExecuteNonQueryAsync();

        await using var pending = dataSource.CreateBatch();
        pending.BatchCommands.Add(Command("""
            WITH gone AS (DELETE FROM sync_pending WHERE pending_since < now() - $1 RETURNING directory_id)
            SELECT directory_id, count(*)::int FROM gone GROUP BY directory_id
            """, _options.Retention));
        pending.BatchCommands.Add(Command("SELECT count(*)::int FROM sync_pending"));
        var pendingPurged = new Dictionary<string, int>(StringComparer.Ordinal);
        int pendingLeft;
        await using (var reader = await pending.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) pendingPurged[reader.GetString(0)] = reader.GetInt32(1);
            await reader.NextResultAsync();
            await reader.ReadAsync();
            pendingLeft = reader.GetInt32(0);
        }
        SyncMetrics.PendingObjects(pendingLeft, pendingPurged.Values.Sum());
        return new PurgeResult(expired.BatchCommands[0].RecordsAffected, expired.BatchCommands[1].RecordsAffected, pendingPurged, pendingLeft);
    }

    private async Task<int> ExecuteAsync(string sql, params object[] values)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(sql, values));
        return await batch.ExecuteNonQueryAsync();
    }

    private static void AddEventLog(NpgsqlBatchCommandCollection commands, string directoryId, List<LoggedEvent> events)
    {
        commands.Add(Command(
            """
            INSERT INTO event_log AS l (event_id, event_type, object_id, directory_id, created_at, applied_at, outcome, payload)
            SELECT e, t, o, $1, c, CASE WHEN r = 'applied' THEN now() END, r, p::jsonb
            FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[]) AS x (e, t, o, c, r, p)
            ON CONFLICT (event_id) DO UPDATE
                SET outcome = excluded.outcome, applied_at = excluded.applied_at, reason = NULL, received_at = now(),
                    earlier_attempts = l.earlier_attempts || jsonb_build_array(jsonb_build_object(
                        'outcome', l.outcome, 'reason', l.reason, 'received_at', l.received_at))
                WHERE l.outcome = 'dead_letter'
            RETURNING event_id
            """,
            directoryId,
            Column(events, l => l.Event.EventId),
            Column(events, l => l.Event.EventType),
            Column(events, l => ObjectKey.Of(l.Event).Id),
            Column(events, l => l.Event.CreatedAt.UtcDateTime),
            Column(events, l => l.Outcome == ApplyOutcome.Stale ? "stale" : "applied"),
            Column(events, l => l.Event.Payload)));
    }

    private static void AddRemovals(NpgsqlBatchCommandCollection commands, string sql, string directoryId, IReadOnlyCollection<ObjectWrite> writes)
    {
        if (writes.Count == 0) return;
        commands.Add(Command(sql, directoryId, Column(writes, w => w.Id), Column(writes, w => w.Version.At.UtcDateTime),
            Column(writes, w => w.Version.EventId)));
    }

    /// <summary>Removes membership rows (from the mirror or from sync_pending) not newer than each write's version.</summary>
    private static void AddMembershipRemovals(NpgsqlBatchCommandCollection commands, string directoryId, IEnumerable<MembershipWrite> writes, bool fromMirror)
    {
        var list = writes.ToList();
        if (list.Count == 0) return;
        if (fromMirror)
        {
            commands.Add(Command(MembershipDelete, directoryId, Column(list, m => m.GroupId), Column(list, m => m.UserId),
                Column(list, m => m.Version.At.UtcDateTime), Column(list, m => m.Version.EventId)));
            if (list.Any(m => m.Target == Placement.Absent))
                AddMembershipRemovals(commands, directoryId, list.Where(m => m.Target == Placement.Absent), fromMirror: false);
        }
        else
        {
            commands.Add(Command(PendingDelete(ObjectKind.Membership), directoryId, Column(list, m => MembershipKey.For(m.GroupId, m.UserId)),
                Column(list, m => m.Version.At.UtcDateTime), Column(list, m => m.Version.EventId)));
        }
    }

    private static T[] Column<TRow, T>(IEnumerable<TRow> rows, Func<TRow, T> value) => rows.Select(value).ToArray();

    private static EventVersion Version(NpgsqlDataReader reader, int ordinal) =>
        new(new DateTimeOffset(reader.GetDateTime(ordinal), TimeSpan.Zero), reader.GetString(ordinal + 1));

    private static EventVersion? NullableVersion(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Version(reader, ordinal);

    private static ObjectKind KindOf(string name) => name switch
    {
        "directory" => ObjectKind.Directory,
        "user" => ObjectKind.User,
        "group" => ObjectKind.Group,
        _ => ObjectKind.Membership,
    };

    internal static string KindName(ObjectKind kind) => kind switch
    {
        ObjectKind.Directory => "directory",
        ObjectKind.User => "user",
        ObjectKind.Group => "group",
        _ => "membership",
    };

    /// <remarks>Pass a lone reference-type array as <c>(object)array</c>, or C# spreads it into several parameters.</remarks>
    internal static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        return command;
    }

    // The statements. $1 is always the directory's WorkOS id; every other parameter is an array, one element per row.

    private const string DirectoryUpsert = """
        INSERT INTO directories AS d (workos_directory_id, organization_id, name, state, directory_type, domains, external_key,
            created_at, updated_at, version_at, version_event_id)
        SELECT r.workos_directory_id, r.organization_id, r.name, r.state, r.directory_type, coalesce(r.domains, '{}'), r.external_key,
            r.created_at, r.updated_at, r.version_at, r.version_event_id
        FROM jsonb_to_recordset($1::jsonb) AS r (workos_directory_id text, organization_id text, name text, state text,
            directory_type text, domains text[], external_key text, created_at timestamptz, updated_at timestamptz,
            version_at timestamptz, version_event_id text)
        ON CONFLICT (workos_directory_id) DO UPDATE
            SET organization_id = excluded.organization_id, name = excluded.name, state = excluded.state,
                directory_type = excluded.directory_type, domains = excluded.domains,
                external_key = coalesce(excluded.external_key, d.external_key),
                created_at = coalesce(excluded.created_at, d.created_at), updated_at = coalesce(excluded.updated_at, d.updated_at),
                version_at = excluded.version_at, version_event_id = excluded.version_event_id, synced_at = now()
            WHERE sync_newer(excluded.version_at, excluded.version_event_id, d.version_at, d.version_event_id)
        """;

    // Memberships named by WorkOS ids, as the mirror's keys: each side is looked up by its unique key, one probe per
    // row. As a join, plans made while the tables were small hashed every group (or user) of the directory per flush.
    private const string MembershipRows = """
        SELECT (SELECT u.id FROM directory_users u WHERE u.workos_user_id = r.user_id AND u.directory_id = d.id) AS user_pk,
               (SELECT g.id FROM directory_groups g WHERE g.workos_group_id = r.group_id AND g.directory_id = d.id) AS group_pk,
               r.at, r.ev
        FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS r (group_id, user_id, at, ev)
        CROSS JOIN directories d
        WHERE d.workos_directory_id = $1
        """;

    private const string MembershipUpsert = $"""
        INSERT INTO directory_group_memberships AS m (user_id, group_id, version_at, version_event_id)
        SELECT x.user_pk, x.group_pk, x.at, x.ev FROM ({MembershipRows}) AS x
        WHERE x.user_pk IS NOT NULL AND x.group_pk IS NOT NULL
        ON CONFLICT (user_id, group_id) DO UPDATE
            SET version_at = excluded.version_at, version_event_id = excluded.version_event_id, synced_at = now()
            WHERE sync_newer(excluded.version_at, excluded.version_event_id, m.version_at, m.version_event_id)
        """;

    private const string MembershipDelete = $"""
        DELETE FROM directory_group_memberships m USING ({MembershipRows}) AS x
        WHERE m.user_id = x.user_pk AND m.group_id = x.group_pk AND NOT sync_newer(m.version_at, m.version_event_id, x.at, x.ev)
        """;

    private const string MembershipPendingUpsert = """
        INSERT INTO sync_pending AS p (object_id, object_kind, directory_id, group_id, user_id, version_at, version_event_id, data)
        SELECT r.key, 'membership', $1, r.group_id, r.user_id, r.at, r.ev, '{}'::jsonb
        FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) AS r (key, group_id, user_id, at, ev)
        ON CONFLICT (object_id, object_kind) DO UPDATE
            SET version_at = excluded.version_at, version_event_id = excluded.version_event_id
            WHERE p.directory_id = excluded.directory_id
              AND sync_newer(excluded.version_at, excluded.version_event_id, p.version_at, p.version_event_id)
        """;

    private const string TombstoneUpsert = """
        INSERT INTO sync_tombstones AS t (object_id, object_kind, directory_id, group_id, user_id, version_at, version_event_id)
        SELECT r.id, r.kind, $1, r.group_id, r.user_id, r.at, r.ev
        FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[]) AS r (id, kind, group_id, user_id, at, ev)
        ON CONFLICT (object_id, object_kind) DO UPDATE
            SET group_id = excluded.group_id, user_id = excluded.user_id,
                version_at = excluded.version_at, version_event_id = excluded.version_event_id, deleted_at = now()
            WHERE t.directory_id = excluded.directory_id
              AND sync_newer(excluded.version_at, excluded.version_event_id, t.version_at, t.version_event_id)
        """;

    private static string PendingDelete(ObjectKind kind) => $"""
        DELETE FROM sync_pending p
        USING unnest($2::text[], $3::timestamptz[], $4::text[]) AS r (id, at, ev)
        WHERE p.object_kind = '{KindName(kind)}' AND p.object_id = r.id AND p.directory_id = $1
          AND NOT sync_newer(p.version_at, p.version_event_id, r.at, r.ev)
        """;

    // Each cleanup statement names itself, so an operator (and the fault tests) can see in pg_stat_activity who runs it.
    private const string CleanupMemberships = """
        /* directory cleanup */ DELETE FROM directory_group_memberships m WHERE (m.user_id, m.group_id) IN (
            SELECT dm.user_id, dm.group_id
            FROM sync_tombstones t
            JOIN directories d ON d.workos_directory_id = t.object_id
            JOIN directory_users u ON u.directory_id = d.id
            JOIN directory_group_memberships dm ON dm.user_id = u.id
            WHERE t.object_kind = 'directory' AND t.object_id = $1
              AND NOT sync_newer(dm.version_at, dm.version_event_id, t.version_at, t.version_event_id)
            LIMIT $2)
        """;

    private static string CleanupObjects(string table) => $"""
        /* directory cleanup */ DELETE FROM {table} o WHERE o.id IN (
            SELECT x.id
            FROM sync_tombstones t
            JOIN directories d ON d.workos_directory_id = t.object_id
            JOIN {table} x ON x.directory_id = d.id
            WHERE t.object_kind = 'directory' AND t.object_id = $1
              AND NOT sync_newer(x.version_at, x.version_event_id, t.version_at, t.version_event_id)
            LIMIT $2)
        """;

    /// <summary>The statements that differ between users and groups only by table, columns and row shape.</summary>
    private sealed record ObjectTable(
        ObjectKind Kind, string Upsert, string Promote, string Demote, string PendingUpsert, string MirrorDelete,
        Func<MirrorRows, IEnumerable<ObjectWrite>, string> Rows);

    private static readonly ObjectTable[] ObjectTables = [Table(ObjectKind.User), Table(ObjectKind.Group)];

    private static ObjectTable Table(ObjectKind kind)
    {
        var (table, id, columns, values, updates) = kind == ObjectKind.User
            ? ("directory_users", "workos_user_id",
                "workos_user_id text, workos_directory_id text, organization_id text, idp_id text, email text, first_name text, " +
                "last_name text, username text, job_title text, state text, role_slugs text[], app_roles text[], " +
                "custom_attributes jsonb, raw_attributes jsonb, created_at timestamptz, updated_at timestamptz, " +
                "version_at timestamptz, version_event_id text",
                "r.workos_user_id, d.id, r.organization_id, r.idp_id, r.email, r.first_name, r.last_name, r.username, r.job_title, " +
                "r.state, coalesce(r.role_slugs, '{}'), coalesce(r.app_roles, '{}'), coalesce(r.custom_attributes, '{}'), " +
                "coalesce(r.raw_attributes, '{}'), r.created_at, r.updated_at, r.version_at, r.version_event_id",
                "organization_id = excluded.organization_id, idp_id = excluded.idp_id, email = excluded.email, " +
                "first_name = excluded.first_name, last_name = excluded.last_name, username = excluded.username, " +
                "job_title = excluded.job_title, state = excluded.state, role_slugs = excluded.role_slugs, " +
                "app_roles = excluded.app_roles, custom_attributes = excluded.custom_attributes, raw_attributes = excluded.raw_attributes")
            : ("directory_groups", "workos_group_id",
                "workos_group_id text, workos_directory_id text, organization_id text, idp_id text, name text, " +
                "raw_attributes jsonb, created_at timestamptz, updated_at timestamptz, version_at timestamptz, version_event_id text",
                "r.workos_group_id, d.id, r.organization_id, r.idp_id, r.name, coalesce(r.raw_attributes, '{}'), r.created_at, r.updated_at, " +
                "r.version_at, r.version_event_id",
                "organization_id = excluded.organization_id, idp_id = excluded.idp_id, name = excluded.name, raw_attributes = excluded.raw_attributes");
        var insertColumns = kind == ObjectKind.User
            ? "workos_user_id, directory_id, organization_id, idp_id, email, first_name, last_name, username, job_title, state, " +
              "role_slugs, app_roles, custom_attributes, raw_attributes, created_at, updated_at, version_at, version_event_id"
            : "workos_group_id, directory_id, organization_id, idp_id, name, raw_attributes, created_at, updated_at, version_at, version_event_id";
        var kindName = KindName(kind);
        // A row stays in its directory: a write naming another directory's object changes nothing. A write at the row's
        // own version goes through: that is a listing repairing a row that drifted (a replayed event is decided stale).
        var upsertTail = $"""
            CROSS JOIN directories d WHERE d.workos_directory_id = $1
            ON CONFLICT ({id}) DO UPDATE
                SET {updates}, created_at = coalesce(excluded.created_at, o.created_at),
                    updated_at = coalesce(excluded.updated_at, o.updated_at), version_at = excluded.version_at, version_event_id = excluded.version_event_id, synced_at = now()
                WHERE o.directory_id = excluded.directory_id
                  AND NOT sync_newer(o.version_at, o.version_event_id, excluded.version_at, excluded.version_event_id)
            """;
        var pendingUpsertTail = """
            ON CONFLICT (object_id, object_kind) DO UPDATE
                SET version_at = excluded.version_at, version_event_id = excluded.version_event_id, data = excluded.data
                WHERE p.directory_id = excluded.directory_id
                  AND sync_newer(excluded.version_at, excluded.version_event_id, p.version_at, p.version_event_id)
            """;
        return new ObjectTable(
            kind,
            Upsert: $"INSERT INTO {table} AS o ({insertColumns}) SELECT {values} FROM jsonb_to_recordset($2::jsonb) AS r ({columns}) {upsertTail}",
            Promote: $"""
                WITH moved AS (
                    DELETE FROM sync_pending p WHERE p.object_kind = '{kindName}' AND p.directory_id = $1 AND p.object_id = ANY ($2::text[])
                    RETURNING p.data)
                INSERT INTO {table} AS o ({insertColumns})
                SELECT {values} FROM moved CROSS JOIN LATERAL jsonb_to_record(moved.data) AS r ({columns}) {upsertTail}
                """,
            Demote: $"""
                WITH moved AS (
                    DELETE FROM {table} o USING directories d
                    WHERE d.workos_directory_id = $1 AND o.directory_id = d.id AND o.{id} = ANY ($2::text[])
                    RETURNING o.*)
                INSERT INTO sync_pending AS p (object_id, object_kind, directory_id, version_at, version_event_id, data)
                SELECT m.{id}, '{kindName}', $1, m.version_at, m.version_event_id,
                       to_jsonb(m) - 'id' - 'directory_id' - 'synced_at' || jsonb_build_object('workos_directory_id', $1::text)
                FROM moved m
                {pendingUpsertTail}
                """,
            PendingUpsert: $"""
                INSERT INTO sync_pending AS p (object_id, object_kind, directory_id, version_at, version_event_id, data)
                SELECT r ->> '{id}', '{kindName}', $1, (r ->> 'version_at')::timestamptz, r ->> 'version_event_id', r
                FROM jsonb_array_elements($2::jsonb) AS r
                {pendingUpsertTail}
                """,
            MirrorDelete: $"""
                DELETE FROM {table} o
                USING unnest($2::text[], $3::timestamptz[], $4::text[]) AS r (id, at, ev), directories d
                WHERE d.workos_directory_id = $1 AND o.directory_id = d.id AND o.{id} = r.id
                  AND NOT sync_newer(o.version_at, o.version_event_id, r.at, r.ev)
                """,
            Rows: kind == ObjectKind.User
                ? (rows, writes) => rows.Users(writes.Select(w => (w.Content!, w.Version)))
                : (rows, writes) => rows.Groups(writes.Select(w => (w.Content!, w.Version))));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signed webhook of {Bytes} bytes kept in unreadable_webhooks: {Reason}")]
    private partial void LogUnreadable(int bytes, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead letter {EventId} ({EventType}): {Reason}")]
    private partial void LogDeadLetter(string eventId, string eventType, string reason);
}
