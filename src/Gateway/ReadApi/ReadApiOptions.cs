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

    /// <summary>What a user object's deprecated <c>groups</c> holds (FACTS §8): most of a page's cost when embedded.</summary>
    public UserGroups UserGroups { get; init; } = UserGroups.Empty;

    public bool IsEnabled => KeyHashes.Count > 0;

    public static ReadApiOptions From(IConfiguration configuration)
    {
        var keys = (configuration["ReadApi:Keys"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keys.FirstOrDefault(k => k.Length < MinimumKeyLength) is { } shortKey)
            throw new InvalidOperationException(
                $"Setting ReadApi__Keys has a key of {shortKey.Length} characters; each must be at least {MinimumKeyLength} (a long random value, e.g. `openssl rand -base64 32`).");
        var maxConnections = configuration["ReadApi:MaxConnections"];
        var userGroups = configuration["ReadApi:UserGroups"];
        return new ReadApiOptions
        {
            KeyHashes = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray(),
            MaxConnections = string.IsNullOrEmpty(maxConnections) ? 8
                : int.TryParse(maxConnections, out var n) && n > 0 ? n
                : throw new InvalidOperationException($"Setting ReadApi__MaxConnections must be a positive whole number, not '{maxConnections}'."),
            UserGroups = userGroups?.Trim().ToLowerInvariant() switch
            {
                null or "" or "empty" => UserGroups.Empty,
                "embedded" => UserGroups.Embedded,
                _ => throw new InvalidOperationException(
                    $"Setting ReadApi__UserGroups must be 'empty' (users' groups are [], as WorkOS answers for teams created from 2026-05-01) or 'embedded' (each user's current groups), not '{userGroups}'."),
            },
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

/// <summary>
/// What a REST user's <c>groups</c> holds. WorkOS deprecated the field: teams created from 2026-05-01 get <c>[]</c>, older
/// teams each user's groups. An application reads a user's groups with <c>GET /directory_groups?user=</c> either way.
/// </summary>
public enum UserGroups
{
    /// <summary><c>[]</c>, as WorkOS answers teams created from 2026-05-01.</summary>
    Empty,

    /// <summary>The user's groups in the mirror now, as WorkOS answers older teams.</summary>
    Embedded,
}
