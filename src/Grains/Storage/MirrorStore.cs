using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using DirectorySync.Events;
using DirectorySync.Sync;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace DirectorySync.Storage;

/// <summary>
/// The silo's one writer to the mirror. Grains hand it events; it group-commits them: every event waiting when a
/// transaction starts goes into it, and each grain's call completes when that transaction has committed. A batch
/// takes the advisory locks of its directories (in key order, so batches on other silos queue instead of
/// deadlocking), reads what it needs to decide in one round trip, decides with <see cref="SyncRules"/>, and writes
/// everything and commits in a second.
/// </summary>
public sealed partial class MirrorStore(
    NpgsqlDataSource dataSource,
    IOptions<SyncOptions> options,
    ILogger<MirrorStore> logger) : BackgroundService
{
    private static readonly Meter Meter = new("DirectorySync");
    private static readonly Counter<long> EventsCounter = Meter.CreateCounter<long>("directorysync.events", description: "Events by outcome");
    private static readonly Histogram<int> BatchSizes = Meter.CreateHistogram<int>("directorysync.batch.size");
    private static readonly Histogram<double> BatchDurations = Meter.CreateHistogram<double>("directorysync.batch.duration", "ms");

    private readonly Channel<Submission> _queue = Channel.CreateUnbounded<Submission>(new() { SingleReader = true });
    private readonly SyncOptions _options = options.Value;
    private readonly MirrorRows _rows = new(options.Value.CreateRoleMapping());

    /// <summary>
    /// The store's connections. The store leaves nothing in a session between uses (its locks are transaction-scoped,
    /// and a batch that fails mid-transaction is rolled back by Npgsql when its connection returns to the pool), so a
    /// returning connection is not reset: the reset (DISCARD ALL) also dropped the sync functions' cached plans, and
    /// Postgres planned them again for every batch.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        return builder.Build();
    }

    /// <summary>Applies one event; completes once its effect (or its dead letter) is committed.</summary>
    public Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent)
    {
        var submission = new Submission(syncEvent);
        if (!_queue.Writer.TryWrite(submission))
            throw new InvalidOperationException("The mirror store is shutting down; the event was not applied.");
        return submission.Completion.Task;
    }

    public async Task RecordDeadLetterAsync(DeadLetter deadLetter)
    {
        await using var command = dataSource.CreateCommand("SELECT sync_record_dead_letter($1, $2, $3, NULL, $4, $5, $6)");
        command.Parameters.Add(new() { Value = deadLetter.EventId });
        command.Parameters.Add(new() { Value = deadLetter.EventType });
        command.Parameters.Add(new() { Value = (object?)deadLetter.ObjectId ?? DBNull.Value });
        command.Parameters.Add(new() { Value = (object?)deadLetter.CreatedAt?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = deadLetter.Reason });
        // Postgres text cannot hold U+0000; the body is kept for reading, not for verifying.
        command.Parameters.Add(new() { Value = deadLetter.Payload.Replace('\0', '\uFFFD') });
        await command.ExecuteNonQueryAsync();
        EventsCounter.Add(1, new KeyValuePair<string, object?>("outcome", "dead_letter"));
        LogDeadLetter(deadLetter.EventId, deadLetter.EventType, deadLetter.Reason);
    }

    /// <summary>Removes one chunk of a deleted directory's rows; true once the deletion is complete.</summary>
    public async Task<bool> CleanupDirectoryStepAsync(string directoryId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command("SELECT pg_advisory_xact_lock($1)", DirectoryLockKey(directoryId)));
        batch.BatchCommands.Add(Command("SELECT sync_cleanup_directory($1, $2)", directoryId, _options.CleanupChunkSize));
        bool done;
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            await reader.NextResultAsync();
            await reader.ReadAsync();
            done = reader.GetBoolean(0);
        }
        await transaction.CommitAsync();
        return done;
    }

    /// <summary>Directory deletions recorded but not yet cleaned up.</summary>
    public async Task<IReadOnlyList<string>> PendingCleanupsAsync()
    {
        await using var command = dataSource.CreateCommand("SELECT workos_directory_id FROM directory_cleanups");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>Drops tombstones and event log entries older than the retention period.</summary>
    public async Task<(int Tombstones, int Events)> PurgeAsync()
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("DELETE FROM sync_tombstones WHERE deleted_at < now() - $1", _options.Retention));
        batch.BatchCommands.Add(Command("DELETE FROM event_log WHERE received_at < now() - $1", _options.Retention));
        await batch.ExecuteNonQueryAsync();
        return (batch.BatchCommands[0].RecordsAffected, batch.BatchCommands[1].RecordsAffected);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Finish what grains already handed over; new events are refused (the gateway answers 503, WorkOS retries).
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Submission>(_options.MaxBatchSize);
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < _options.MaxBatchSize && _queue.Reader.TryRead(out var submission)) batch.Add(submission);
            await WriteAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteAsync(List<Submission> batch)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            Complete(batch, await ApplyBatchAsync(batch));
        }
        catch (PostgresException e) when (IsDataError(e))
        {
            // One event Postgres refuses must not fail the others: apply them one by one and dead-letter the culprit.
            LogIsolating(batch.Count, e.SqlState, e.MessageText);
            foreach (var submission in batch) await WriteAloneAsync(submission);
        }
        catch (Exception e)
        {
            LogBatchFailed(e, batch.Count);
            foreach (var submission in batch) submission.Completion.TrySetException(e);
        }
        finally
        {
            BatchSizes.Record(batch.Count);
            BatchDurations.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private async Task WriteAloneAsync(Submission submission)
    {
        try
        {
            Complete([submission], await ApplyBatchAsync([submission]));
        }
        catch (PostgresException e) when (IsDataError(e))
        {
            try
            {
                var s = submission.Event;
                await RecordDeadLetterAsync(new DeadLetter(s.EventId, s.EventType, ObjectKey.Of(s).Id, s.CreatedAt,
                    $"Postgres refused the event: {e.SqlState} {e.MessageText}", s.Payload));
                submission.Completion.TrySetResult(ApplyOutcome.DeadLettered);
            }
            catch (Exception recordFailure)
            {
                submission.Completion.TrySetException(recordFailure);
            }
        }
        catch (Exception e)
        {
            submission.Completion.TrySetException(e);
        }
    }

    private static void Complete(IReadOnlyList<Submission> batch, ApplyOutcome[] outcomes)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            EventsCounter.Add(1, new KeyValuePair<string, object?>("outcome", outcomes[i].ToString()));
            batch[i].Completion.TrySetResult(outcomes[i]);
        }
    }

    /// <summary>
    /// Class 22 (data exception), 23 (integrity) and 54 (a limit, such as an index entry too large): the event's content,
    /// not the database's health.
    /// </summary>
    private static bool IsDataError(PostgresException e) =>
        e.SqlState.StartsWith("22") || e.SqlState.StartsWith("23") || e.SqlState.StartsWith("54");

    private async Task<ApplyOutcome[]> ApplyBatchAsync(IReadOnlyList<Submission> batch)
    {
        var events = batch.Select(s => s.Event).ToArray();
        var versions = events.Select(SyncRules.VersionOf).ToArray();

        // The transaction is opened by the read's first statement and committed by the write's last: two round trips.
        // If anything fails in between, the connection goes back to the pool still in the transaction, and Npgsql
        // rolls it back there (MirrorStoreTests' dead-letter cases go through that, on this data source).
        await using var connection = await dataSource.OpenConnectionAsync();
        var (logged, known) = await ReadStateAsync(connection, events);

        var outcomes = new ApplyOutcome[events.Length];
        var plan = new WritePlan();
        var seen = new HashSet<string>(logged, StringComparer.Ordinal);
        for (var i = 0; i < events.Length; i++)
        {
            var e = events[i];
            if (!seen.Add(e.EventId))
            {
                outcomes[i] = ApplyOutcome.Duplicate;
                continue;
            }
            var key = ObjectKey.Of(e);
            var self = known.GetValueOrDefault(key, ObjectState.Unknown);
            var parentDelete = ObjectKey.ParentsOf(e)
                .Select(parent => known.GetValueOrDefault(parent, ObjectState.Unknown).Tombstone)
                .Max();
            var decision = SyncRules.Decide(e, versions[i], self, parentDelete, _options.InactiveUsers);
            known[key] = self.After(decision, versions[i]);
            plan.Add(key, decision, e, versions[i]);
            outcomes[i] = decision == Decision.Stale ? ApplyOutcome.Stale : ApplyOutcome.Applied;
        }

        await using (var write = new NpgsqlBatch(connection))
        {
            AddEventLog(write, events, outcomes);
            foreach (var (sql, rows) in plan.Statements(_rows)) write.BatchCommands.Add(Command(sql, rows));
            write.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            await write.ExecuteNonQueryAsync();
        }
        return outcomes;
    }

    private static async Task<(List<string> Logged, Dictionary<ObjectKey, ObjectState> Known)> ReadStateAsync(
        NpgsqlConnection connection, SyncEvent[] events)
    {
        var directoryIds = events.Select(e => e.DirectoryId).Distinct().ToArray();
        var userIds = events.Select(e => e.User?.Id ?? e.Membership?.UserId).OfType<string>().Distinct().ToArray();
        var groupIds = events.Select(e => e.Group?.Id ?? e.Membership?.GroupId).OfType<string>().Distinct().ToArray();
        var pairs = events.Select(e => e.Membership).OfType<GroupMembership>().Select(m => (m.GroupId, m.UserId)).Distinct().ToArray();
        var lockKeys = directoryIds.Select(DirectoryLockKey).Distinct().Order().ToArray();

        await using var read = new NpgsqlBatch(connection);
        read.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        read.BatchCommands.Add(Command("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k", lockKeys));
        read.BatchCommands.Add(Command("SELECT event_id FROM event_log WHERE event_id = ANY($1)", (object)events.Select(e => e.EventId).ToArray()));
        read.BatchCommands.Add(Command("SELECT * FROM sync_read_state($1, $2, $3, $4, $5)",
            directoryIds, userIds, groupIds, pairs.Select(p => p.GroupId).ToArray(), pairs.Select(p => p.UserId).ToArray()));

        var logged = new List<string>();
        var known = new Dictionary<ObjectKey, ObjectState>();
        await using var reader = await read.ExecuteReaderAsync();
        await reader.NextResultAsync();
        while (await reader.ReadAsync()) logged.Add(reader.GetString(0));
        await reader.NextResultAsync();
        while (await reader.ReadAsync())
        {
            var kind = reader.GetString(0) switch
            {
                "directory" => ObjectKind.Directory,
                "user" => ObjectKind.User,
                "group" => ObjectKind.Group,
                _ => ObjectKind.Membership,
            };
            known[new ObjectKey(kind, reader.GetString(1))] = new ObjectState(ReadVersion(reader, 2), ReadVersion(reader, 4));
        }
        return (logged, known);
    }

    private static EventVersion? ReadVersion(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal)
        ? null
        : new EventVersion(new DateTimeOffset(reader.GetDateTime(ordinal), TimeSpan.Zero), reader.GetString(ordinal + 1));

    private static void AddEventLog(NpgsqlBatch write, SyncEvent[] events, ApplyOutcome[] outcomes)
    {
        var logged = Enumerable.Range(0, events.Length).Where(i => outcomes[i] != ApplyOutcome.Duplicate).ToArray();
        if (logged.Length == 0) return;
        write.BatchCommands.Add(Command(
            """
            INSERT INTO event_log (event_id, event_type, object_id, directory_id, created_at, applied_at, outcome, payload)
            SELECT e, t, o, d, c, CASE WHEN r = 'applied' THEN now() END, r, p::jsonb
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])
                AS x (e, t, o, d, c, r, p)
            ON CONFLICT (event_id) DO NOTHING
            """,
            logged.Select(i => events[i].EventId).ToArray(),
            logged.Select(i => events[i].EventType).ToArray(),
            logged.Select(i => ObjectKey.Of(events[i]).Id).ToArray(),
            logged.Select(i => events[i].DirectoryId).ToArray(),
            logged.Select(i => events[i].CreatedAt.UtcDateTime).ToArray(),
            logged.Select(i => outcomes[i] == ApplyOutcome.Stale ? "stale" : "applied").ToArray(),
            logged.Select(i => events[i].Payload).ToArray()));
    }

    /// <summary>A stable 64-bit key per directory (FNV-1a), the same in every process.</summary>
    internal static long DirectoryLockKey(string directoryId)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in directoryId)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return unchecked((long)hash);
    }

    /// <remarks>Pass a lone reference-type array as <c>(object)array</c>, or C# spreads it into several parameters.</remarks>
    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }

    private sealed record Submission(SyncEvent Event)
    {
        // Completed inline by the writer loop: the awaiting grains resume on their own activation's scheduler, so
        // completing a batch only queues their turns, and each event makes one thread-pool hop fewer.
        public TaskCompletionSource<ApplyOutcome> Completion { get; } = new();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead letter {EventId} ({EventType}): {Reason}")]
    private partial void LogDeadLetter(string eventId, string eventType, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Postgres refused a batch of {Count} events ({SqlState}: {Message}); applying them one by one")]
    private partial void LogIsolating(int count, string sqlState, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing a batch of {Count} events failed; their webhooks will be retried")]
    private partial void LogBatchFailed(Exception exception, int count);
}
