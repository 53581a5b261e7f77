using System.Text.Json;
using DirectorySync.Events;

namespace DirectorySync.Sync;

/// <summary>
/// Turns the identity provider's role slugs (and optionally the values of one custom attribute) into the
/// application's roles (FACTS §6). Names come only from configuration; a slug with no mapping grants nothing.
/// </summary>
public sealed class RoleMapping(IReadOnlyDictionary<string, string[]> rolesBySlug, string? customAttribute)
{
    public static readonly RoleMapping None = new(new Dictionary<string, string[]>(), null);

    public IReadOnlyList<string> AppRolesFor(DirectoryUser user)
    {
        if (rolesBySlug.Count == 0) return [];
        var slugs = customAttribute is null
            ? user.RoleSlugs
            : user.RoleSlugs.Concat(AttributeValues(user.CustomAttributesJson, customAttribute));
        return slugs
            .SelectMany(slug => rolesBySlug.TryGetValue(slug, out var roles) ? roles : [])
            .Distinct(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>A string attribute is one slug, an array of strings several; anything else none.</summary>
    private static string[] AttributeValues(string customAttributesJson, string name)
    {
        using var document = JsonDocument.Parse(customAttributesJson);
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty(name, out var value)) return [];
        return value.ValueKind switch
        {
            JsonValueKind.String => [value.GetString()!],
            JsonValueKind.Array => value.EnumerateArray()
                .Where(item => item.ValueKind == JsonValueKind.String)
                .Select(item => item.GetString()!)
                .ToArray(),
            _ => [],
        };
    }
}
