using System.Net;
using System.Text;
using DirectorySync.Webhooks;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The webhook secret and request bodies never reach a log, at any level, whatever a request carries; nor does the
/// secret reach an answer.
/// </summary>
public sealed class SecretsInLogsTests : IAsyncLifetime
{
    // In fields WorkOS documents but no log line should ever need (the ids may be logged: they are how events are traced).
    private const string BodyMarker = "body-marker-5b1e";

    private readonly CapturedLogs _logs = new();
    private readonly HttpClient _http = new();
    private readonly List<string> _bodies = [];
    private readonly List<string> _answers = [];
    private SyncSystem _system = null!;

    public async Task InitializeAsync() => _system = await SyncSystem.StartAsync("secrets_in_logs", new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Trace",
        // The console keeps its usual level; the captured provider gets everything.
        ["Logging:Console:LogLevel:Default"] = "Warning",
        ["Webhooks:MaxBodyBytes"] = "65536",
    }, _logs);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _system.DisposeAsync();
    }

    private static string UserCreated(string eventId, string directory, string firstName) => $$$"""
        {"id":"{{{eventId}}}","event":"dsync.user.created","created_at":"2026-11-01T10:00:01.000Z","data":{"id":"directory_user_{{{eventId}}}","directory_id":"{{{directory}}}","organization_id":"org_1","idp_id":"idp","email":"{{{BodyMarker}}}@acme.test","first_name":"{{{firstName}}}","last_name":"{{{BodyMarker}}}","state":"active","custom_attributes":{"note":"{{{BodyMarker}}}"},"raw_attributes":{} } }
        """;

    private async Task<HttpStatusCode> PostAsync(string body, string? signature, params (string Name, string Value)[] headers)
    {
        _bodies.Add(body);
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, _system.WebhookUrl) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json");
        if (signature is not null) request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await _http.SendAsync(request);
        _answers.Add(await response.Content.ReadAsStringAsync());
        return response.StatusCode;
    }

    private static string Signed(string body, string secret = SyncSystem.Secret) =>
        WebhookSignature.Sign(secret, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Encoding.UTF8.GetBytes(body));

    [Fact]
    public async Task A_signed_body_too_large_to_keep_is_logged_with_its_size_and_signature_time()
    {
        var huge = UserCreated("event_big", "directory_big", new string('x', 70_000));
        var signedAt = DateTimeOffset.UtcNow;
        var signature = WebhookSignature.Sign(SyncSystem.Secret, signedAt.ToUnixTimeMilliseconds(), Encoding.UTF8.GetBytes(huge));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await PostAsync(huge, signature));

        var size = Encoding.UTF8.GetByteCount(huge);
        var line = Assert.Single(_logs.Entries, e => e.Contains("refused (413"));
        Assert.Contains($"Webhook of {size} bytes", line);
        Assert.Contains(DateTimeOffset.FromUnixTimeMilliseconds(signedAt.ToUnixTimeMilliseconds()).ToString("O"), line);
    }

    [Fact]
    public async Task Neither_the_secret_nor_a_body_appears_in_any_log_or_the_secret_in_any_answer()
    {
        const string secret = SyncSystem.Secret;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var activated = Payloads.Activated("event_s0", "directory_s", 0);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(activated, Signed(activated)));
        var good = UserCreated("event_s1", "directory_s", BodyMarker);
        Assert.Equal(HttpStatusCode.OK, await PostAsync(good, Signed(good)));

        var carryingSecret = UserCreated("event_s2", "directory_s", secret);
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(carryingSecret, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(carryingSecret, secret));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(carryingSecret, $"t={now}, v1={secret}"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(carryingSecret, $"t={secret}, v1={new string('0', 64)}"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(carryingSecret, null,
            ("Authorization", $"Bearer {secret}"), ("X-Webhook-Secret", secret), ("Cookie", $"secret={secret}")));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(carryingSecret, Signed(carryingSecret, secret: "not_the_secret")));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(secret, null));

        var notAnEvent = $$"""{"id":"event_s3","event":"{{secret}}"} trailing {{BodyMarker}}""";
        Assert.Equal(HttpStatusCode.BadRequest, await PostAsync(notAnEvent, Signed(notAnEvent)));
        var deadLetter = $$$"""{"id":"event_s4","event":"dsync.user.created","created_at":"2026-11-01T10:00:00Z","data":{"directory_id":"{{{secret}}}","first_name":"{{{BodyMarker}}}"}}""";
        Assert.Equal(HttpStatusCode.OK, await PostAsync(deadLetter, Signed(deadLetter)));
        var wrongType = $$$"""{"id":"event_s5","event":"dsync.user.created","created_at":"2026-11-01T10:00:00Z","data":{"id":"u","directory_id":"d","state":"active","first_name":["{{{secret}}}"]}}""";
        Assert.Equal(HttpStatusCode.OK, await PostAsync(wrongType, Signed(wrongType)));
        var ignored = $$$"""{"id":"event_s6","event":"dsync.token.rotated","created_at":"2026-11-01T10:00:00Z","data":{"secret":"{{{secret}}}"}}""";
        Assert.Equal(HttpStatusCode.OK, await PostAsync(ignored, Signed(ignored)));
        var tooLarge = UserCreated("event_s7", "directory_s", secret + new string('x', 70_000));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await PostAsync(tooLarge, Signed(tooLarge)));

        // The capture saw every level, including the framework's request tracing.
        Assert.Contains(_logs.Entries, entry => entry.StartsWith("Debug Microsoft.AspNetCore"));
        Assert.Contains(_logs.Entries, entry => entry.Contains("Webhook rejected"));
        Assert.All(_answers, answer => Assert.DoesNotContain(secret, answer));
        Assert.All(_logs.Entries, entry =>
        {
            Assert.DoesNotContain(secret, entry);
            Assert.DoesNotContain(BodyMarker, entry);
            Assert.All(_bodies, body => Assert.DoesNotContain(body, entry));
        });
    }
}
