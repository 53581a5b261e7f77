using System.Security.Cryptography;
using System.Text;

namespace DirectorySync.Gateway.ReadApi;

/// <summary>
/// The read API's settings (section <c>ReadApi</c>). Without keys it is not served at all: an open copy of every
/// directory would be a leak, and a half-configured one a surprise.
/// </summary>
public sealed record ReadApiOptions
{
    public const int MinimumKeyLength = 32;

    /// <summary>The bearer keys applications present, as SHA-256 hashes (the keys themselves are not kept).</summary>
    public required IReadOnlyList<byte[]> KeyHashes { get; init; }

    /// <summary>The read API's own connection pool (the Orleans client keeps another, see README).</summary>
    public int MaxConnections { get; init; } = 8;

    public bool IsEnabled => KeyHashes.Count > 0;

    public static ReadApiOptions From(IConfiguration configuration)
    {
        var keys = (configuration["ReadApi:Keys"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keys.FirstOrDefault(k => k.Length < MinimumKeyLength) is { } shortKey)
            throw new InvalidOperationException(
                $"Setting ReadApi__Keys has a key of {shortKey.Length} characters; each must be at least {MinimumKeyLength} (a long random value, e.g. `openssl rand -base64 32`).");
        var maxConnections = configuration["ReadApi:MaxConnections"];
        return new ReadApiOptions
        {
            KeyHashes = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray(),
            MaxConnections = string.IsNullOrEmpty(maxConnections) ? 8
                : int.TryParse(maxConnections, out var n) && n > 0 ? n
                : throw new InvalidOperationException($"Setting ReadApi__MaxConnections must be a positive whole number, not '{maxConnections}'."),
        };
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is one of the keys. Hashes are compared in constant time, every key every
    /// time, so neither a near miss nor which key matched shows in the time taken.
    /// </summary>
    public bool Admits(string? presented)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var admitted = false;
        foreach (var key in KeyHashes) admitted |= CryptographicOperations.FixedTimeEquals(key, hash);
        return admitted;
    }
}
