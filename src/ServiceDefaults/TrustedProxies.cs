using System.Net;
using Microsoft.AspNetCore.Http;

namespace DirectorySync.Hosting;

/// <summary>
/// Proxies in front of a host whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed. Only a request
/// whose direct peer is one of them is judged by those headers, and its client is the right-most forwarded address
/// that is not itself a trusted proxy: everything to the left of it was written by the client and proves nothing.
/// </summary>
public sealed class TrustedProxies(IReadOnlyList<IPNetwork> ranges)
{
    public static TrustedProxies None { get; } = new([]);

    public bool Contains(IPAddress address) => ranges.Any(range => range.Contains(Normalise(address)));

    /// <summary>
    /// The client behind <paramref name="peer"/> (the direct TCP peer): the peer itself unless it is a trusted proxy.
    /// False when a forwarded hop cannot be read: it hides who is behind it.
    /// </summary>
    /// <param name="forwardedFor">Every <c>X-Forwarded-For</c> header line, in the order received.</param>
    public bool TryFindClient(IPAddress peer, IEnumerable<string?> forwardedFor, out IPAddress client)
    {
        client = Normalise(peer);
        if (!Contains(client)) return true;
        var hops = forwardedFor
            .SelectMany(line => (line ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToArray();
        for (var i = hops.Length - 1; i >= 0; i--)
        {
            if (!IPEndPoint.TryParse(hops[i], out var hop)) return false;
            client = Normalise(hop.Address);
            if (!Contains(client)) break;
        }
        return true;
    }

    /// <summary>
    /// Whether the client's own request was HTTPS: this connection is, or a trusted proxy says so. The left-most
    /// <c>X-Forwarded-Proto</c> is the scheme the first proxy saw; a client that writes one fools only itself.
    /// </summary>
    public bool IsOriginallyHttps(HttpContext context) =>
        context.Request.IsHttps
        || (context.Connection.RemoteIpAddress is { } peer && Contains(peer)
            && context.Request.Headers["X-Forwarded-Proto"].ToString().Split(',')[0].Trim().Equals("https", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads a comma-separated list of IP addresses and CIDR ranges; <paramref name="setting"/> names it in the error.
    /// <paramref name="keyword"/>, when given, is an entry that stands for a set of addresses.
    /// </summary>
    public static IReadOnlyList<IPNetwork> ParseRanges(string list, string setting, (string Name, IReadOnlyList<IPAddress> Addresses)? keyword = null)
    {
        var ranges = new List<IPNetwork>();
        foreach (var entry in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (keyword is { } named && entry.Equals(named.Name, StringComparison.OrdinalIgnoreCase))
                ranges.AddRange(named.Addresses.Select(Single));
            else if (IPAddress.TryParse(entry, out var address) && !entry.Contains('/'))
                ranges.Add(Single(Normalise(address)));
            else if (IPNetwork.TryParse(entry, out var range) && HasZeroHostBits(entry, range))
                ranges.Add(range);
            else
                throw new InvalidOperationException(
                    $"Setting {setting} holds '{entry}', which is not an IP address or a CIDR range with zero host bits (like 10.1.0.0/16)"
                    + (keyword is { } expected ? $" or '{expected.Name}'." : "."));
        }
        return ranges;
    }

    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the lists are written in plain IPv4.
    public static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    // IPNetwork would quietly read 10.0.0.1/8 as 10.0.0.0/8; a host address with a prefix is more likely a typo.
    private static bool HasZeroHostBits(string entry, IPNetwork range) =>
        IPAddress.TryParse(entry.AsSpan(0, entry.IndexOf('/')), out var written) && written.Equals(range.BaseAddress);

    private static IPNetwork Single(IPAddress address) => new(address, address.GetAddressBytes().Length * 8);
}
