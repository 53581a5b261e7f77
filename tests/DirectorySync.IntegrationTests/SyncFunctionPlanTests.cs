using DirectorySync.Testing;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests;

/// <summary>
/// sql/006: a session keeps one plan for the sync functions, and a plan made while the tables were empty (the start of
/// an initial sync) must not scan them whole once they hold thousands of rows. auto_explain reports the plans of the
/// statements inside the function to this session.
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
