using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace DirectorySync.Storage;

/// <summary>One numbered script from <c>sql/</c>, embedded in this assembly as <c>sql/NNN_name.sql</c>.</summary>
public sealed record SchemaScript(int Version, string Name, string Sql);

/// <summary>
/// Brings a database up to the schema in <c>sql/</c>: applies each script not yet recorded in
/// <c>schema_migrations</c>, in version order, each in its own transaction.
/// </summary>
public sealed partial class SchemaMigrator(ILogger<SchemaMigrator> logger)
{
    // Any fixed number works; it only has to be the same for every process migrating the same database.
    private const long MigrationLockKey = 0x4469_7253_796E_6331; // "DirSync1"

    public SchemaMigrator() : this(NullLogger<SchemaMigrator>.Instance)
    {
    }

    /// <summary>The embedded scripts in the order they are applied.</summary>
    public static IReadOnlyList<SchemaScript> Scripts { get; } = LoadEmbeddedScripts();

    /// <summary>Applies the embedded scripts the database lacks; returns how many it applied.</summary>
    public Task<int> MigrateAsync(string connectionString, CancellationToken cancellationToken) =>
        MigrateAsync(connectionString, Scripts, cancellationToken);

    /// <summary>Applies those of <paramref name="scripts"/> the database lacks, in version order.</summary>
    public async Task<int> MigrateAsync(string connectionString, IEnumerable<SchemaScript> scripts, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);

        // Session-level, so it spans the per-script transactions; silos starting together queue here.
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    int         PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);

            var applied = await AppliedVersionsAsync(connection, cancellationToken);
            var count = 0;
            foreach (var script in scripts.Where(s => !applied.Contains(s.Version)).OrderBy(s => s.Version))
            {
                await ApplyAsync(connection, script, cancellationToken);
                LogApplied(script.Version, script.Name);
                count++;
            }
            return count;
        }
        finally
        {
            // Not cancellable: the lock must go back even when the caller gave up.
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
        }
    }

    private static async Task ApplyAsync(NpgsqlConnection connection, SchemaScript script, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var body = new NpgsqlCommand(script.Sql, connection, transaction))
        {
            await body.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var record = new NpgsqlCommand(
            "INSERT INTO schema_migrations (version, name) VALUES (@version, @name)", connection, transaction))
        {
            record.Parameters.AddWithValue("version", script.Version);
            record.Parameters.AddWithValue("name", script.Name);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<HashSet<int>> AppliedVersionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new HashSet<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt32(0));
        }
        return versions;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static IReadOnlyList<SchemaScript> LoadEmbeddedScripts()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var scripts = new List<SchemaScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ScriptName().Match(resource);
            if (match.Success)
            {
                scripts.Add(new SchemaScript(
                    int.Parse(match.Groups["version"].Value), match.Groups["name"].Value, ReadResource(assembly, resource)));
            }
        }

        var reused = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (reused is not null)
        {
            throw new InvalidOperationException(
                $"Schema version {reused.Key} is used by more than one script: {string.Join(", ", reused.Select(s => s.Name))}.");
        }
        return scripts.OrderBy(s => s.Version).ToArray();
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded script {resource} cannot be read.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^sql/(?<version>\d+)_(?<name>.+)\.sql$")]
    private static partial Regex ScriptName();

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema script {Version} ({Name})")]
    private partial void LogApplied(int version, string name);
}
