using System.Net;
using DirectorySync.IntegrationTests.Grains;
using DirectorySync.Storage;
using DirectorySync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Xunit;
using static DirectorySync.IntegrationTests.EndToEnd.Payloads;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// <c>sql/roles/least_privilege.sql</c> on a migrated database: a silo and a gateway logged in as that role apply every
/// kind of event and keep grain state, and the role can change no schema nor the SQL the silos run.
/// </summary>
public sealed class LeastPrivilegeRoleTests : IAsyncLifetime
{
    private const string ScriptRole = "directorysync_app";

    // Roles are cluster-wide: a name of this run's own, so runs sharing a configured server cannot collide.
    private readonly string _role = $"{ScriptRole}_{Guid.NewGuid():N}"[..40];
    private readonly string _password = Guid.NewGuid().ToString("N");
    private string _ownerConnectionString = null!;
    private string _roleConnectionString = null!;

    public async Task InitializeAsync()
    {
        _ownerConnectionString = await PostgresServer.Shared.CreateDatabaseAsync("least_privilege");
        var script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "sql", "roles", "least_privilege.sql"));
        await ExecuteAsync(_ownerConnectionString, script.Replace(ScriptRole, _role));
        // Twice: an operator re-runs it after each migration.
        await ExecuteAsync(_ownerConnectionString, script.Replace(ScriptRole, _role));
        await ExecuteAsync(_ownerConnectionString, $"ALTER ROLE {_role} PASSWORD '{_password}'");
        _roleConnectionString = new NpgsqlConnectionStringBuilder(_ownerConnectionString) { Username = _role, Password = _password }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(_ownerConnectionString, $"DROP OWNED BY {_role}; DROP ROLE {_role}");
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_ownerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Service_running_as_the_role_applies_every_kind_of_event()
    {
        await using var system = await SyncSystem.StartAsync("least_privilege",
            // Users' groups embedded, so the read below exercises every shaping function the role must be allowed to run.
            new Dictionary<string, string?>
            {
                ["Database:Migrate"] = "false", ["ReadApi:Keys"] = ReadApi.ReadApiTests.Key, ["ReadApi:UserGroups"] = "embedded",
            },
            connectionString: _roleConnectionString);

        Assert.Equal((HttpStatusCode.OK, "applied"), await system.SendAsync(Activated("event_lp1", "dir_lp", 1)));
        Assert.Equal((HttpStatusCode.OK, "applied"), await system.SendAsync(GroupCreated("event_lp2", "grp_lp", "dir_lp", 2)));
        Assert.Equal((HttpStatusCode.OK, "applied"), await system.SendAsync(UserCreated("event_lp3", "usr_lp", "dir_lp", 3)));
        Assert.Equal((HttpStatusCode.OK, "applied"), await system.SendAsync(Added("event_lp4", "grp_lp", "usr_lp", "dir_lp", 4)));
        Assert.Equal((HttpStatusCode.OK, "applied"), await system.SendAsync(UserCreated("event_lp5", "usr_lp_pending", "dir_lp_later", 5)));
        Assert.Equal((HttpStatusCode.OK, "duplicate"), await system.SendAsync(UserCreated("event_lp3", "usr_lp", "dir_lp", 3)));
        Assert.Equal((HttpStatusCode.OK, "dead_letter"), await system.SendAsync(
            """{"id":"event_lp6","event":"dsync.user.created","created_at":"2026-11-01T10:00:00Z","data":{}}"""));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM directory_group_memberships"));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM sync_pending"));
        await ExecuteAsync(_roleConnectionString, "INSERT INTO directory_freshness VALUES ('dir_lp', now())");
        using (var read = new HttpRequestMessage(HttpMethod.Get, new Uri(system.GatewayUrl, "/directory_users?directory=dir_lp")))
        {
            read.Headers.Authorization = new("Bearer", ReadApi.ReadApiTests.Key);
            using var answer = await system.Http.SendAsync(read);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Contains("grp_lp", await answer.Content.ReadAsStringAsync());
            Assert.True(answer.Headers.Contains(Gateway.ReadApi.ReadApi.SyncedAtHeader));
        }

        Assert.Equal((HttpStatusCode.OK, "applied"), await system.SendAsync(DirectoryDeleted("event_lp7", "dir_lp", 10)));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await CountAsync("SELECT count(*) FROM directories") + await CountAsync("SELECT count(*) FROM directory_users") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the deleted directory was not cleaned up");
            await Task.Delay(200);
        }

        // The hourly purge, and the reminders it and the cleanup rely on.
        await system.Silos.Single().Services.GetRequiredService<IGrainFactory>().GetGrain<IMaintenanceGrain>(0).PurgeAsync();
        Assert.True(await CountAsync("SELECT count(*) FROM orleans_reminders") >= 1);
        Assert.Equal(7, await CountAsync("SELECT count(*) FROM event_log"));
    }

    [Fact]
    public async Task Service_running_as_the_role_keeps_grain_state()
    {
        await using var system = await SyncSystem.StartAsync("least_privilege_state",
            new Dictionary<string, string?> { ["Database:Migrate"] = "false" }, connectionString: _roleConnectionString);
        var storage = system.Silos.Single().Services.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name);
        var grain = GrainId.Create("least-privilege", "probe");
        var state = new GrainState<Note>(new Note { Text = "first" });

        await storage.WriteStateAsync("probe", grain, state);
        state.State = new Note { Text = "second" };
        await storage.WriteStateAsync("probe", grain, state);
        await storage.ClearStateAsync("probe", grain, state);
        await storage.ReadStateAsync("probe", grain, state);

        Assert.False(state.RecordExists);
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM orleans_grain_state WHERE payload IS NULL AND version = 3"));
    }

    [Theory]
    [InlineData("CREATE TABLE intruder (id int)")]
    [InlineData("UPDATE OrleansQuery SET QueryText = 'SELECT 1'")]
    [InlineData("INSERT INTO OrleansQuery VALUES ('k', 'SELECT 1')")]
    [InlineData("SELECT count(*) FROM schema_migrations")]
    [InlineData("TRUNCATE event_log")]
    [InlineData("DROP TABLE directory_users")]
    [InlineData("ALTER TABLE directories ADD COLUMN intruder int")]
    [InlineData("CREATE FUNCTION sync_intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'")]
    [InlineData("SELECT setval('orleans_reminder_etags', 1)")]
    public async Task Role_cannot_change_the_schema_or_the_sql_the_silos_run(string sql)
    {
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(_roleConnectionString, sql));

        Assert.True(refused.SqlState is PostgresErrorCodes.InsufficientPrivilege,
            $"{sql}: expected insufficient_privilege, got {refused.SqlState} {refused.MessageText}");
    }
}
