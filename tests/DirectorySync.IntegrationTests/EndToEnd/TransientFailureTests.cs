using System.Net;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>When the event cannot be made durable the answer is 503, so WorkOS retries; the retry then succeeds.</summary>
public sealed class TransientFailureTests : IAsyncLifetime
{
    private SyncSystem _system = null!;

    public async Task InitializeAsync() => _system = await SyncSystem.StartAsync("transient",
        new Dictionary<string, string?> { ["Webhooks:ApplyTimeoutSeconds"] = "5" });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    private async Task<HttpStatusCode> PostActivatedAsync(string directory) =>
        (await _system.SendAsync(Payloads.Activated($"event_{directory}", directory, 1))).Status;

    private async Task SetDatabaseAvailableAsync(bool available)
    {
        var database = new NpgsqlConnectionStringBuilder(_system.ConnectionString).Database;
        var admin = new NpgsqlConnectionStringBuilder(_system.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        var sql = available
            ? $"""ALTER DATABASE "{database}" ALLOW_CONNECTIONS true"""
            : $"""ALTER DATABASE "{database}" ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'""";
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Database_outage_answers_503_and_the_retry_after_it_is_applied()
    {
        await SetDatabaseAvailableAsync(false);
        try
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await PostActivatedAsync("directory_outage"));
        }
        finally
        {
            await SetDatabaseAvailableAsync(true);
        }
        Assert.Equal((HttpStatusCode.OK, "applied"), await _system.SendAsync(Payloads.Activated("event_directory_outage", "directory_outage", 1)));
    }

    [Fact]
    public async Task No_silo_answers_503()
    {
        await _system.StopSiloAsync(_system.Silos.Single());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PostActivatedAsync("directory_nosilo"));
    }
}
