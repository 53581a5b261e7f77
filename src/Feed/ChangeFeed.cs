using Npgsql;

namespace DirectorySync.Feed;

/// <summary>A page of the feed, or why there is none: the position asked for is before the retention horizon, or was never given out.</summary>
/// <remarks><see cref="Horizon"/>: the newest position purged (entries after it are all kept); <see cref="Oldest"/>: the first entry kept.</remarks>
public sealed record FeedPage(IReadOnlyList<FeedEntry> Entries, FeedStatus Status, FeedPosition Horizon, FeedPosition? Oldest);

public enum FeedStatus { Read, Expired, Unknown }

/// <summary>
/// A look for directories with new entries: every transaction below <see cref="SettledBelow"/> had ended; the next look
/// reads the transactions from <see cref="NextFrom"/> (the snapshot's xmax: none of those was visible to it) and those
/// then <see cref="InProgress"/>. Snapshots list the transactions in progress on the primary only: this runs there.
/// </summary>
public sealed record FeedScan(long SettledBelow, long NextFrom, long[] InProgress, IReadOnlyList<string> Directories);

/// <summary>Entries after a delivered position: how many (at most the count asked for), and when the first was written.</summary>
public sealed record FeedBacklog(int Waiting, DateTimeOffset? FirstWrittenAt);

