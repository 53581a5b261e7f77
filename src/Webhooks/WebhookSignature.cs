using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DirectorySync.Webhooks;

/// <summary>
/// Verifies the <c>WorkOS-Signature</c> header (<c>t=&lt;unix ms&gt;, v1=&lt;hex&gt;</c>): v1 is the lowercase hex
/// HMAC-SHA256 of <c>t + "." + raw body</c>, keyed with the UTF-8 bytes of the webhook secret.
/// Several secrets are accepted so one can be rotated without downtime.
/// </summary>
public sealed class WebhookSignature
{
    public const string HeaderName = "WorkOS-Signature";

    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(180);

    private const int MacLength = HMACSHA256.HashSizeInBytes;
    private const int MacHexLength = MacLength * 2;

    // Uppercase is accepted: the bytes are compared, not the text.
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

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

        var window = tolerance ?? DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero, nameof(tolerance));

        // The secret is the key as-is: WorkOS neither base64-decodes it nor strips a prefix.
        _keys = accepted.Select(Encoding.UTF8.GetBytes).ToArray();
        _clock = clock;
        _toleranceMs = (long)window.TotalMilliseconds;
    }

    public SignatureCheck Verify(string? header, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return new(SignatureOutcome.MissingHeader);
        }

        var outcome = ReadHeader(header, out var timestamp, out var sentAtMs);
        if (outcome != SignatureOutcome.Valid)
        {
            return new(outcome);
        }

        // Symmetric: a clock running ahead at either end must not open a window for replays.
        if (Math.Abs(_clock.GetUtcNow().ToUnixTimeMilliseconds() - sentAtMs) > _toleranceMs)
        {
            return new(SignatureOutcome.TimestampOutsideTolerance);
        }

        Span<byte> expected = stackalloc byte[MacLength];
        Span<byte> presented = stackalloc byte[MacLength];
        foreach (var key in _keys)
        {
            ComputeMac(key, timestamp, body, expected);
            foreach (var part in header.AsSpan().Split(','))
            {
                if (TrySplitPart(header.AsSpan()[part], out var name, out var value)
                    && name is "v1"
                    && Convert.FromHexString(value, presented, out _, out _) == OperationStatus.Done
                    && CryptographicOperations.FixedTimeEquals(expected, presented))
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

    /// <summary>Finds the one <c>t</c> and checks every part; the <c>v1</c> values are compared later, per secret.</summary>
    private static SignatureOutcome ReadHeader(ReadOnlySpan<char> header, out ReadOnlySpan<char> timestamp, out long sentAtMs)
    {
        timestamp = default;
        sentAtMs = 0;
        var hasTimestamp = false;
        var hasSignature = false;
        foreach (var part in header.Split(','))
        {
            if (header[part].IsWhiteSpace())
            {
                continue;
            }

            if (!TrySplitPart(header[part], out var name, out var value))
            {
                return SignatureOutcome.MalformedHeader;
            }

            if (name is "t")
            {
                // Digits only, and only once: t is signed exactly as sent, so two of them would be ambiguous.
                if (hasTimestamp || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out sentAtMs))
                {
                    return SignatureOutcome.MalformedHeader;
                }

                timestamp = value;
                hasTimestamp = true;
            }
            else if (name is "v1")
            {
                if (value.Length != MacHexLength || value.ContainsAnyExcept(HexDigits))
                {
                    return SignatureOutcome.MalformedHeader;
                }

                hasSignature = true;
            }

            // Other schemes (a future v2) are skipped, as the WorkOS SDKs do.
        }

        return !hasTimestamp ? SignatureOutcome.MissingTimestamp
            : !hasSignature ? SignatureOutcome.MissingSignature
            : SignatureOutcome.Valid;
    }

    private static bool TrySplitPart(ReadOnlySpan<char> part, out ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        var equals = part.IndexOf('=');
        name = equals > 0 ? part[..equals].Trim() : default;
        value = equals > 0 ? part[(equals + 1)..].Trim() : default;
        return !name.IsEmpty && !value.IsEmpty;
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
