using System.Net;
using DirectorySync.Testing;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The gateway judges a request's <c>WorkOS-Signature</c> header before reading its body, and caps how many bodies it
/// reads for requests not yet verified (<c>Webhooks:MaxPendingBodies</c>, 2 here), over raw TCP.
/// </summary>
public sealed class UnverifiedBodyTests(UnverifiedBodyTests.Fixture fixture) : IClassFixture<UnverifiedBodyTests.Fixture>
{
    private const long AnnouncedBody = 1024 * 1024;
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(1);

    public sealed class Fixture : IAsyncLifetime
    {
        public CapturedLogs Logs { get; } = new();

        public SyncSystem System { get; private set; } = null!;

        public IPEndPoint Gateway => new(IPAddress.Loopback, System.WebhookUrl.Port);

        public async Task InitializeAsync()
        {
            System = await SyncSystem.StartAsync("unverified_bodies", new Dictionary<string, string?> { ["Webhooks:MaxPendingBodies"] = "2" }, Logs);
            // A first webhook builds the endpoint, so the timed requests are not held up behind that on a busy machine.
            var first = await System.SendAsync(Payloads.Activated("event_warm_up", "directory_warm_up", 0));
            if (first.Status != HttpStatusCode.OK) throw new InvalidOperationException($"The warm-up webhook was answered {first}.");
        }

        public async Task DisposeAsync() => await System.DisposeAsync();
    }

    [Theory]
    [InlineData("missing", "missing WorkOS-Signature header")]
    [InlineData("malformed", "malformed WorkOS-Signature header")]
    [InlineData("expired", "signature timestamp outside tolerance")]
    [InlineData("future", "signature timestamp outside tolerance")]
    public async Task A_bad_signature_header_is_refused_before_the_body_is_sent(string header, string reason)
    {
        var line = header switch
        {
            "missing" => "",
            "malformed" => "WorkOS-Signature: t=1, v1=00\r\n",
            "expired" => Payloads.UnverifiedSignatureLine(DateTimeOffset.UtcNow.AddMinutes(-10)),
            _ => Payloads.UnverifiedSignatureLine(DateTimeOffset.UtcNow.AddMinutes(10)),
        };
        using var connection = await RawHttpConnection.OpenAsync(fixture.Gateway, RawHttpConnection.PostHead("/webhooks/workos", line, AnnouncedBody));

        var head = await connection.Head.WaitAsync(AnswerBound);

        Assert.StartsWith("HTTP/1.1 401", head);
        Assert.Contains(fixture.Logs.Entries, entry => entry.Contains($"Webhook rejected: {reason}"));
    }

    [Fact]
    public async Task Past_the_cap_on_unverified_bodies_a_request_is_answered_503_at_once()
    {
        var fresh = Payloads.UnverifiedSignatureLine(DateTimeOffset.UtcNow);
        // Two requests with well-formed, fresh headers whose bodies keep coming, fast enough for Kestrel's minimum
        // rate, until the test ends: both places are taken.
        using var done = new CancellationTokenSource();
        using var first = await RawHttpConnection.OpenAsync(fixture.Gateway, RawHttpConnection.PostHead("/webhooks/workos", fresh, AnnouncedBody));
        using var second = await RawHttpConnection.OpenAsync(fixture.Gateway, RawHttpConnection.PostHead("/webhooks/workos", fresh, AnnouncedBody));
        var stillSending = Task.Delay(Timeout.Infinite, done.Token);
        var occupying = Task.WhenAll(
            first.TrickleAsync(stillSending, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(60), bytesPerWrite: 1024),
            second.TrickleAsync(stillSending, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(60), bytesPerWrite: 1024));

        // The two reach the endpoint a moment after their bytes are written; until then a third is let in and refused for its MAC.
        var head = "";
        var patience = System.Diagnostics.Stopwatch.StartNew();
        while (!head.StartsWith("HTTP/1.1 503") && patience.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var third = await RawHttpConnection.OpenAsync(fixture.Gateway, RawHttpConnection.PostHead("/webhooks/workos", fresh, 2) + "{}");
            head = await third.Head.WaitAsync(AnswerBound);
            if (!head.StartsWith("HTTP/1.1 503")) await Task.Delay(100);
        }
        await done.CancelAsync();
        await occupying;

        Assert.StartsWith("HTTP/1.1 503", head);
        Assert.Contains("Retry-After: 1", head);
        Assert.Contains(fixture.Logs.Entries, entry => entry.Contains("Webhooks__MaxPendingBodies"));

        // Once they are gone, their places are free again for WorkOS.
        first.Dispose();
        second.Dispose();
        var answer = await fixture.System.SendAsync(Payloads.Activated("event_after_cap", "directory_after_cap", 0));
        for (var attempt = 0; attempt < 50 && answer.Status == HttpStatusCode.ServiceUnavailable; attempt++)
        {
            await Task.Delay(100);
            answer = await fixture.System.SendAsync(Payloads.Activated("event_after_cap", "directory_after_cap", 0));
        }
        Assert.Equal((HttpStatusCode.OK, "applied"), answer);
    }
}
