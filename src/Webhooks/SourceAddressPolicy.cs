using System.Net;
using DirectorySync.Hosting;

namespace DirectorySync.Webhooks;

/// <summary>Whether a webhook's sender may post, the address judged to be the sender, and a short reason.</summary>
public readonly record struct SourceAddressDecision(bool IsAllowed, IPAddress? Sender, string Reason);

/// <summary>
/// Which addresses may post webhooks (off when no allow-list is given); behind trusted proxies, the sender is the
/// client <see cref="TrustedProxies"/> finds in <c>X-Forwarded-For</c>.
/// </summary>
public sealed class SourceAddressPolicy
{
    /// <summary>In an allow-list, stands for the addresses WorkOS sends webhooks from.</summary>
    public const string WorkOSKeyword = "workos";

    private readonly IReadOnlyList<IPNetwork>? _allowedSenders;
    private readonly TrustedProxies _trustedProxies;

    /// <param name="allowedSenders">Null: every sender is allowed.</param>
    /// <param name="trustedProxies">Proxies in front of the gateway whose <c>X-Forwarded-For</c> is believed.</param>
    public SourceAddressPolicy(IReadOnlyList<IPNetwork>? allowedSenders, IReadOnlyList<IPNetwork> trustedProxies)
    {
        _allowedSenders = allowedSenders;
        _trustedProxies = new TrustedProxies(trustedProxies);
    }

    /// <summary>The addresses WorkOS publishes as its webhook senders (FACTS §1).</summary>
    public static IReadOnlyList<IPAddress> WorkOSSenders { get; } =
    [
        IPAddress.Parse("3.217.146.166"), IPAddress.Parse("23.21.184.92"), IPAddress.Parse("34.204.154.149"),
        IPAddress.Parse("44.213.245.178"), IPAddress.Parse("44.215.236.82"), IPAddress.Parse("50.16.203.9"),
        IPAddress.Parse("52.1.251.34"), IPAddress.Parse("52.21.49.187"), IPAddress.Parse("174.129.36.47"),
    ];

    public bool IsEnabled => _allowedSenders is not null;

    /// <param name="peer">The address of the direct TCP peer.</param>
    /// <param name="forwardedFor">Every <c>X-Forwarded-For</c> header line, in the order received.</param>
    public SourceAddressDecision Decide(IPAddress? peer, IEnumerable<string?> forwardedFor)
    {
        if (_allowedSenders is null) return new(true, peer, "any sender is allowed");
        if (peer is null) return new(false, null, "sender address unknown");
        if (!_trustedProxies.TryFindClient(peer, forwardedFor, out var sender)) return new(false, null, "unreadable X-Forwarded-For");

        return _allowedSenders.Any(range => range.Contains(sender))
            ? new(true, sender, "sender is allowed")
            : new(false, sender, "sender address not allowed");
    }

    /// <summary>
    /// Reads a comma-separated list of IP addresses and CIDR ranges; <paramref name="setting"/> names it in the error.
    /// With <paramref name="workOSKeyword"/>, the entry <c>workos</c> stands for <see cref="WorkOSSenders"/>.
    /// </summary>
    public static IReadOnlyList<IPNetwork> ParseRanges(string list, string setting, bool workOSKeyword) =>
        TrustedProxies.ParseRanges(list, setting, workOSKeyword ? (WorkOSKeyword, WorkOSSenders) : null);
}
