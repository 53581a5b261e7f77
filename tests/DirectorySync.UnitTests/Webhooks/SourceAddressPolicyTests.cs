using System.Net;
using DirectorySync.Webhooks;
using Xunit;

namespace DirectorySync.UnitTests.Webhooks;

public sealed class SourceAddressPolicyTests
{
    private const string WorkOSSender = "3.217.146.166";
    private const string Proxy = "10.0.0.5";

    private static SourceAddressPolicy Policy(string? allowed, string trustedProxies = "") => new(
        allowed is null ? null : SourceAddressPolicy.ParseRanges(allowed, "allowed", workOSKeyword: true),
        SourceAddressPolicy.ParseRanges(trustedProxies, "proxies", workOSKeyword: false));

    private static SourceAddressDecision Decide(SourceAddressPolicy policy, string peer, params string?[] forwardedFor) =>
        policy.Decide(IPAddress.Parse(peer), forwardedFor);

    [Fact]
    public void Without_an_allow_list_every_sender_is_allowed_and_forwarded_addresses_are_not_read()
    {
        var decision = Decide(Policy(null, Proxy), Proxy, "not an address");

        Assert.True(decision.IsAllowed);
        Assert.Equal(IPAddress.Parse(Proxy), decision.Sender);
        Assert.False(Policy(null).IsEnabled);
    }

    [Fact]
    public void Workos_keyword_allows_each_published_sender_and_nothing_else()
    {
        var policy = Policy("workos");

        Assert.All(SourceAddressPolicy.WorkOSSenders, sender => Assert.True(policy.Decide(sender, []).IsAllowed));
        Assert.Equal(9, SourceAddressPolicy.WorkOSSenders.Count);
        var stranger = Decide(policy, "3.217.146.167");
        Assert.False(stranger.IsAllowed);
        Assert.Equal("sender address not allowed", stranger.Reason);
    }

    [Theory]
    [InlineData("192.0.2.0/24", "192.0.2.200", true)]
    [InlineData("192.0.2.0/24", "192.0.3.1", false)]
    [InlineData("2001:db8::/32", "2001:db8:1::7", true)]
    [InlineData("2001:db8::/32", "2001:db9::7", false)]
    [InlineData("192.0.2.10", "192.0.2.10", true)]
    [InlineData("192.0.2.10", "192.0.2.11", false)]
    [InlineData("192.0.2.10", "::ffff:192.0.2.10", true)]
    [InlineData("workos, 198.51.100.0/24", "198.51.100.9", true)]
    public void Addresses_and_ranges_in_the_list_are_matched(string allowed, string peer, bool isAllowed) =>
        Assert.Equal(isAllowed, Decide(Policy(allowed), peer).IsAllowed);

    [Fact]
    public void Forwarded_address_is_ignored_when_the_peer_is_not_a_trusted_proxy()
    {
        var decision = Decide(Policy("workos", Proxy), "198.51.100.7", WorkOSSender);

        Assert.False(decision.IsAllowed);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), decision.Sender);
    }

    [Fact]
    public void Behind_a_trusted_proxy_the_forwarded_sender_is_judged()
    {
        var decision = Decide(Policy("workos", Proxy), Proxy, WorkOSSender);

        Assert.True(decision.IsAllowed);
        Assert.Equal(IPAddress.Parse(WorkOSSender), decision.Sender);
    }

    [Fact]
    public void Address_the_client_wrote_left_of_the_real_sender_is_not_believed()
    {
        // The client sent "X-Forwarded-For: <a WorkOS address>"; the proxy appended the address it really came from.
        var decision = Decide(Policy("workos", Proxy), Proxy, $"{WorkOSSender}, 198.51.100.7");

        Assert.False(decision.IsAllowed);
        Assert.Equal(IPAddress.Parse("198.51.100.7"), decision.Sender);
    }

    [Fact]
    public void Chain_of_trusted_proxies_is_walked_to_the_first_untrusted_address()
    {
        var policy = Policy("workos", "10.0.0.0/8");

        Assert.True(Decide(policy, "10.0.0.1", $"198.51.100.7, {WorkOSSender}, 10.0.0.9, 10.0.0.8").IsAllowed);
        Assert.True(Decide(policy, "10.0.0.1", "198.51.100.7", $"{WorkOSSender}, 10.0.0.9").IsAllowed);
        Assert.False(Decide(policy, "10.0.0.1", WorkOSSender, "198.51.100.7").IsAllowed);
    }

    [Theory]
    [InlineData("3.217.146.166:443")]
    [InlineData("[::ffff:3.217.146.166]:443")]
    [InlineData("::ffff:3.217.146.166")]
    public void Forwarded_address_with_a_port_or_in_ipv6_form_is_read(string forwarded) =>
        Assert.True(Decide(Policy("workos", Proxy), Proxy, forwarded).IsAllowed);

    [Fact]
    public void Trusted_proxy_without_a_forwarded_address_is_judged_itself()
    {
        Assert.False(Decide(Policy("workos", Proxy), Proxy).IsAllowed);
        Assert.True(Decide(Policy($"workos, {Proxy}", Proxy), Proxy).IsAllowed);
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("3.217.146.166, garbage")]
    [InlineData("3.217.146.166, _hidden")]
    public void Unreadable_forwarded_address_refuses_the_request(string forwarded)
    {
        var decision = Decide(Policy("workos", Proxy), Proxy, forwarded);

        Assert.False(decision.IsAllowed);
        Assert.Null(decision.Sender);
        Assert.Equal("unreadable X-Forwarded-For", decision.Reason);
    }

    [Fact]
    public void Unknown_peer_is_refused_when_the_list_is_on() =>
        Assert.False(Policy("workos").Decide(null, []).IsAllowed);

    [Theory]
    [InlineData("10.0.0.1/8")]
    [InlineData("10.0.0.0/33")]
    [InlineData("example.com")]
    [InlineData("workos")]
    public void Invalid_trusted_proxy_entry_names_the_setting(string entry)
    {
        var error = Assert.Throws<InvalidOperationException>(() => SourceAddressPolicy.ParseRanges(entry, "Webhooks__TrustedProxies", workOSKeyword: false));

        Assert.Contains("Webhooks__TrustedProxies", error.Message);
        Assert.Contains(entry, error.Message);
    }

    [Fact]
    public void Blank_list_entries_are_skipped() =>
        Assert.Single(SourceAddressPolicy.ParseRanges(" 192.0.2.1 ,, ", "allowed", workOSKeyword: true));
}
