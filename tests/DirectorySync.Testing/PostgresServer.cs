using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using DirectorySync.Storage;
using Npgsql;

namespace DirectorySync.Testing;

/// <summary>
/// The Postgres server of a test run, and the place tests get their own databases from.
/// </summary>
/// <remarks>
/// Uses the server named by the <c>ConnectionStrings__Postgres</c> environment variable when it is set; otherwise
/// starts a throwaway server from the installed PostgreSQL binaries on first use.
/// There is one server per test process (<see cref="Shared"/>): xunit 2 has no assembly-wide fixture, and a
/// collection fixture would start a server per collection. It is stopped and its files deleted when the process
/// exits; a run that crashed is cleaned up by the next one.
/// </remarks>
public sealed partial class PostgresServer
{
    // Each database's pool stays small so that parallel test classes, several silos each, fit max_connections.
    private const int PoolSizePerDatabase = 20;

    private readonly Lazy<Task<string>> adminConnectionString;
    private readonly ConcurrentBag<string> createdDatabases = [];
    private ThrowawayPostgres? throwaway;

    private PostgresServer()
    {
        adminConnectionString = new Lazy<Task<string>>(StartAsync);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
    }

    /// <summary>The server every test in this process shares.</summary>
    public static PostgresServer Shared { get; } = new();

    /// <summary>
    /// Creates an empty database with a unique name starting with <paramref name="namePrefix"/>, migrates it to
    /// the schema in <c>sql/</c>, and returns a connection string to it with a bounded pool.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string namePrefix)
    {
        var connectionString = await CreateEmptyDatabaseAsync(namePrefix);
        await new SchemaMigrator().MigrateAsync(connectionString, CancellationToken.None);
        return connectionString;
    }

    /// <summary>Like <see cref="CreateDatabaseAsync"/> but leaves the database empty, for tests of the migrator.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string namePrefix)
    {
        var admin = await adminConnectionString.Value;
        var prefix = Identifier().Replace(namePrefix.ToLowerInvariant(), "_");
        var name = $"{prefix[..Math.Min(prefix.Length, 30)]}_{Guid.NewGuid():N}";

        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"""CREATE DATABASE "{name}" """, connection);
            await command.ExecuteNonQueryAsync();
        }
        createdDatabases.Add(name);

        return new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = PoolSizePerDatabase }.ConnectionString;
    }

    private async Task<string> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            // Pooling off: this connection only creates and drops databases.
            return new NpgsqlConnectionStringBuilder(configured) { Pooling = false }.ConnectionString;
        }

        throwaway = await ThrowawayPostgres.StartAsync();
        return throwaway.AdminConnectionString;
    }

    private void Shutdown()
    {
        if (!adminConnectionString.IsValueCreated)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        if (throwaway is not null)
        {
            throwaway.Dispose();
            return;
        }

        // A server we did not start outlives the run, so the databases made on it go.
        DropCreatedDatabases(adminConnectionString.Value.GetAwaiter().GetResult());
    }

    private void DropCreatedDatabases(string admin)
    {
        using var connection = new NpgsqlConnection(admin);
        connection.Open();
        foreach (var name in createdDatabases)
        {
            using var command = new NpgsqlCommand($"""DROP DATABASE IF EXISTS "{name}" WITH (FORCE)""", connection);
            command.ExecuteNonQuery();
        }
    }

    [GeneratedRegex("[^a-z0-9_]")]
    private static partial Regex Identifier();
}
