using Npgsql;

namespace DirectorySync.Testing;

/// <summary>What tests read back from the mirror.</summary>
public static class MirrorQueries
{
    /// <summary>
    /// Rows a WorkOS directory still has: its directory row, users, groups and memberships, plus its pending cleanup
    /// job. Zero once a deletion is complete.
    /// </summary>
    public static async Task<long> DirectoryRowsAsync(string connectionString, string directoryId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM directories WHERE workos_directory_id = $1)
                 + (SELECT count(*) FROM directory_users u JOIN directories d ON d.id = u.directory_id WHERE d.workos_directory_id = $1)
                 + (SELECT count(*) FROM directory_groups g JOIN directories d ON d.id = g.directory_id WHERE d.workos_directory_id = $1)
                 + (SELECT count(*) FROM directory_group_memberships m JOIN directory_users u ON u.id = m.user_id
                    JOIN directories d ON d.id = u.directory_id WHERE d.workos_directory_id = $1)
                 + (SELECT count(*) FROM directory_cleanups WHERE workos_directory_id = $1)
            """, connection) { Parameters = { new() { Value = directoryId } } };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The first column of the first row <paramref name="sql"/> returns (null without one).</summary>
    public static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
