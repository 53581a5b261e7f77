using System.Net;
using System.Text;
using DirectorySync.Webhooks;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>The webhook endpoint's answers over real HTTP, with a real silo and Postgres behind it.</summary>
public sealed class WebhookEndpointTests(WebhookEndpointTests.Fixture fixture) : IClassFixture<WebhookEndpointTests.Fixture>
{
    /// <summary>One running system for the class; each test uses its own event and directory ids.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public SyncSystem System { get; private set; } = null!;

        public HttpClient Http { get; } = new();

        public async Task InitializeAsync() => System = await SyncSystem.StartAsync("webhooks",
            new Dictionary<string, string?> { ["Webhooks:MaxBodyBytes"] = "65536" });

        public async Task DisposeAsync()
        {
            Http.Dispose();
            await System.DisposeAsync();
        }
    }

    private readonly SyncSystem _system = fixture.System;
    private readonly HttpClient _http = fixture.Http;

    private static string Activated(string eventId, string directory) => $$$"""
        {"id":"{{{eventId}}}","event":"dsync.activated","created_at":"2026-11-01T10:00:00.000Z","data":{"object":"directory","id":"{{{directory}}}","organization_id":"org_1","type":"okta scim v2.0","state":"active","name":"Acme","domains":[{"object":"organization_domain","id":"org_domain_1","domain":"acme.test"}],"created_at":"2026-11-01T10:00:00.000Z","updated_at":"2026-11-01T10:00:00.000Z"}}
        """;

    private Task<HttpResponseMessage> PostAsync(string body, string? signature = "valid", DateTimeOffset? signedAt = null, string secret = SyncSystem.Secret)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, _system.WebhookUrl) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json");
        if (signature == "valid")
            signature = WebhookSignature.Sign(secret, (signedAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds(), bytes);
        if (signature is not null) request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
        return _http.SendAsync(request);
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_system.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Signed_event_is_acknowledged_once_it_is_in_the_mirror()
    {
        var response = await PostAsync(Activated("event_a1", "directory_a1"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("applied", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM directories WHERE workos_directory_id = 'directory_a1'"));
    }

    [Fact]
    public async Task Redelivered_event_is_acknowledged_as_a_duplicate()
    {
        await PostAsync(Activated("event_a2", "directory_a2"));
        var again = await PostAsync(Activated("event_a2", "directory_a2"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("duplicate", await again.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("garbage")]
    [InlineData("t=1, v1=00")]
    public async Task Unsigned_or_badly_signed_request_is_refused_and_changes_nothing(string? header)
    {
        var response = await PostAsync(Activated("event_b1", "directory_b1"), header);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM directories WHERE workos_directory_id = 'directory_b1'"));
    }

    [Fact]
    public async Task Request_signed_with_another_secret_is_refused() =>
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(Activated("event_b2", "directory_b2"), secret: "not_the_secret")).StatusCode);

    [Fact]
    public async Task Replayed_request_older_than_the_tolerance_is_refused() =>
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await PostAsync(Activated("event_b3", "directory_b3"), signedAt: DateTimeOffset.UtcNow.AddMinutes(-10))).StatusCode);

    [Fact]
    public async Task Signed_body_that_is_not_an_event_is_a_bad_request() =>
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("[1,2,3]")).StatusCode);

    [Fact]
    public async Task Signed_body_that_is_not_an_event_is_kept_once_however_often_it_is_sent()
    {
        const string body = "{\"kept\": [1, 2, 3";
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(body)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(body)).StatusCode);
        Assert.Equal(2, await CountAsync(
            "SELECT sum(attempts) FROM unreadable_webhooks WHERE convert_from(body, 'UTF8') = '{\"kept\": [1, 2, 3' AND reason LIKE 'body is not readable JSON%'"));
    }

    [Fact]
    public async Task An_event_dated_after_its_signature_is_dead_lettered_and_later_changes_apply()
    {
        var directory = Activated("event_f0", "directory_f1");
        var fromTheFuture = Payloads.UserCreated("event_f1", "user_f1", "directory_f1", 0).Replace("\"created_at\":\"2026-11-01", "\"created_at\":\"2999-11-01");
        Assert.Contains("2999-11-01", fromTheFuture);

        Assert.Equal("applied", await (await PostAsync(directory)).Content.ReadAsStringAsync());
        Assert.Equal("dead_letter", await (await PostAsync(fromTheFuture)).Content.ReadAsStringAsync());
        Assert.Equal("applied", await (await PostAsync(Payloads.UserCreated("event_f2", "user_f1", "directory_f1", 10))).Content.ReadAsStringAsync());
        Assert.Equal("applied", await (await PostAsync(Payloads.UserUpdated("event_f3", "user_f1", "directory_f1", 20))).Content.ReadAsStringAsync());

        Assert.Equal(1, await CountAsync(
            "SELECT count(*) FROM directory_users WHERE workos_user_id = 'user_f1' AND version_event_id = 'event_f3'"));
        Assert.Equal(1, await CountAsync(
            "SELECT count(*) FROM event_log WHERE event_id = 'event_f1' AND outcome = 'dead_letter' AND reason LIKE '%later than its signature%'"));
    }

    [Fact]
    public async Task Unknown_event_type_is_acknowledged_and_ignored()
    {
        var response = await PostAsync("""{"id":"event_c1","event":"dsync.token.rotated","created_at":"2026-11-01T10:00:00Z","data":{}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ignored", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Signed_event_that_cannot_be_applied_is_dead_lettered_and_acknowledged()
    {
        var response = await PostAsync("""{"id":"event_d1","event":"dsync.user.created","created_at":"2026-11-01T10:00:00Z","data":{"directory_id":"directory_x"}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM event_log WHERE event_id = 'event_d1' AND outcome = 'dead_letter' AND reason IS NOT NULL"));
    }

    [Fact]
    public async Task Body_over_the_limit_is_refused_as_too_large()
    {
        var huge = Activated("event_e1", "directory_e1").Replace("\"Acme\"", $"\"{new string('x', 70_000)}\"");
        var refused = await PostAsync(huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        // Answered before the whole body was read: the connection closes, and says so, so the client's next request
        // goes on a new one instead of failing on this one (seen in CI as "the response ended prematurely").
        Assert.True(refused.Headers.ConnectionClose, "the refusal did not close its connection");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(huge)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(Activated($"event_e2_{i}", "directory_e2"))).StatusCode);
        }
    }

    [Fact]
    public async Task Health_endpoints_answer_when_the_cluster_and_database_are_up()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri(_system.GatewayUrl, "/health/live"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri(_system.GatewayUrl, "/health/ready"))).StatusCode);
    }

    [Fact]
    public async Task Metrics_count_webhook_answers()
    {
        await PostAsync(Activated("event_m1", "directory_m1"));
        var metrics = await _http.GetStringAsync(new Uri(_system.GatewayUrl, "/metrics"));
        Assert.Contains("directorysync_webhooks", metrics);
    }
}
