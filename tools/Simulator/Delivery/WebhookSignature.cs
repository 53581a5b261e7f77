using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DirectorySync.Simulator.Delivery;

/// <summary>
/// Signs bodies the way WorkOS does (FACTS §1): <c>WorkOS-Signature: t=&lt;unix ms&gt;, v1=&lt;hex&gt;</c> with
/// v1 = lowercase hex HMAC-SHA256(key = UTF-8 secret, message = t + "." + body bytes). One instance per sender:
/// it reuses its HMAC state, so it is not thread-safe.
/// </summary>
public sealed class WebhookSignature : IDisposable
{
    public const string HeaderName = "WorkOS-Signature";

    private readonly IncrementalHash _hmac;

    public WebhookSignature(string secret) =>
        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));

    /// <summary>The header value for <paramref name="body"/> signed at <paramref name="unixMilliseconds"/>.</summary>
    public string HeaderValue(long unixMilliseconds, ReadOnlySpan<byte> body)
    {
        Span<byte> timestamp = stackalloc byte[20];
        unixMilliseconds.TryFormat(timestamp, out var timestampLength, provider: CultureInfo.InvariantCulture);
        _hmac.AppendData(timestamp[..timestampLength]);
        _hmac.AppendData("."u8);
        _hmac.AppendData(body);
        Span<byte> mac = stackalloc byte[32];
        _hmac.GetHashAndReset(mac);

        // "t=<ms>, v1=<64 hex>" written in place: this runs for every request, at tens of thousands a second.
        Span<char> header = stackalloc char[2 + 20 + 5 + 64];
        "t=".CopyTo(header);
        var length = 2;
        for (var i = 0; i < timestampLength; i++) header[length++] = (char)timestamp[i];
        ", v1=".CopyTo(header[length..]);
        length += 5;
        Convert.TryToHexStringLower(mac, header[length..], out var hexLength);
        return new string(header[..(length + hexLength)]);
    }

    /// <summary>One-off convenience for tests: signs with a fresh HMAC.</summary>
    public static string HeaderValue(string secret, long unixMilliseconds, ReadOnlySpan<byte> body)
    {
        using var signature = new WebhookSignature(secret);
        return signature.HeaderValue(unixMilliseconds, body);
    }

    public void Dispose() => _hmac.Dispose();
}
