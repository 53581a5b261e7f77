using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace DirectorySync.Feed;

/// <summary>
/// An outbound endpoint's Standard Webhooks signing key (FACTS §10): <c>whsec_</c> and base64. A message is signed as
/// HMAC-SHA256 of <c>{webhook-id}.{webhook-timestamp}.{body}</c> keyed with the decoded bytes, sent as
/// <c>webhook-signature: v1,&lt;base64&gt;</c>.
/// </summary>
public sealed class WebhookSecret
{
    public const string Prefix = "whsec_";
    public const int MinimumKeyBytes = 24;

    private readonly byte[] _key;

    private WebhookSecret(byte[] key) => _key = key;

    public static bool TryParse(string? text, [NotNullWhen(true)] out WebhookSecret? secret)
    {
        secret = null;
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var key = new byte[text.Length];
        if (!Convert.TryFromBase64String(text[Prefix.Length..], key, out var length) || length < MinimumKeyBytes) return false;
        secret = new WebhookSecret(key[..length]);
        return true;
    }

    /// <summary>The <c>webhook-signature</c> header's value for this message.</summary>
    public string Sign(string messageId, long timestampSeconds, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(Encoding.UTF8.GetBytes($"{messageId}.{timestampSeconds}."));
        hmac.AppendData(body);
        return "v1," + Convert.ToBase64String(hmac.GetHashAndReset());
    }

    /// <summary>Never the key.</summary>
    public override string ToString() => Prefix + "…";
}