/// <summary>
/// Reads the change feed (sql/014). Across directories only settled entries are served: those of transactions below a
/// snapshot's xmin, so an entry still to commit always comes after every position already given out. One directory's
/// entries need no such wait: its flushes commit in position order (sql/014), so whatever of it is visible has no gap.
/// </summary>
public sealed class ChangeFeed(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Up to <paramref name="limit"/> entries after <paramref name="after"/> (from the first entry kept when null; of one
    /// directory, when given, and not past <paramref name="through"/>), in feed order.
    /// </summary>
    public async Task<FeedPage> ReadAsync(FeedPosition? after, int limit, string? directory = null, FeedPosition? through = null,
        CancellationToken cancellationToken = default)
    {
        var from = after ?? FeedPosition.Start;
        long settledBelow, assignedBelow;
        FeedPosition horizon;
        FeedPosition? oldest;
        await using (var bounds = dataSource.CreateCommand("""
            SELECT change_feed_settled_below(), pg_snapshot_xmax(pg_current_snapshot())::text::bigint, h.xact, h.ordinal,
                   (SELECT f.xact FROM change_feed f ORDER BY f.xact, f.ordinal LIMIT 1),
                   (SELECT f.ordinal FROM change_feed f ORDER BY f.xact, f.ordinal LIMIT 1)
            FROM change_feed_horizon h WHERE h.only_row
            """))
        await using (var reader = await bounds.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            settledBelow = reader.GetInt64(0);
            assignedBelow = reader.GetInt64(1);
            horizon = new FeedPosition(reader.GetInt64(2), reader.GetInt32(3));
            oldest = reader.IsDBNull(4) ? null : new FeedPosition(reader.GetInt64(4), reader.GetInt32(5));
        }
        // No transaction id from here on has been assigned yet: no entry can be there.
        if (from.Xact >= assignedBelow) return new FeedPage([], FeedStatus.Unknown, horizon, oldest);
        if (from < horizon && after is not null) return new FeedPage([], FeedStatus.Expired, horizon, oldest);

        // Across directories, up to what was settled when the bounds were read: a later snapshot sees all of it (those
        // transactions had ended), and nothing of a transaction that had not. As plain row bounds, each read is one
        // index range.
        var last = directory is not null ? new FeedPosition(long.MaxValue, int.MaxValue) : new FeedPosition(settledBelow - 1, int.MaxValue);
        if (through is { } t && t < last) last = t;
        // Its own horizon check too: a purge since the bounds were read must not leave a gap unseen.
        var horizonCheck = after is null ? "" : "AND ($1, $2) >= (SELECT h.xact, h.ordinal FROM change_feed_horizon h WHERE h.only_row)";
        await using var rows = directory is null
            ? Command($"""
                SELECT f.xact, f.ordinal, f.directory_id, f.event, f.created_at, f.data::text
                FROM change_feed f
                WHERE (f.xact, f.ordinal) > ($1, $2) AND (f.xact, f.ordinal) <= ($3, $4) {horizonCheck}
                ORDER BY f.xact, f.ordinal LIMIT $5
                """, from.Xact, from.Ordinal, last.Xact, last.Ordinal, limit)
            : Command($"""
                SELECT f.xact, f.ordinal, f.directory_id, f.event, f.created_at, f.data::text
                FROM change_feed f
                WHERE (f.directory_id, f.xact, f.ordinal) > ($6, $1, $2) AND (f.directory_id, f.xact, f.ordinal) <= ($6, $3, $4) {horizonCheck}
                ORDER BY f.directory_id, f.xact, f.ordinal LIMIT $5
                """, from.Xact, from.Ordinal, last.Xact, last.Ordinal, limit, directory);
        await using var entries = await rows.ExecuteReaderAsync(cancellationToken);
        var page = new List<FeedEntry>();
        while (await entries.ReadAsync(cancellationToken))
        {
            page.Add(new FeedEntry(new FeedPosition(entries.GetInt64(0), entries.GetInt32(1)), entries.GetString(2), entries.GetString(3),
                new DateTimeOffset(entries.GetDateTime(4), TimeSpan.Zero), entries.GetString(5)));
        }
        return new FeedPage(page, FeedStatus.Read, horizon, oldest);
    }

    /// <summary>
    /// The newest settled position (the horizon while no entry is kept): a consumer that reads the mirror in full after
    /// asking for it, then follows the feed from it, misses no change.
    /// </summary>
    public async Task<FeedPosition> LatestAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT x.xact, x.ordinal FROM (
                SELECT f.xact, f.ordinal FROM change_feed f WHERE f.xact < change_feed_settled_below()
                UNION ALL
                SELECT h.xact, h.ordinal FROM change_feed_horizon h WHERE h.only_row) AS x
            ORDER BY x.xact DESC, x.ordinal DESC LIMIT 1
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new FeedPosition(reader.GetInt64(0), reader.GetInt32(1));
    }

    /// <summary>
    /// The directories with entries that became visible since a look that ended at <paramref name="fromXact"/> with
    /// <paramref name="inProgress"/> still running: those of transactions from <paramref name="fromXact"/> on, or of
    /// one of those. Each look reads only what is new, however long some transaction stays open (a dump, a report on
    /// the same database): a directory whose first entry commits late is found when it commits.
    /// </summary>
    /// <remarks>
    /// The range's upper bound (nothing from the snapshot's xmax on is visible) also keeps the silo's generic plan on the
    /// primary key: open-ended, it was estimated at a third of the table, and once vacuum had marked the pages visible
    /// Postgres chose a full index-only scan of the directory index instead, reading every entry at every look
    /// (measured: 60-73 ms a look in two of four profiled benchmark runs; 0.2 ms bounded).
    /// </remarks>
    public async Task<FeedScan> DirectoriesWithNewEntriesAsync(long fromXact, IReadOnlyCollection<long> inProgress,
        CancellationToken cancellationToken = default)
    {
        await using var command = Command("""
            SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint,
                   array(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x),
                   array(SELECT DISTINCT f.directory_id FROM change_feed f
                         WHERE (f.xact >= $1 AND f.xact < pg_snapshot_xmax(s)::text::bigint) OR f.xact = ANY($2))
            FROM pg_current_snapshot() AS s
            """, fromXact, inProgress.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new FeedScan(reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<long[]>(2), reader.GetFieldValue<string[]>(3));
    }

    /// <summary>
    /// Per directory, what waits after a delivered position: how many entries (counted up to <paramref name="countUpTo"/>,
    /// so an endpoint days behind costs no full count) and when the first of them was written. Each is one index range.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, FeedBacklog>> BacklogAsync(
        IReadOnlyCollection<(string Directory, FeedPosition Delivered)> lanes, int countUpTo, CancellationToken cancellationToken = default)
    {
        await using var command = Command("""
            SELECT l.directory_id,
                   (SELECT count(*)::int FROM (
                        SELECT 1 FROM change_feed f
                        WHERE f.directory_id = l.directory_id AND (f.directory_id, f.xact, f.ordinal) > (l.directory_id, l.xact, l.ordinal)
                        LIMIT $4) AS waiting),
                   (SELECT f.created_at FROM change_feed f
                    WHERE f.directory_id = l.directory_id AND (f.directory_id, f.xact, f.ordinal) > (l.directory_id, l.xact, l.ordinal)
                    ORDER BY f.directory_id, f.xact, f.ordinal LIMIT 1)
            FROM unnest($1::text[], $2::bigint[], $3::int[]) AS l (directory_id, xact, ordinal)
            """, lanes.Select(l => l.Directory).ToArray(), lanes.Select(l => l.Delivered.Xact).ToArray(),
            lanes.Select(l => l.Delivered.Ordinal).ToArray(), countUpTo);
        var backlog = new Dictionary<string, FeedBacklog>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            backlog[reader.GetString(0)] = new FeedBacklog(reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
        return backlog;
    }

    /// <summary>
    /// Drops a prefix of the feed: every entry up to the newest one older than <paramref name="retention"/>, and moves
    /// the horizon there. Returns how many entries went.
    /// </summary>
    public async Task<int> PurgeAsync(TimeSpan retention, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            WITH cut AS (
                SELECT f.xact, f.ordinal FROM change_feed f WHERE f.created_at < now() - $1
                ORDER BY f.created_at DESC LIMIT 1),
            gone AS (
                DELETE FROM change_feed f USING cut WHERE (f.xact, f.ordinal) <= (cut.xact, cut.ordinal) RETURNING 1),
            moved AS (
                UPDATE change_feed_horizon h SET xact = cut.xact, ordinal = cut.ordinal FROM cut
                WHERE h.only_row AND (cut.xact, cut.ordinal) > (h.xact, h.ordinal) RETURNING 1)
            SELECT count(*)::int FROM gone
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = retention });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private NpgsqlCommand Command(string sql, params object[] values)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }
}
