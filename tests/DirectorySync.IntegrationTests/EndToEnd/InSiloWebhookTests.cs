using System.Net;
using System.Text;
using DirectorySync.Webhooks;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>With <c>Webhooks__ServeInSilo=true</c> a silo serves the same endpoint itself, with no gateway hop.</summary>
public sealed class InSiloWebhookTests
{
    [Fact]
    public async Task Silo_serving_the_webhook_applies_signed_events_and_refuses_unsigned_ones()
    {
        await using var system = await SyncSystem.StartAsync("in_silo", new Dictionary<string, string?> { ["Webhooks:ServeInSilo"] = "true" });
        var endpoint = new Uri(new Uri(system.Silos.Single().Urls.Single()), "/webhooks/workos");
        var body = Encoding.UTF8.GetBytes(Payloads.Activated("event_in_silo", "directory_in_silo", 1));

        using var unsigned = await system.Http.PostAsync(endpoint, new ByteArrayContent(body));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName,
            WebhookSignature.Sign(SyncSystem.Secret, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), body));
        using var signed = await system.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        Assert.Equal("applied", await signed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Silo_without_the_option_has_no_webhook_endpoint()
    {
        await using var system = await SyncSystem.StartAsync("no_in_silo");
        var endpoint = new Uri(new Uri(system.Silos.Single().Urls.Single()), "/webhooks/workos");
        using var response = await system.Http.PostAsync(endpoint, new ByteArrayContent("{}"u8.ToArray()));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
