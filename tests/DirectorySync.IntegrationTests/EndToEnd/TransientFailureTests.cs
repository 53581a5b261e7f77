using System.Net;
using System.Text;
using DirectorySync.Gateway.Webhooks;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>When the event cannot be made durable the answer is 503, so WorkOS retries; the retry then succeeds.</summary>
public sealed class TransientFailureTests : IAsyncLifetime
{
    private SyncSystem _system = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _system = await SyncSystem.StartAsync("transient",
        new Dictionary<string, string?> { ["Webhooks:ApplyTimeoutSeconds"] = "5" });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _system.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostActivatedAsync(string directory)
    {
        var body = Encoding.UTF8.GetBytes($$$"""
            {"id":"event_{{{directory}}}","event":"dsync.activated","created_at":"2026-11-01T10:00:00Z","data":{"id":"{{{directory}}}","organization_id":"org_1","type":"okta scim v2.0","state":"active","name":"Acme","domains":[]}}
            """);
        var request = new HttpRequestMessage(HttpMethod.Post, _system.WebhookUrl) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName,
            WebhookSignature.Sign(SyncSystem.Secret, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), body));
        return _http.SendAsync(request);
    }

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
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await PostActivatedAsync("directory_outage")).StatusCode);
        }
        finally
        {
            await SetDatabaseAvailableAsync(true);
        }
        var retry = await PostActivatedAsync("directory_outage");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal("applied", await retry.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task No_silo_answers_503()
    {
        await _system.StopSiloAsync(_system.Silos.Single());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await PostActivatedAsync("directory_nosilo")).StatusCode);
    }
}
