using Npgsql;

namespace DirectorySync.IntegrationTests;

/// <summary>A silo's row in orleans_membership, read straight from Postgres.</summary>
public sealed record MembershipRow(string Silo, int Status)
{
    public const int Active = 3;
    public const int Dead = 6;

    public static async Task<MembershipRow[]> ReadAsync(string database, string clusterId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT address || ':' || port || '@' || generation, status
            FROM orleans_membership WHERE deployment_id = @cluster
            """, connection);
        command.Parameters.AddWithValue("cluster", clusterId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<MembershipRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new MembershipRow(reader.GetString(0), reader.GetInt32(1)));
        }
        return [.. rows];
    }
}
