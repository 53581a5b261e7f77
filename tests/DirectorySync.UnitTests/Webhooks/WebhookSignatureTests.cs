using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DirectorySync.Webhooks;
using Xunit;

namespace DirectorySync.UnitTests.Webhooks;

public sealed class WebhookSignatureTests
{
    // The published vectors from the WorkOS SDKs' suites (shared/workos/signature-vectors/README.md).
    private const string Vector1Secret = "nTqlYkHe6GyqYkmUQWksUWYmQ";
    private const long Vector1Time = 1634310434103;
    private const string Vector1Mac = "0de6f84a9c3dd217973c44dffbcb3fd1225a4ab453e08b608491479ebab382e8";
    private const string Vector2Secret = "2sAZJlbjP8Ce3rwkKEv2GfKef";
    private const long Vector2Time = 1722443701539;
    private const string Vector2Mac = "bd54a3768f461461c8439c2f97ab0d646ef3976f84d5d5b132d18f2fa89cdad5";
    private const string Vector3Mac = "f82f88dd60d5bc8a803686a27f83ce148b8c37c54490c52b77d00d62da891f1b";

    public static TheoryData<string, string, long, string> PublishedVectors => new()
    {
        { "vector1.body", Vector1Secret, Vector1Time, Vector1Mac },
        { "vector2.body", Vector2Secret, Vector2Time, Vector2Mac },
        { "vector3.body", Vector2Secret, Vector2Time, Vector3Mac },
    };

    private static readonly byte[] Vector1Body = Fixture.Bytes("signature-vectors/vector1.body");
    private static readonly string Vector1Header = $"t={Vector1Time}, v1={Vector1Mac}";

    private static WebhookSignature Verifier(long nowMs, TimeSpan? tolerance = null, params string[] secrets) =>
        new(secrets.Length == 0 ? [Vector1Secret] : secrets, FixedClock.AtUnixMs(nowMs), tolerance);

    [Theory]
    [MemberData(nameof(PublishedVectors))]
    public void Published_vector_is_accepted_at_its_own_time(string body, string secret, long time, string mac)
    {
        var check = Verifier(time, secrets: secret).Verify($"t={time}, v1={mac}", Fixture.Bytes($"signature-vectors/{body}"));

        Assert.Equal(SignatureOutcome.Valid, check.Outcome);
        Assert.True(check.IsValid);
    }

    [Theory]
    [MemberData(nameof(PublishedVectors))]
    public void Sign_reproduces_the_published_header(string body, string secret, long time, string mac)
    {
        Assert.Equal($"t={time}, v1={mac}", WebhookSignature.Sign(secret, time, Fixture.Bytes($"signature-vectors/{body}")));
    }

    [Fact]
    public void Each_configured_secret_is_accepted_during_rotation()
    {
        var verifier = Verifier(Vector1Time, secrets: ["retiring_secret_1", Vector1Secret, "next_secret_2"]);

        foreach (var secret in new[] { "retiring_secret_1", Vector1Secret, "next_secret_2" })
        {
            Assert.True(verifier.Verify(WebhookSignature.Sign(secret, Vector1Time, Vector1Body), Vector1Body).IsValid, secret);
        }
    }

    [Fact]
    public void Header_signed_with_another_secret_is_rejected()
    {
        var check = Verifier(Vector1Time, secrets: "this_is_not_it_123").Verify(Vector1Header, Vector1Body);

        Assert.Equal(SignatureOutcome.SignatureMismatch, check.Outcome);
        Assert.False(check.IsValid);
    }

    [Fact]
    public void Signature_older_than_the_tolerance_is_rejected()
    {
        var check = Verifier(Vector1Time + 181_000).Verify(Vector1Header, Vector1Body);

        Assert.Equal(SignatureOutcome.TimestampOutsideTolerance, check.Outcome);
    }

