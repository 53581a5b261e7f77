using System.Text.Json;

namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>Reads fields out of event payloads whatever their generation (FACTS §3), without trusting their shape.</summary>
internal static class PayloadFields
{
    /// <summary>The string at a dotted path (<c>"user.id"</c>), or null when anything on the way is missing or not that.</summary>
    public static string? Text(JsonElement element, string path)
    {
        foreach (var name in path.Split('.'))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }

    /// <summary>The primary address: <c>email</c>, else the primary entry of <c>emails</c>, else of <c>custom_attributes.emails</c>.</summary>
    public static string? PrimaryEmail(JsonElement user) =>
        Text(user, "email")
        ?? PrimaryEntry(user, "emails")
        ?? (user.ValueKind == JsonValueKind.Object && user.TryGetProperty("custom_attributes", out var custom) ? PrimaryEntry(custom, "emails") : null);

    /// <summary>The slugs of <c>roles</c>, or of <c>role</c> alone when the payload has no list.</summary>
    public static IReadOnlyList<string> RoleSlugs(JsonElement user)
    {
        if (user.TryGetProperty("roles", out var roles) && roles.ValueKind == JsonValueKind.Array)
        {
            return [.. roles.EnumerateArray().Select(role => Text(role, "slug")).OfType<string>()];
        }
        return Text(user, "role.slug") is { } slug ? [slug] : [];
    }

    /// <summary>A user's state as the mirror keeps it: legacy <c>suspended</c> (or none at all) is <c>inactive</c>.</summary>
    public static string NormalisedState(string? state) => state is null or "suspended" ? "inactive" : state;

    private static string? PrimaryEntry(JsonElement owner, string arrayName)
    {
        if (owner.ValueKind != JsonValueKind.Object || !owner.TryGetProperty(arrayName, out var entries)
            || entries.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        foreach (var entry in entries.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("primary", out var primary)
                && primary.ValueKind == JsonValueKind.True)
            {
                return Text(entry, "value");
            }
        }
        return null;
    }
}
