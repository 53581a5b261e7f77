using System.Text;
using System.Text.Json;
using DirectorySync.Feed;
using DirectorySync.UnitTests.WorkOS;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using StandardWebhooks;
using Xunit;

namespace DirectorySync.UnitTests;

/// <summary>Feed positions and the outbound webhooks' Standard Webhooks signature.</summary>
public sealed class FeedFormatTests
{
    private const string VectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    [Fact]
    public void Signs_the_standard_webhooks_test_vector()
    {
        Assert.True(WebhookSecret.TryParse(VectorSecret, out var secret));
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            secret.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""u8));
    }

    [Fact]
    public void The_reference_library_verifies_a_message_signed_now()
    {
        Assert.True(WebhookSecret.TryParse(VectorSecret, out var secret));
        const string body = """{"type":"directory_sync.changes","data":{"changes":[]}}""";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var headers = new HeaderDictionary
        {
            ["webhook-id"] = "msg_1",
            ["webhook-timestamp"] = now.ToString(),
            ["webhook-signature"] = secret.Sign("msg_1", now, Encoding.UTF8.GetBytes(body)),
        };
        new StandardWebhook(VectorSecret).Verify(body, headers);
        headers["webhook-signature"] = secret.Sign("msg_1", now, Encoding.UTF8.GetBytes(body + " "));
        Assert.ThrowsAny<Exception>(() => new StandardWebhook(VectorSecret).Verify(body, headers));
    }

    [Fact]
    public async Task A_full_batch_of_large_non_ascii_entries_is_posted_whole_and_verifies()
    {
        // Every entry's data holds 3,000 characters of 2-4 UTF-8 bytes each, unescaped as Postgres writes jsonb as text: the
        // body (about 4.5 MB) is far larger than the sender's first guess, so its buffer grows while the batch is written.
        var text = string.Concat(Enumerable.Repeat("é€😀", 1000));
        var batch = Enumerable.Range(1, 500).Select(i => new FeedEntry(new FeedPosition(7, i), "directory_1", "dsync.user.updated",
            DateTimeOffset.UnixEpoch.AddSeconds(i), $$"""{"id": "directory_user_{{i}}", "first_name": "{{text}}"}""")).ToList();
        (string Body, IHeaderDictionary Headers)? received = null;
        await using var endpoint = await FakeWorkOS.StartAsync(async (context, _) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            received = (await reader.ReadToEndAsync(), new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)));
        });
        Assert.True(WebhookSecret.TryParse(VectorSecret, out var secret));
        using var sender = new WebhookSender(Options.Create(new ChangeFeedOptions()), TimeProvider.System);

        var result = await sender.SendAsync(new Uri(endpoint.BaseUrl), secret, batch, CancellationToken.None);

        Assert.IsType<DeliveryResult.Delivered>(result);
        var (body, headers) = received!.Value;
        Assert.Equal(WebhookSender.MessageId(batch), headers["webhook-id"].ToString());
        new StandardWebhook(VectorSecret).Verify(body, headers);
        var changes = JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("changes");
        Assert.Equal(500, changes.GetArrayLength());
        Assert.All(changes.EnumerateArray(), c => Assert.Equal(text, c.GetProperty("data").GetProperty("first_name").GetString()));
        Assert.Equal("change_" + batch[^1].Position, changes[499].GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    [InlineData("whsec_not base64!")]
    [InlineData("whsec_c2hvcnQ=")]
    [InlineData(null)]
    public void A_secret_that_is_not_whsec_and_base64_of_at_least_24_bytes_is_refused(string? text) =>
        Assert.False(WebhookSecret.TryParse(text, out _));

    [Fact]
    public void Positions_read_back_and_compare_as_text_in_feed_order()
    {
        var positions = new[] { new FeedPosition(9, 70000), new FeedPosition(10, 0), new FeedPosition(10, 1), new FeedPosition(0x1_0000_0000, 2) };
        foreach (var p in positions)
        {
            Assert.True(FeedPosition.TryParse(p.ToString(), out var back));
            Assert.Equal(p, back);
        }
        Assert.Equal(positions.Select(p => p.ToString()), positions.Select(p => p.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(positions, positions.Order());
    }

    [Theory]
    [InlineData("")]
    [InlineData("00000000000000010000000")]
    [InlineData("00000000000000010000000G")]
    [InlineData("00000000000000010000000A")]
    [InlineData("ffffffffffffffff00000000")]
    public void A_malformed_position_is_refused(string text) => Assert.False(FeedPosition.TryParse(text, out _));
}