    [Fact]
    public void Signature_dated_beyond_the_tolerance_in_the_future_is_rejected()
    {
        var check = Verifier(Vector1Time - 181_000).Verify(Vector1Header, Vector1Body);

        Assert.Equal(SignatureOutcome.TimestampOutsideTolerance, check.Outcome);
    }

    [Theory]
    [InlineData(180_000, SignatureOutcome.Valid)]
    [InlineData(-180_000, SignatureOutcome.Valid)]
    [InlineData(180_001, SignatureOutcome.TimestampOutsideTolerance)]
    [InlineData(-180_001, SignatureOutcome.TimestampOutsideTolerance)]
    public void Default_tolerance_is_180_seconds_either_way_inclusive(long clockSkewMs, SignatureOutcome expected)
    {
        Assert.Equal(expected, Verifier(Vector1Time + clockSkewMs).Verify(Vector1Header, Vector1Body).Outcome);
    }

    [Fact]
    public void Configured_tolerance_replaces_the_default()
    {
        var verifier = Verifier(Vector1Time + 200_000, TimeSpan.FromMinutes(5));

        Assert.True(verifier.Verify(Vector1Header, Vector1Body).IsValid);
    }

    [Fact]
    public void Zero_tolerance_rejects_a_one_millisecond_skew()
    {
        Assert.True(Verifier(Vector1Time, TimeSpan.Zero).Verify(Vector1Header, Vector1Body).IsValid);
        Assert.Equal(
            SignatureOutcome.TimestampOutsideTolerance,
            Verifier(Vector1Time + 1, TimeSpan.Zero).Verify(Vector1Header, Vector1Body).Outcome);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Request_without_the_header_is_rejected(string? header)
    {
        Assert.Equal(SignatureOutcome.MissingHeader, Verifier(Vector1Time).Verify(header, Vector1Body).Outcome);
    }

    [Fact]
    public void Header_without_t_is_rejected()
    {
        Assert.Equal(SignatureOutcome.MissingTimestamp, Verifier(Vector1Time).Verify($"v1={Vector1Mac}", Vector1Body).Outcome);
    }

    [Fact]
    public void Header_without_v1_is_rejected()
    {
        Assert.Equal(SignatureOutcome.MissingSignature, Verifier(Vector1Time).Verify($"t={Vector1Time}", Vector1Body).Outcome);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("t=, v1=")]
    [InlineData("=1634310434103, v1=0de6")]
    [InlineData("t=yesterday, v1=0de6f84a9c3dd217973c44dffbcb3fd1225a4ab453e08b608491479ebab382e8")]
    [InlineData("t=-1634310434103, v1=0de6f84a9c3dd217973c44dffbcb3fd1225a4ab453e08b608491479ebab382e8")]
    [InlineData("t=99999999999999999999, v1=0de6f84a9c3dd217973c44dffbcb3fd1225a4ab453e08b608491479ebab382e8")]
    [InlineData("t=1634310434103, v1=not-hex")]
    [InlineData("t=1634310434103, v1=0de6f84a")]
    [InlineData("t=1634310434103, t=1634310434103, v1=0de6f84a9c3dd217973c44dffbcb3fd1225a4ab453e08b608491479ebab382e8")]
    public void Malformed_header_is_rejected(string header)
    {
        Assert.Equal(SignatureOutcome.MalformedHeader, Verifier(Vector1Time).Verify(header, Vector1Body).Outcome);
    }

    [Theory]
    [InlineData("t={0},v1={1}")]
    [InlineData("t={0}, v1={1}")]
    [InlineData("  v1={1} ,t={0}")]
    [InlineData("t = {0} ,\tv1 = {1} ,")]
    public void Whitespace_and_order_in_the_header_do_not_matter(string format)
    {
        var header = string.Format(format, Vector1Time, Vector1Mac);

        Assert.True(Verifier(Vector1Time).Verify(header, Vector1Body).IsValid);
    }

    [Fact]
    public void One_matching_v1_among_several_is_enough()
    {
        var stale = WebhookSignature.Sign("retired_secret", Vector1Time, Vector1Body).Split("v1=")[1];

        var check = Verifier(Vector1Time).Verify($"t={Vector1Time}, v1={stale}, v1={Vector1Mac}", Vector1Body);

        Assert.True(check.IsValid);
    }

    [Fact]
    public void Uppercase_hex_is_accepted_because_the_bytes_are_compared()
    {
        Assert.True(Verifier(Vector1Time).Verify($"t={Vector1Time}, v1={Vector1Mac.ToUpperInvariant()}", Vector1Body).IsValid);
    }

    [Fact]
    public void Unknown_signature_schemes_are_skipped()
    {
        Assert.True(Verifier(Vector1Time).Verify($"v0=abc, t={Vector1Time}, v1={Vector1Mac}", Vector1Body).IsValid);
    }

    [Fact]
    public void Timestamp_is_signed_exactly_as_sent()
    {
        // Same instant, different text: the MAC covers the text, so the vector's v1 no longer matches.
        var check = Verifier(Vector1Time).Verify($"t=0{Vector1Time}, v1={Vector1Mac}", Vector1Body);

        Assert.Equal(SignatureOutcome.SignatureMismatch, check.Outcome);
    }

    [Fact]
    public void Reserialised_body_is_rejected()
    {
        var reserialised = Encoding.UTF8.GetBytes(
            JsonNode.Parse(Vector1Body)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        Assert.Equal(SignatureOutcome.SignatureMismatch, Verifier(Vector1Time).Verify(Vector1Header, reserialised).Outcome);
    }

    [Fact]
    public void Body_with_a_byte_order_mark_is_rejected()
    {
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. Vector1Body];

        Assert.Equal(SignatureOutcome.SignatureMismatch, Verifier(Vector1Time).Verify(Vector1Header, withBom).Outcome);
    }

    [Fact]
    public void Body_changed_by_one_byte_is_rejected()
    {
        var tampered = Vector1Body.ToArray();
        tampered[^2] ^= 0x01;

        Assert.Equal(SignatureOutcome.SignatureMismatch, Verifier(Vector1Time).Verify(Vector1Header, tampered).Outcome);
    }

    [Fact]
    public void Rejection_reasons_never_echo_the_secret_or_the_body()
    {
        foreach (var outcome in Enum.GetValues<SignatureOutcome>())
        {
            var reason = new SignatureCheck(outcome).Reason;
            Assert.False(string.IsNullOrWhiteSpace(reason));
            Assert.DoesNotContain(Vector1Secret, reason);
            Assert.DoesNotContain("directory_user", reason);
        }
    }

    [Fact]
    public void Verifier_needs_at_least_one_non_empty_secret()
    {
        Assert.Throws<ArgumentException>(() => new WebhookSignature([], TimeProvider.System));
        Assert.Throws<ArgumentException>(() => new WebhookSignature([Vector1Secret, ""], TimeProvider.System));
    }

    [Theory]
    [InlineData(0, SignatureOutcome.Valid)]
    [InlineData(181_000, SignatureOutcome.TimestampOutsideTolerance)]
    [InlineData(-181_000, SignatureOutcome.TimestampOutsideTolerance)]
    public void Header_alone_is_judged_for_shape_and_time_before_any_body(long clockSkewMs, SignatureOutcome expected) =>
        Assert.Equal(expected, Verifier(Vector1Time + clockSkewMs).ReadHeader(Vector1Header).Check.Outcome);

    [Fact]
    public void Header_read_first_then_checked_against_the_body_gives_the_same_verdict()
    {
        var verifier = Verifier(Vector1Time);
        var header = verifier.ReadHeader(Vector1Header);

        Assert.True(verifier.Verify(header, Vector1Body).IsValid);
        Assert.Equal(SignatureOutcome.SignatureMismatch, verifier.Verify(header, Vector1Body.Append((byte)' ').ToArray()).Outcome);
        Assert.Equal(SignatureOutcome.MissingHeader, verifier.Verify(verifier.ReadHeader(null), Vector1Body).Outcome);
    }
}
