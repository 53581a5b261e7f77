using System.Net;

namespace DirectorySync.Webhooks;

/// <summary>Whether a webhook's sender may post, the address judged to be the sender, and a short reason.</summary>
public readonly record struct SourceAddressDecision(bool IsAllowed, IPAddress? Sender, string Reason);

/// <summary>
/// Which addresses may post webhooks (off when no allow-list is given) and whose <c>X-Forwarded-For</c> is believed.
/// Only a request whose direct peer is a trusted proxy is judged by that header, and then by its right-most address
/// that is not itself a trusted proxy: everything to the left of it was written by the client and proves nothing.
/// </summary>
public sealed class SourceAddressPolicy
{
    /// <summary>In an allow-list, stands for the addresses WorkOS sends webhooks from.</summary>
    public const string WorkOSKeyword = "workos";

    private readonly IReadOnlyList<IPNetwork>? _allowedSenders;
    private readonly IReadOnlyList<IPNetwork> _trustedProxies;

    /// <param name="allowedSenders">Null: every sender is allowed.</param>
    /// <param name="trustedProxies">Proxies in front of the gateway whose <c>X-Forwarded-For</c> is believed.</param>
    public SourceAddressPolicy(IReadOnlyList<IPNetwork>? allowedSenders, IReadOnlyList<IPNetwork> trustedProxies)
    {
        _allowedSenders = allowedSenders;
        _trustedProxies = trustedProxies;
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

        var sender = Normalise(peer);
        if (IsTrustedProxy(sender))
        {
            var hops = forwardedFor
                .SelectMany(line => (line ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .ToArray();
            for (var i = hops.Length - 1; i >= 0; i--)
            {
                // A hop we cannot read hides who is behind it: the sender cannot be known.
                if (!IPEndPoint.TryParse(hops[i], out var hop)) return new(false, null, "unreadable X-Forwarded-For");
                sender = Normalise(hop.Address);
                if (!IsTrustedProxy(sender)) break;
            }
        }

        return _allowedSenders.Any(range => range.Contains(sender))
            ? new(true, sender, "sender is allowed")
            : new(false, sender, "sender address not allowed");
    }

    /// <summary>
    /// Reads a comma-separated list of IP addresses and CIDR ranges; <paramref name="setting"/> names it in the error.
    /// With <paramref name="workOSKeyword"/>, the entry <c>workos</c> stands for <see cref="WorkOSSenders"/>.
    /// </summary>
    public static IReadOnlyList<IPNetwork> ParseRanges(string list, string setting, bool workOSKeyword)
    {
        var ranges = new List<IPNetwork>();
        foreach (var entry in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (workOSKeyword && entry.Equals(WorkOSKeyword, StringComparison.OrdinalIgnoreCase))
                ranges.AddRange(WorkOSSenders.Select(Single));
            else if (IPAddress.TryParse(entry, out var address) && !entry.Contains('/'))
                ranges.Add(Single(Normalise(address)));
            else if (IPNetwork.TryParse(entry, out var range) && HasZeroHostBits(entry, range))
                ranges.Add(range);
            else
                throw new InvalidOperationException(
                    $"Setting {setting} holds '{entry}', which is not an IP address or a CIDR range with zero host bits (like 10.1.0.0/16)"
                    + (workOSKeyword ? $" or '{WorkOSKeyword}'." : "."));
        }
        return ranges;
    }

    // IPNetwork would quietly read 10.0.0.1/8 as 10.0.0.0/8; a host address with a prefix is more likely a typo.
    private static bool HasZeroHostBits(string entry, IPNetwork range) =>
        IPAddress.TryParse(entry.AsSpan(0, entry.IndexOf('/')), out var written) && written.Equals(range.BaseAddress);

    private bool IsTrustedProxy(IPAddress address) => _trustedProxies.Any(range => range.Contains(address));

    private static IPNetwork Single(IPAddress address) => new(address, address.GetAddressBytes().Length * 8);

    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the lists are written in plain IPv4.
    private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
