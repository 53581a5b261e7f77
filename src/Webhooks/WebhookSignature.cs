using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DirectorySync.WorkOS;

namespace DirectorySync.Webhooks;

/// <summary>
/// Verifies the <c>WorkOS-Signature</c> header (<c>t=&lt;unix ms&gt;, v1=&lt;hex&gt;</c>): v1 is the lowercase hex
/// HMAC-SHA256 of <c>t + "." + raw body</c>, keyed with the UTF-8 bytes of the webhook secret.
/// Several secrets are accepted so one can be rotated without downtime.
/// </summary>
public sealed class WebhookSignature
{
    public const string HeaderName = "WorkOS-Signature";

    internal const int MacLength = HMACSHA256.HashSizeInBytes;

    private readonly byte[][] _keys;
    private readonly TimeProvider _clock;
    private readonly long _toleranceMs;

    public WebhookSignature(IEnumerable<string> secrets, TimeProvider clock, TimeSpan? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(clock);
        var accepted = secrets.ToArray();
        if (accepted.Length == 0 || accepted.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("At least one webhook secret is required, and none may be empty.", nameof(secrets));
        }

        var window = tolerance ?? WorkOSEventParser.DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero, nameof(tolerance));

        // The secret is the key as-is: WorkOS neither base64-decodes it nor strips a prefix.
        _keys = accepted.Select(Encoding.UTF8.GetBytes).ToArray();
        _clock = clock;
        _toleranceMs = (long)window.TotalMilliseconds;
    }

    /// <summary>
    /// Everything that can be judged before the body arrives: the header's presence and shape, and whether its timestamp
    /// is inside the window. The endpoint answers 401 on this alone, without reading a body it would throw away.
    /// </summary>
    public SignatureHeader ReadHeader(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return SignatureHeader.Refused(SignatureOutcome.MissingHeader);
        }

        var parsed = SignatureHeader.Parse(header);
        if (!parsed.Check.IsValid)
        {
            return parsed;
        }

        // Symmetric: a clock running ahead at either end must not open a window for replays.
        return Math.Abs(_clock.GetUtcNow().ToUnixTimeMilliseconds() - parsed.SentAtMs) > _toleranceMs
            ? SignatureHeader.Refused(SignatureOutcome.TimestampOutsideTolerance)
            : parsed;
    }

    /// <summary>Reads the header and checks it against the body: <see cref="ReadHeader"/>, then <see cref="Verify(SignatureHeader, ReadOnlySpan{byte})"/>.</summary>
    public SignatureCheck Verify(string? header, ReadOnlySpan<byte> body) => Verify(ReadHeader(header), body);

    /// <summary>Whether one of the header's <c>v1</c> values is the MAC of the body under one of the secrets.</summary>
    public SignatureCheck Verify(SignatureHeader header, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (!header.Check.IsValid)
        {
            return header.Check;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        foreach (var key in _keys)
        {
            ComputeMac(key, header.Timestamp, body, expected);
            foreach (var presented in header.Macs)
            {
                if (CryptographicOperations.FixedTimeEquals(expected, presented))
                {
                    return new(SignatureOutcome.Valid);
                }
            }
        }

        return new(SignatureOutcome.SignatureMismatch);
    }

    /// <summary>
    /// The header value WorkOS would send for <paramref name="body"/> at <paramref name="timestampMs"/>: used by tests and
    /// by the simulator to sign what they post.
    /// </summary>
    public static string Sign(string secret, long timestampMs, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentOutOfRangeException.ThrowIfNegative(timestampMs);
        var timestamp = timestampMs.ToString(CultureInfo.InvariantCulture);
        Span<byte> mac = stackalloc byte[MacLength];
        ComputeMac(Encoding.UTF8.GetBytes(secret), timestamp, body, mac);
        return $"t={timestamp}, v1={Convert.ToHexStringLower(mac)}";
    }

    private static void ComputeMac(ReadOnlySpan<byte> key, ReadOnlySpan<char> timestamp, ReadOnlySpan<byte> body, Span<byte> mac)
    {
        // The message is the timestamp's ASCII digits, a dot, then the body bytes exactly as received.
        var length = timestamp.Length + 1 + body.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var message = rented.AsSpan(0, length);
            Encoding.ASCII.GetBytes(timestamp, message);
            message[timestamp.Length] = (byte)'.';
            body.CopyTo(message[(timestamp.Length + 1)..]);
            HMACSHA256.HashData(key, message, mac);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
