using DirectorySync.Testing;
using Npgsql;

namespace DirectorySync.FaultTests;

/// <summary>
/// The fault tests' own Postgres server process, never a shared one: a scenario restarts it. The cluster gets a fresh
/// database on it; the silos apply the schema themselves at start, as in production.
/// </summary>
public sealed class PrivatePostgres : IDisposable
{
    private readonly ThrowawayPostgres _server;

    private PrivatePostgres(ThrowawayPostgres server) => _server = server;

    public static async Task<PrivatePostgres> StartAsync() => new(await ThrowawayPostgres.StartAsync());

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        var database = $"{name}_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(_server.AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"""CREATE DATABASE "{database}" """, connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(_server.AdminConnectionString) { Database = database, Pooling = true }.ConnectionString;
    }

    /// <summary><c>pg_ctl stop -m fast</c>: every session is ended and new ones are refused until <see cref="StartAsync()"/>.</summary>
    public Task StopServerAsync() => _server.StopServerAsync();

    public Task StartServerAsync() => _server.StartServerAsync();

    public void Dispose() => _server.Dispose();
}
