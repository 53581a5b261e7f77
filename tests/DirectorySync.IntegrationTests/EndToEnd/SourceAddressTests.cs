using System.Net;
using System.Text;
using DirectorySync.Webhooks;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The webhook allow-list over real HTTP: <c>workos</c> senders only, with the test client standing in for a trusted
/// proxy on 127.0.0.1 that names the sender in X-Forwarded-For.
/// </summary>
public sealed class SourceAddressTests : IAsyncLifetime
{
    private const string WorkOSSender = "3.217.146.166";

    private readonly CapturedLogs _logs = new();
    private readonly HttpClient _http = new();
    private SyncSystem _system = null!;

    public async Task InitializeAsync() => _system = await SyncSystem.StartAsync("source_addresses", new Dictionary<string, string?>
    {
        ["Webhooks:AllowedSourceIps"] = "workos",
        ["Webhooks:TrustedProxies"] = "127.0.0.1",
    }, _logs);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _system.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Text)> PostAsync(string directory, string? forwardedFor, bool signed = true)
    {
        var body = Encoding.UTF8.GetBytes(Payloads.Activated($"event_{directory}", directory, 0));
        using var request = new HttpRequestMessage(HttpMethod.Post, _system.WebhookUrl) { Content = new ByteArrayContent(body) };
        if (signed)
            request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName,
                WebhookSignature.Sign(SyncSystem.Secret, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), body));
        if (forwardedFor is not null) request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<long> DirectoriesAsync(string directory)
    {
        await using var connection = new NpgsqlConnection(_system.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM directories WHERE workos_directory_id = $1", connection);
        command.Parameters.Add(new() { Value = directory });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task WorkOS_sender_named_by_the_trusted_proxy_is_admitted()
    {
        var (status, text) = await PostAsync("directory_from_workos", WorkOSSender);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("applied", text);
        Assert.Equal(1, await DirectoriesAsync("directory_from_workos"));
    }

    [Theory]
    [InlineData("directory_unnamed", null)]
    [InlineData("directory_other_sender", "198.51.100.7")]
    [InlineData("directory_spoofed", WorkOSSender + ", 198.51.100.7")]
    public async Task Sender_not_on_the_list_is_refused_with_403_and_a_log_line_without_the_body(string directory, string? forwardedFor)
    {
        var (status, text) = await PostAsync(directory, forwardedFor);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("sender address not allowed", text);
        Assert.Equal(0, await DirectoriesAsync(directory));
        var line = Assert.Single(_logs.Entries, entry => entry.Contains("Webhook refused"));
        Assert.Contains("sender address not allowed", line);
        Assert.DoesNotContain(directory, line);
    }

    [Fact]
    public async Task Refusal_comes_before_the_signature_check() =>
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync("directory_unsigned", "198.51.100.7", signed: false)).Status);
}
