using Npgsql;

namespace DirectorySync.IntegrationTests;

/// <summary>The four mirror tables of one directory as comparable lines, for asserting what applications would read.</summary>
internal sealed record Mirror(IReadOnlyList<string> Directories, IReadOnlyList<string> Users, IReadOnlyList<string> Groups,
    IReadOnlyList<string> Memberships)
{
    public static async Task<Mirror> ReadAsync(string connectionString, string directory)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return new Mirror(
            await LinesAsync(connection, "SELECT workos_directory_id || ':' || state FROM directories WHERE workos_directory_id = $1", directory),
            await LinesAsync(connection, """
                SELECT u.workos_user_id || ':' || coalesce(u.email, '') || ':' || u.state FROM directory_users u
                JOIN directories d ON d.id = u.directory_id WHERE d.workos_directory_id = $1
                """, directory),
            await LinesAsync(connection, """
                SELECT g.workos_group_id || ':' || coalesce(g.name, '') FROM directory_groups g
                JOIN directories d ON d.id = g.directory_id WHERE d.workos_directory_id = $1
                """, directory),
            await LinesAsync(connection, """
                SELECT g.workos_group_id || '/' || u.workos_user_id FROM directory_group_memberships m
                JOIN directory_users u ON u.id = m.user_id JOIN directory_groups g ON g.id = m.group_id
                JOIN directories d ON d.id = u.directory_id WHERE d.workos_directory_id = $1
                """, directory));
    }

    /// <summary>The same mirror with another directory's ids (the permutation tests give each run its own ids).</summary>
    public Mirror Renamed(string from, string to)
    {
        IReadOnlyList<string> Swap(IReadOnlyList<string> lines) => lines.Select(l => l.Replace(from, to)).Order(StringComparer.Ordinal).ToArray();
        return new Mirror(Swap(Directories), Swap(Users), Swap(Groups), Swap(Memberships));
    }

    public override string ToString() =>
        $"directories [{string.Join(", ", Directories)}] users [{string.Join(", ", Users)}] groups [{string.Join(", ", Groups)}] memberships [{string.Join(", ", Memberships)}]";

    public bool SameAs(Mirror other) => ToString() == other.ToString();

    private static async Task<IReadOnlyList<string>> LinesAsync(NpgsqlConnection connection, string sql, string directory)
    {
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = directory } } };
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }
}
