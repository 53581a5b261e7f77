using System.Text;
using DirectorySync.Feed;
using Microsoft.AspNetCore.Http;
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
