using Npgsql;

namespace DirectorySync.Feed;

/// <summary>A page of the feed, or why there is none: the position asked for is before the retention horizon, or was never given out.</summary>
/// <remarks><see cref="Horizon"/>: the newest position purged (entries after it are all kept); <see cref="Oldest"/>: the first entry kept.</remarks>
public sealed record FeedPage(IReadOnlyList<FeedEntry> Entries, FeedStatus Status, FeedPosition Horizon, FeedPosition? Oldest);

public enum FeedStatus { Read, Expired, Unknown }

/// <summary>
/// Reads the change feed (sql/014). Only settled entries are served: those of transactions below the reading
/// statement's snapshot xmin, so an entry still to commit always comes after every position already given out.
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
        var last = through ?? new FeedPosition(long.MaxValue, int.MaxValue);
        var from = after ?? FeedPosition.Start;
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            SELECT change_feed_settled_below(), h.xact, h.ordinal,
                   (SELECT f.xact FROM change_feed f ORDER BY f.xact, f.ordinal LIMIT 1),
                   (SELECT f.ordinal FROM change_feed f ORDER BY f.xact, f.ordinal LIMIT 1)
            FROM change_feed_horizon h
            """));
        // Its own horizon check too: a purge between the two statements must not leave a gap unseen.
        batch.BatchCommands.Add(Command($"""
            SELECT f.xact, f.ordinal, f.directory_id, f.event, f.created_at, f.data::text
            FROM change_feed f
            WHERE {(directory is null ? "" : "f.directory_id = $6 AND ")}(f.xact, f.ordinal) > ($1, $2) AND (f.xact, f.ordinal) <= ($3, $4)
              AND f.xact < change_feed_settled_below()
              {(after is null ? "" : "AND ($1, $2) >= (SELECT h.xact, h.ordinal FROM change_feed_horizon h)")}
            ORDER BY f.xact, f.ordinal
            LIMIT $5
            """, directory is null
                ? [from.Xact, from.Ordinal, last.Xact, last.Ordinal, limit]
                : [from.Xact, from.Ordinal, last.Xact, last.Ordinal, limit, directory]));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var settledBelow = reader.GetInt64(0);
        var horizon = new FeedPosition(reader.GetInt64(1), reader.GetInt32(2));
        FeedPosition? oldest = reader.IsDBNull(3) ? null : new FeedPosition(reader.GetInt64(3), reader.GetInt32(4));
        // A position is only given out once its transaction is below xmin, and xmin never goes back.
        if (from.Xact >= settledBelow) return new FeedPage([], FeedStatus.Unknown, horizon, oldest);
        if (from < horizon && after is not null) return new FeedPage([], FeedStatus.Expired, horizon, oldest);

        await reader.NextResultAsync(cancellationToken);
        var entries = new List<FeedEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new FeedEntry(new FeedPosition(reader.GetInt64(0), reader.GetInt32(1)), reader.GetString(2), reader.GetString(3),
                new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero), reader.GetString(5)));
        }
        return new FeedPage(entries, FeedStatus.Read, horizon, oldest);
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
                SELECT h.xact, h.ordinal FROM change_feed_horizon h) AS x
            ORDER BY x.xact DESC, x.ordinal DESC LIMIT 1
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new FeedPosition(reader.GetInt64(0), reader.GetInt32(1));
    }

    /// <summary>
    /// The directories with settled entries of transactions from <paramref name="fromXact"/> on, and the transaction id
    /// below which every entry is settled (where the next look starts).
    /// </summary>
    public async Task<(long SettledBelow, IReadOnlyList<string> Directories)> DirectoriesWithEntriesAsync(
        long fromXact, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT change_feed_settled_below(),
                   array(SELECT DISTINCT f.directory_id FROM change_feed f WHERE f.xact >= $1 AND f.xact < change_feed_settled_below())
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = fromXact });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetFieldValue<string[]>(1));
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
                ORDER BY f.xact DESC, f.ordinal DESC LIMIT 1),
            gone AS (
                DELETE FROM change_feed f USING cut WHERE (f.xact, f.ordinal) <= (cut.xact, cut.ordinal) RETURNING 1),
            moved AS (
                UPDATE change_feed_horizon h SET xact = cut.xact, ordinal = cut.ordinal FROM cut
                WHERE (cut.xact, cut.ordinal) > (h.xact, h.ordinal) RETURNING 1)
            SELECT count(*)::int FROM gone
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = retention });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }
}
