using DirectorySync.Events;
using DirectorySync.Storage;
using DirectorySync.Sync;
using Npgsql;

namespace DirectorySync.Feed;

/// <summary>
/// The statements a flush adds to write its change feed entries (sql/014), in its own transaction: the leaving entries
/// before any row leaves the mirror, the arriving ones after every row entered it. Each entry's data is its row shaped
/// by the WorkOS REST shapes of sql/012 (a user without its <c>groups</c>: sql/014).
/// </summary>
internal static class ChangeFeedStatements
{
    public static void AddLeaving(NpgsqlBatchCommandCollection commands, string directoryId, ChangeFeedWrites feed) =>
        AddEntries(commands, directoryId, feed.Leaving, firstOrdinal: 0);

    public static void AddArriving(NpgsqlBatchCommandCollection commands, string directoryId, ChangeFeedWrites feed)
    {
        AddEntries(commands, directoryId, feed.Arriving, firstOrdinal: feed.Leaving.Count);
        if (feed.AnnouncedAfterDelete is { } deleted)
        {
            commands.Add(DirectoryStore.Command(Announce, directoryId, feed.Count, deleted.At.UtcDateTime, deleted.EventId));
        }
    }

    private static void AddEntries(NpgsqlBatchCommandCollection commands, string directoryId, IReadOnlyList<FeedEntryWrite> entries, int firstOrdinal)
    {
        if (entries.Count == 0) return;
        commands.Add(DirectoryStore.Command(Record, directoryId,
            Enumerable.Range(firstOrdinal, entries.Count).ToArray(),
            entries.Select(e => ChangeFeedWrites.EventName(e.Event)).ToArray(),
            entries.Select(e => DirectoryStore.KindName(e.Kind)).ToArray(),
            entries.Select(e => e.Id).ToArray(),
            entries.Select(e => e.UserId).ToArray()));
    }

    // Each user and group is shaped once per flush however many entries name it (an initial sync's flush adds several
    // memberships of one user), and an entry whose row is not in the mirror is not written: the feed tells what the
    // mirror shows. Materialized, so nothing is shaped twice (inlined, the filter evaluated the shaping again).
    private const string Record = """
        WITH r AS MATERIALIZED (
            SELECT * FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::text[]) AS r (ordinal, event, kind, id, user_id)),
        users AS MATERIALIZED (
            SELECT u.id AS pk, u.workos_user_id AS id, change_feed_user_json(u) AS data FROM directory_users u
            WHERE u.workos_user_id IN (SELECT r.id FROM r WHERE r.kind = 'user' UNION SELECT r.user_id FROM r WHERE r.kind = 'membership')),
        groups AS MATERIALIZED (
            SELECT g.id AS pk, g.workos_group_id AS id, workos_group_json(g) AS data FROM directory_groups g
            WHERE g.workos_group_id IN (SELECT r.id FROM r WHERE r.kind IN ('group', 'membership'))),
        shaped AS MATERIALIZED (
            SELECT r.ordinal, r.event, CASE r.kind
                WHEN 'directory' THEN (SELECT workos_directory_json(d) FROM directories d WHERE d.workos_directory_id = $1)
                WHEN 'user' THEN (SELECT u.data FROM users u WHERE u.id = r.id)
                WHEN 'group' THEN (SELECT g.data FROM groups g WHERE g.id = r.id)
                ELSE (SELECT change_feed_membership_json($1, u.data, g.data)
                      FROM users u, groups g, directory_group_memberships m
                      WHERE u.id = r.user_id AND g.id = r.id AND m.user_id = u.pk AND m.group_id = g.pk)
                END AS data
            FROM r)
        INSERT INTO change_feed (xact, ordinal, directory_id, event, data)
        SELECT pg_current_xact_id()::text::bigint, s.ordinal, $1, s.event, s.data FROM shaped s WHERE s.data IS NOT NULL
        """;

    // After a deletion older than the directory's newest activation: the directory and everything in it newer than the
    // deletion, as if created again ($3, $4: the deletion's version).
    private const string Announce = """
        INSERT INTO change_feed (xact, ordinal, directory_id, event, data)
        SELECT pg_current_xact_id()::text::bigint, $2 + (row_number() OVER (ORDER BY a.rank, a.key))::integer - 1, $1, a.event, a.data
        FROM (
            SELECT 0 AS rank, '' AS key, 'dsync.activated' AS event, workos_directory_json(d) AS data
            FROM directories d WHERE d.workos_directory_id = $1
            UNION ALL
            SELECT 1, u.workos_user_id, 'dsync.user.created', change_feed_user_json(u)
            FROM directories d JOIN directory_users u ON u.directory_id = d.id
            WHERE d.workos_directory_id = $1 AND sync_newer(u.version_at, u.version_event_id, $3, $4)
            UNION ALL
            SELECT 2, g.workos_group_id, 'dsync.group.created', workos_group_json(g)
            FROM directories d JOIN directory_groups g ON g.directory_id = d.id
            WHERE d.workos_directory_id = $1 AND sync_newer(g.version_at, g.version_event_id, $3, $4)
            UNION ALL
            SELECT 3, g.workos_group_id || '/' || u.workos_user_id, 'dsync.group.user_added',
                   change_feed_membership_json($1, change_feed_user_json(u), workos_group_json(g))
            FROM directories d
            JOIN directory_users u ON u.directory_id = d.id
            JOIN directory_group_memberships m ON m.user_id = u.id
            JOIN directory_groups g ON g.id = m.group_id
            WHERE d.workos_directory_id = $1 AND sync_newer(m.version_at, m.version_event_id, $3, $4)
              AND sync_newer(u.version_at, u.version_event_id, $3, $4) AND sync_newer(g.version_at, g.version_event_id, $3, $4)
        ) AS a
        """;
}
