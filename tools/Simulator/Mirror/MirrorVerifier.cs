using Npgsql;

namespace DirectorySync.Simulator.Mirror;

/// <summary>Which columns a comparison covers.</summary>
public enum MirrorColumns
{
    /// <summary>Everything the simulator predicts (schema: sql/003_mirror.sql).</summary>
    All,
    /// <summary>
    /// Only what a mirror with just the recipe's minimum tables also has: no <c>directories.name</c>, no
    /// <c>directory_users.role_slugs</c>. For checking another implementation, such as the benchmark's reference.
    /// </summary>
    Common,
}

/// <summary>
/// Reads the four mirror tables from Postgres (schema: sql/003_mirror.sql), naming rows by WorkOS ids, and compares
/// them with what a history should have produced.
/// </summary>
public static class MirrorVerifier
{
    /// <summary>
    /// The differences between the mirror in <paramref name="connectionString"/>'s database and
    /// <paramref name="expected"/>; empty when they match. With <paramref name="directoryIds"/>, only rows of those
    /// directories are read, so other data in a shared database does not count.
    /// </summary>
    public static async Task<IReadOnlyList<MirrorDifference>> CompareAsync(
        string connectionString,
        MirrorSnapshot expected,
        IReadOnlyCollection<string>? directoryIds = null,
        MirrorColumns columns = MirrorColumns.All,
        CancellationToken cancellationToken = default)
    {
        var actual = await ReadAsync(connectionString, directoryIds, columns, cancellationToken);
        return MirrorSnapshot.Compare(columns == MirrorColumns.All ? expected : expected.CommonColumnsOnly(), actual);
    }

    /// <summary>
    /// Compares until the mirror matches or <paramref name="patience"/> runs out, and returns the last differences:
    /// some effects land after the webhook is acknowledged (a directory deletion is cleaned up in the background).
    /// </summary>
    public static async Task<IReadOnlyList<MirrorDifference>> WaitForMatchAsync(
        string connectionString,
        MirrorSnapshot expected,
        TimeSpan patience,
        IReadOnlyCollection<string>? directoryIds = null,
        MirrorColumns columns = MirrorColumns.All,
        CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var differences = await CompareAsync(connectionString, expected, directoryIds, columns, cancellationToken);
            if (differences.Count == 0 || DateTime.UtcNow >= deadline) return differences;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>
    /// What the mirror holds now (only <paramref name="directoryIds"/>' rows, when given); with
    /// <see cref="MirrorColumns.Common"/>, directory names read as null and role slugs as empty.
    /// </summary>
    public static async Task<MirrorSnapshot> ReadAsync(
        string connectionString,
        IReadOnlyCollection<string>? directoryIds = null,
        MirrorColumns columns = MirrorColumns.All,
        CancellationToken cancellationToken = default)
    {
        var all = columns == MirrorColumns.All;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot of all four tables, so a run still writing cannot show a half-applied change as a difference.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var scope = directoryIds?.ToArray();
        var filter = scope is null ? "" : "WHERE d.workos_directory_id = ANY(@directories)";

        var directories = new Dictionary<string, MirrorDirectory>(StringComparer.Ordinal);
        await ReadRowsAsync(connection, scope,
            $"SELECT d.workos_directory_id, d.organization_id, d.state, d.directory_type, {(all ? "d.name" : "NULL::text")} FROM directories d {filter}",
            row => directories.Add(row.GetString(0),
                new MirrorDirectory(row.GetString(0), Text(row, 1), row.GetString(2), Text(row, 3), Text(row, 4))),
            cancellationToken);

        var users = new Dictionary<string, MirrorUser>(StringComparer.Ordinal);
        await ReadRowsAsync(connection, scope,
            $"""
            SELECT u.workos_user_id, d.workos_directory_id, u.email, u.first_name, u.last_name, u.state,
                   {(all ? "u.role_slugs" : "'{}'::text[]")}
            FROM directory_users u JOIN directories d ON d.id = u.directory_id {filter}
            """,
            row => users.Add(row.GetString(0), new MirrorUser(
                row.GetString(0), row.GetString(1), Text(row, 2), Text(row, 3), Text(row, 4), row.GetString(5),
                row.GetFieldValue<string[]>(6))),
            cancellationToken);

        var groups = new Dictionary<string, MirrorGroup>(StringComparer.Ordinal);
        await ReadRowsAsync(connection, scope,
            $"""
            SELECT g.workos_group_id, d.workos_directory_id, g.name
            FROM directory_groups g JOIN directories d ON d.id = g.directory_id {filter}
            """,
            row => groups.Add(row.GetString(0), new MirrorGroup(row.GetString(0), row.GetString(1), Text(row, 2))),
            cancellationToken);

        var memberships = new HashSet<MirrorMembership>();
        await ReadRowsAsync(connection, scope,
            $"""
            SELECT u.workos_user_id, g.workos_group_id
            FROM directory_group_memberships m
            JOIN directory_users u ON u.id = m.user_id
            JOIN directory_groups g ON g.id = m.group_id
            JOIN directories d ON d.id = u.directory_id {filter}
            """,
            row => memberships.Add(new MirrorMembership(row.GetString(0), row.GetString(1))),
            cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        return new MirrorSnapshot(directories, users, groups, memberships);
    }

    private static async Task ReadRowsAsync(
        NpgsqlConnection connection, string[]? scope, string sql, Action<NpgsqlDataReader> readRow, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (scope is not null)
        {
            command.Parameters.AddWithValue("directories", scope);
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            readRow(reader);
        }
    }

    private static string? Text(NpgsqlDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);
}
