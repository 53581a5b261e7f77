using System.Net;
using DirectorySync.Hosting;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class OperationsAccessTests
{
    [Fact]
    public void Without_a_token_everyone_is_admitted()
    {
        var access = new OperationsAccess("  ");

        Assert.False(access.IsTokenRequired);
        Assert.True(access.Admits(null));
    }

    [Theory]
    [InlineData("s3cret-token", true)]
    [InlineData("s3cret-toke", false)]
    [InlineData("s3cret-token ", false)]
    [InlineData("S3CRET-TOKEN", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void With_a_token_only_that_exact_token_is_admitted(string? presented, bool admitted) =>
        Assert.Equal(admitted, new OperationsAccess("s3cret-token").Admits(presented));

    [Theory]
    [InlineData("http://127.0.0.1:8081", false)]
    [InlineData("http://127.0.0.5:8081", false)]
    [InlineData("http://[::1]:8081", false)]
    [InlineData("http://localhost:8081", false)]
    [InlineData("http://0.0.0.0:8081", true)]
    [InlineData("http://[::]:8081", true)]
    [InlineData("http://*:8081", true)]
    [InlineData("http://+:8081", true)]
    [InlineData("https://10.1.2.3:443", true)]
    [InlineData("http://silo.internal:8081", true)]
    public void Listening_address_beyond_loopback_is_recognised(string url, bool beyondLoopback) =>
        Assert.Equal(beyondLoopback, OperationsAccess.ListensBeyondLoopback([url]));

    [Fact]
    public void One_open_address_among_loopback_ones_is_enough() =>
        Assert.True(OperationsAccess.ListensBeyondLoopback(["http://127.0.0.1:8081", "http://0.0.0.0:8082"]));

    private static OperationsAccess From(Dictionary<string, string?> settings) =>
        OperationsAccess.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    [Fact]
    public void A_token_shorter_than_the_minimum_is_refused_by_name_without_echoing_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => From(new() { [OperationsAccess.TokenSetting] = "s3cret-token" }));

        Assert.Contains("Operations__Token", error.Message);
        Assert.DoesNotContain("s3cret-token", error.Message);
        Assert.True(From(new() { [OperationsAccess.TokenSetting] = new string('t', OperationsAccess.MinimumTokenLength) }).IsTokenRequired);
    }

    [Fact]
    public void The_cookie_value_is_derived_from_the_token_and_differs_per_token()
    {
        var token = new string('t', 40);
        var access = new OperationsAccess(token);

        Assert.NotNull(access.CookieValue);
        Assert.DoesNotContain(token, access.CookieValue);
        Assert.Equal(access.CookieValue, new OperationsAccess(token).CookieValue);
        Assert.NotEqual(access.CookieValue, new OperationsAccess(token + "x").CookieValue);
        Assert.True(access.AdmitsCookie(access.CookieValue));
        Assert.False(access.AdmitsCookie(token));
        Assert.False(access.AdmitsCookie(null));
    }

    [Fact]
    public void Invalid_operations_trusted_proxy_is_refused_by_name() =>
        Assert.Contains("Operations__TrustedProxies",
            Assert.Throws<InvalidOperationException>(() => From(new() { [OperationsAccess.TrustedProxiesSetting] = "proxy.internal" })).Message);
}

public sealed class FailedAttemptThrottleTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.9");

    [Fact]
    public void Five_failures_within_a_minute_block_the_client_until_the_minute_is_over()
    {
        var clock = new SteppedClock();
        var throttle = new FailedAttemptThrottle(clock);

        for (var failure = 1; failure < 5; failure++) Assert.False(throttle.RecordFailure(Client));
        Assert.False(throttle.IsBlocked(Client, out _));
        Assert.True(throttle.RecordFailure(Client));
        clock.Now += TimeSpan.FromSeconds(20);

        Assert.True(throttle.IsBlocked(Client, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(40), retryAfter);
        Assert.False(throttle.IsBlocked(IPAddress.Parse("203.0.113.10"), out _));
        clock.Now += TimeSpan.FromSeconds(40);
        Assert.False(throttle.IsBlocked(Client, out _));
    }

    [Fact]
    public void Failures_spread_over_more_than_a_minute_do_not_block()
    {
        var clock = new SteppedClock();
        var throttle = new FailedAttemptThrottle(clock);

        for (var failure = 0; failure < 10; failure++)
        {
            throttle.RecordFailure(Client);
            clock.Now += TimeSpan.FromSeconds(15);
        }

        Assert.False(throttle.IsBlocked(Client, out _));
    }

    [Fact]
    public void Memory_stays_bounded_however_many_addresses_fail()
    {
        var throttle = new FailedAttemptThrottle(new SteppedClock());

        for (var i = 0; i < FailedAttemptThrottle.MaxTracked * 3; i++)
            throttle.RecordFailure(new IPAddress(BitConverter.GetBytes(0x0A000000 + i)));

        Assert.InRange(throttle.Tracked, 1, FailedAttemptThrottle.MaxTracked);
    }
}
