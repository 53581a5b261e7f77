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
/// collection fixture would start a server per collection.
/// A throwaway server is stopped and its files deleted as soon as the process ends, even by a crash (see
/// <see cref="ThrowawayPostgres"/>). On a configured server, which outlives the run, the databases a run created
/// are dropped by the next run started on the same machine.
/// </remarks>
public sealed partial class PostgresServer
{
    // Each database's pool stays small so that parallel test classes, several silos each, fit max_connections.
    private const int PoolSizePerDatabase = 20;

    // Marks a database on a configured server as a test's, with the machine and process that made it.
    private const string TestDatabaseTag = "directorysync-test";

    private readonly Lazy<Task<string>> adminConnectionString;
    private ThrowawayPostgres? throwaway;

    private PostgresServer()
    {
        adminConnectionString = new Lazy<Task<string>>(StartAsync);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => throwaway?.Dispose();
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
            await ExecuteAsync(connection, $"""CREATE DATABASE "{name}" """);
            await ExecuteAsync(connection,
                $"""COMMENT ON DATABASE "{name}" IS '{TestDatabaseTag} {Environment.MachineName} {Environment.ProcessId}'""");
        }

        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true, MaxPoolSize = PoolSizePerDatabase }.ConnectionString;
    }

    private async Task<string> StartAsync()
    {
        var configured = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
        if (string.IsNullOrWhiteSpace(configured))
        {
            throwaway = await ThrowawayPostgres.StartAsync();
            return throwaway.AdminConnectionString;
        }

        // Pooling off: this connection only creates and drops databases.
        var admin = new NpgsqlConnectionStringBuilder(configured) { Pooling = false }.ConnectionString;
        await DropDatabasesOfEndedRunsAsync(admin);
        return admin;
    }

    // Only this machine's runs are judged: a process id means nothing on another machine sharing the server.
    private static async Task DropDatabasesOfEndedRunsAsync(string admin)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();

        var ended = new List<string>();
        await using (var command = new NpgsqlCommand(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE @tag",
            connection))
        {
            command.Parameters.AddWithValue("tag", $"{TestDatabaseTag} {Environment.MachineName} %");
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var creator = reader.GetString(1).Split(' ')[^1];
                if (int.TryParse(creator, out var pid) && !ThrowawayPostgres.IsAlive(pid))
                {
                    ended.Add(reader.GetString(0));
                }
            }
        }

        foreach (var name in ended)
        {
            await ExecuteAsync(connection, $"""DROP DATABASE IF EXISTS "{name}" WITH (FORCE)""");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [GeneratedRegex("[^a-z0-9_]")]
    private static partial Regex Identifier();
}
