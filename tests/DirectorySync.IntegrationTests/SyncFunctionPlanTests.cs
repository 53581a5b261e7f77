using DirectorySync.Testing;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests;

/// <summary>
/// sql/006 and 007: a session keeps one plan for the sync functions, and a plan made while the tables were empty (the
/// start of an initial sync) must not scan them whole once they hold thousands of rows.
/// </summary>
public sealed class SyncFunctionPlanTests
{
    [Fact]
    public async Task A_plan_made_on_empty_tables_still_looks_users_up_by_index_once_there_are_thousands()
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync("plans");
        await using var session = new NpgsqlConnection(database);
        await session.OpenAsync();
        var plans = new List<string>();
        session.Notice += (_, e) => plans.Add(e.Notice.MessageText);
        await ExecuteAsync(session, """
            LOAD 'auto_explain';
            SET auto_explain.log_min_duration = 0;
            SET auto_explain.log_nested_statements = on;
            SET client_min_messages = log;
            """);

        // More calls than Postgres makes custom plans before it settles on a generic one.
        for (var i = 0; i < 8; i++) await ReadStateAsync(session);

        // No ANALYZE: during a burst autovacuum lags behind, and its ANALYZE is what would make Postgres re-plan.
        await using (var filler = new NpgsqlConnection(database))
        {
            await filler.OpenAsync();
            await ExecuteAsync(filler, """
                INSERT INTO directories (workos_directory_id, state, version_at, version_event_id)
                VALUES ('directory_plans', 'active', now(), 'event_0');
                INSERT INTO directory_users (workos_user_id, directory_id, state, version_at, version_event_id)
                SELECT 'user_' || n, d.id, 'active', now(), 'event_' || n
                FROM generate_series(1, 5000) AS n, directories d;
                """);
        }
        plans.Clear();
        await ReadStateAsync(session);

        var usersRead = plans.Where(plan => plan.Contains("directory_users")).ToList();
        Assert.NotEmpty(usersRead);
        Assert.All(usersRead, plan => Assert.DoesNotContain("Seq Scan on directory_users", plan));
    }

    /// <summary>
    /// Plans made on empty tables, then thousands of tombstones, pending memberships and members per group: deciding
    /// and writing one membership and one user must still read a handful of rows, not every row of a kind.
    /// (Measured by the rows the transaction fetched: plans are not what this asserts, work is.)
    /// </summary>
    [Fact]
    public async Task One_membership_and_one_user_read_a_handful_of_rows_whatever_else_the_tables_hold()
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync("plans");
        await using var session = new NpgsqlConnection(database);
        await session.OpenAsync();
        for (var i = 0; i < 8; i++) await ExecuteAsync(session, WriteOneMembershipAndUser);

        await using (var filler = new NpgsqlConnection(database))
        {
            await filler.OpenAsync();
            await ExecuteAsync(filler, """
                INSERT INTO directories (workos_directory_id, state, version_at, version_event_id)
                VALUES ('directory_plans', 'active', now() - interval '1 day', 'event_0');
                INSERT INTO directory_users (workos_user_id, directory_id, state, version_at, version_event_id)
                SELECT 'user_' || n, d.id, 'active', now() - interval '1 day', 'event_' || n
                FROM generate_series(1, 200) AS n, directories d;
                INSERT INTO directory_groups (workos_group_id, directory_id, name, version_at, version_event_id)
                SELECT 'group_' || n, d.id, 'Group ' || n, now() - interval '1 day', 'event_' || n
                FROM generate_series(1, 5) AS n, directories d;
                INSERT INTO directory_group_memberships (user_id, group_id, version_at, version_event_id)
                SELECT u.id, g.id, now() - interval '1 day', 'event_m' FROM directory_users u, directory_groups g;
                INSERT INTO sync_tombstones (object_kind, object_id, directory_id, version_at, version_event_id)
                SELECT kind, 'gone_' || n, 'directory_plans', now() - interval '1 day', 'event_' || n
                FROM generate_series(1, 3000) AS n, unnest(ARRAY['membership', 'user', 'group']) AS kind;
                INSERT INTO sync_pending (object_kind, object_id, directory_id, user_id, group_id, version_at, version_event_id, data)
                SELECT 'membership', 'group_x/waiting_' || n, 'directory_plans', 'waiting_' || n, 'group_x',
                       now() - interval '1 day', 'event_' || n, '{}'
                FROM generate_series(1, 3000) AS n;
                """);
        }

        await using var transaction = await session.BeginTransactionAsync();
        await ExecuteAsync(session, WriteOneMembershipAndUser);
        await using var read = new NpgsqlCommand(
            "SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables", session, transaction);
        var rowsRead = new Dictionary<string, long>();
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) rowsRead[reader.GetString(0)] = reader.GetInt64(1);
        }

        Assert.All(new[] { "sync_tombstones", "sync_pending", "directory_group_memberships", "directory_users" },
            table => Assert.True(rowsRead.GetValueOrDefault(table) < 50,
                $"{table}: {rowsRead.GetValueOrDefault(table)} rows read for one membership and one user"));
    }

    private const string WriteOneMembershipAndUser = """
        SELECT count(*) FROM sync_read_state(
            ARRAY['directory_plans'], ARRAY['user_7'], ARRAY['group_3'], ARRAY['group_3'], ARRAY['user_7']);
        SELECT sync_write_memberships(ARRAY[ROW('group_3', 'user_7', 'directory_plans', now(), 'event_new')::sync_membership_row]);
        SELECT sync_write_users(ARRAY[ROW('user_7', 'directory_plans', NULL, NULL, 'user7@example.com', NULL, NULL, NULL,
            NULL, 'active', NULL, NULL, NULL, NULL, now(), 'event_new')::sync_user_row]);
        """;

    private static async Task ReadStateAsync(NpgsqlConnection session)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM sync_read_state($1, $2, $3, $4, $5)", session)
        {
            Parameters =
            {
                new() { Value = new[] { "directory_plans" } },
                new() { Value = new[] { "user_7", "user_42" } },
                new() { Value = Array.Empty<string>() },
                new() { Value = Array.Empty<string>() },
                new() { Value = Array.Empty<string>() },
            },
        };
        await command.ExecuteScalarAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
