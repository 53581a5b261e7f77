using System.Buffers;
using System.Globalization;

namespace DirectorySync.Webhooks;

/// <summary>
/// A <c>WorkOS-Signature</c> header (<c>t=&lt;unix ms&gt;, v1=&lt;hex&gt;</c>) read once: the one place that decides
/// its syntax. Its shape is judged before the body is read; its <c>v1</c> values are compared with the body's MAC after.
/// </summary>
public sealed class SignatureHeader
{
    private const int MacHexLength = WebhookSignature.MacLength * 2;

    // Uppercase is accepted: the bytes are compared, not the text.
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    private SignatureHeader(SignatureCheck check, string timestamp, long sentAtMs, IReadOnlyList<byte[]> macs)
    {
        Check = check;
        Timestamp = timestamp;
        SentAtMs = sentAtMs;
        Macs = macs;
    }

    /// <summary>Valid while nothing is wrong with the header so far; otherwise why it was refused.</summary>
    public SignatureCheck Check { get; }

    /// <summary><c>t</c> exactly as sent: it is signed as text.</summary>
    internal string Timestamp { get; }

    internal long SentAtMs { get; }

    /// <summary>When WorkOS signed the request (<c>t</c>).</summary>
    public DateTimeOffset SentAt => DateTimeOffset.FromUnixTimeMilliseconds(SentAtMs);

    /// <summary>Every <c>v1</c> value, decoded.</summary>
    internal IReadOnlyList<byte[]> Macs { get; }

    internal static SignatureHeader Refused(SignatureOutcome outcome) => new(new(outcome), "", 0, []);

    /// <summary>Finds the one <c>t</c> and every <c>v1</c>; any unreadable part makes the whole header malformed.</summary>
    internal static SignatureHeader Parse(string header)
    {
        string? timestamp = null;
        long sentAtMs = 0;
        var macs = new List<byte[]>(1);
        var text = header.AsSpan();
        foreach (var part in text.Split(','))
        {
            if (text[part].IsWhiteSpace())
            {
                continue;
            }

            if (!TrySplitPart(text[part], out var name, out var value))
            {
                return Refused(SignatureOutcome.MalformedHeader);
            }

            if (name is "t")
            {
                // Digits only, and only once: t is signed exactly as sent, so two of them would be ambiguous.
                if (timestamp is not null || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out sentAtMs))
                {
                    return Refused(SignatureOutcome.MalformedHeader);
                }

                timestamp = value.ToString();
            }
            else if (name is "v1")
            {
                if (value.Length != MacHexLength || value.ContainsAnyExcept(HexDigits))
                {
                    return Refused(SignatureOutcome.MalformedHeader);
                }

                macs.Add(Convert.FromHexString(value));
            }

            // Other schemes (a future v2) are skipped, as the WorkOS SDKs do.
        }

        return timestamp is null ? Refused(SignatureOutcome.MissingTimestamp)
            : macs.Count == 0 ? Refused(SignatureOutcome.MissingSignature)
            : new(new(SignatureOutcome.Valid), timestamp, sentAtMs, macs);
    }

    private static bool TrySplitPart(ReadOnlySpan<char> part, out ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        var equals = part.IndexOf('=');
        name = equals > 0 ? part[..equals].Trim() : default;
        value = equals > 0 ? part[(equals + 1)..].Trim() : default;
        return !name.IsEmpty && !value.IsEmpty;
    }
}
