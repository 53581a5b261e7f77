using DirectorySync.Storage;
using DirectorySync.Testing;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests;

public sealed class SchemaMigratorTests
{
    [Fact]
    public void Scripts_are_ordered_by_their_number_starting_with_the_orleans_tables()
    {
        var versions = SchemaMigrator.Scripts.Select(s => s.Version).ToArray();

        Assert.Equal(versions.Order(), versions);
        Assert.Equal(
            [(1, "orleans_clustering"), (2, "orleans_reminders")],
            SchemaMigrator.Scripts.Take(2).Select(s => (s.Version, s.Name)));
    }

    [Fact]
    public async Task Migrating_an_empty_database_applies_every_script_and_records_it()
    {
        var database = await PostgresServer.Shared.CreateEmptyDatabaseAsync("migrate_empty");

        var applied = await new SchemaMigrator().MigrateAsync(database, CancellationToken.None);

        Assert.Equal(SchemaMigrator.Scripts.Count, applied);
        Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Version), await RecordedVersionsAsync(database));
        Assert.True(await TableExistsAsync(database, "orleans_membership"));
        Assert.True(await TableExistsAsync(database, "orleans_reminders"));
        Assert.True(await TableExistsAsync(database, "orleans_grain_state"));
        Assert.True(await TableExistsAsync(database, "directory_users"));
    }

    [Fact]
    public async Task Migrating_a_migrated_database_applies_nothing()
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync("migrate_twice");

        var applied = await new SchemaMigrator().MigrateAsync(database, CancellationToken.None);

        Assert.Equal(0, applied);
        Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Version), await RecordedVersionsAsync(database));
    }

    [Fact]
    public async Task Migrators_racing_on_a_fresh_database_all_succeed_and_apply_each_script_once()
    {
        var database = await PostgresServer.Shared.CreateEmptyDatabaseAsync("migrate_race");
        using var start = new Barrier(4);

        var applied = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return new SchemaMigrator().MigrateAsync(database, CancellationToken.None);
        })));

        Assert.Equal(SchemaMigrator.Scripts.Count, applied.Sum());
        Assert.Equal(SchemaMigrator.Scripts.Select(s => s.Version), await RecordedVersionsAsync(database));
    }

    [Fact]
    public async Task A_failing_script_leaves_no_trace_and_the_scripts_after_it_wait()
    {
        var database = await PostgresServer.Shared.CreateEmptyDatabaseAsync("migrate_failure");
        SchemaScript[] scripts =
        [
            new(1, "good", "CREATE TABLE kept (id int)"),
            new(2, "broken", "CREATE TABLE half_done (id int); SELECT no_such_column FROM half_done"),
            new(3, "later", "CREATE TABLE later (id int)"),
        ];

        await Assert.ThrowsAsync<PostgresException>(() => new SchemaMigrator().MigrateAsync(database, scripts, CancellationToken.None));

        Assert.Equal(new[] { 1 }, await RecordedVersionsAsync(database));
        Assert.True(await TableExistsAsync(database, "kept"));
        Assert.False(await TableExistsAsync(database, "half_done"));
        Assert.False(await TableExistsAsync(database, "later"));
    }

    private static async Task<int[]> RecordedVersionsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version FROM schema_migrations ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }
        return [.. versions];
    }

    private static async Task<bool> TableExistsAsync(string database, string table)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection);
        command.Parameters.AddWithValue("table", table);
        return (bool)(await command.ExecuteScalarAsync())!;
    }
}
