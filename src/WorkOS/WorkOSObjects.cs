using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text.Json;
using DirectorySync.Events;

namespace DirectorySync.WorkOS;

/// <summary>
/// Reads the objects the WorkOS REST API returns (a directory, a directory user, a directory group) with the rules the
/// events' data is read by: they are the same shapes plus <c>object</c> (and, for users, <c>groups</c>, which is not
/// read: memberships come from listing each group). Never throws; a failure names the field.
/// </summary>
public static class WorkOSObjects
{
    public const string Directory = "directory";
    public const string User = "directory_user";
    public const string Group = "directory_group";

    /// <summary>A directory; its state is normalised (<c>linked</c> is active) in the record and kept as sent beside it.</summary>
    public static bool TryReadDirectory(
        JsonElement json, [NotNullWhen(true)] out WorkOSDirectory? directory, [NotNullWhen(false)] out string? failure)
    {
        directory = null;
        if (!TryCheck(json, Directory, out failure)
            || !WorkOSEventParser.TryReadDirectory(json, Directory, stateIfMissing: null, out var data, out failure))
        {
            return false;
        }

        directory = new WorkOSDirectory(data, WorkOSEventParser.StringIn(json, "state") ?? data.State, ReadCounts(json));
        return true;
    }

    public static bool TryReadUser(JsonElement json, [NotNullWhen(true)] out DirectoryUser? user, [NotNullWhen(false)] out string? failure)
    {
        user = null;
        return TryCheck(json, User, out failure) && WorkOSEventParser.TryReadUser(json, User, out user, out failure);
    }

    public static bool TryReadGroup(JsonElement json, [NotNullWhen(true)] out DirectoryGroup? group, [NotNullWhen(false)] out string? failure)
    {
        group = null;
        return TryCheck(json, Group, out failure) && WorkOSEventParser.TryReadGroup(json, Group, out group, out failure);
    }

    /// <summary>
    /// What a REST object is checked for before its fields are read: an object, no text Postgres cannot store (which also
    /// rules out the lone surrogates reading a string would throw on), and, when it says what it is, the right object.
    /// </summary>
    private static bool TryCheck(JsonElement json, string objectType, [NotNullWhen(false)] out string? failure)
    {
        failure = json.ValueKind != JsonValueKind.Object ? $"{objectType} is not a JSON object"
            : WorkOSEventParser.FindUnstorableText(JsonMarshal.GetRawUtf8Value(json)) is { } unstorable ? unstorable
            : json.TryGetProperty("object", out var kind) && !(kind.ValueKind == JsonValueKind.String && kind.ValueEquals(objectType))
                ? $"{objectType}.object is not \"{objectType}\""
            : null;
        return failure is null;
    }

    /// <summary>Read leniently: the counts only inform the deletion guard, and a directory is not refused over them.</summary>
    private static DirectoryCounts? ReadCounts(JsonElement json)
    {
        if (!json.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var users = metadata.TryGetProperty("users", out var found) ? found : default;
        return new DirectoryCounts(CountIn(users, "active"), CountIn(users, "inactive"), CountIn(metadata, "groups"));
    }

    private static int? CountIn(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.Number
        && value.TryGetInt32(out var count)
        && count >= 0
            ? count
            : null;
}

/// <summary>
/// A directory as the REST API lists it: the record the mirror stores, the state as WorkOS said it (<c>linked</c>,
/// <c>unlinked</c>, …: deletions are only safe in a linked directory), and its counts when WorkOS gave them.
/// </summary>
public sealed record WorkOSDirectory(DirectoryData Directory, string State, DirectoryCounts? Counts);

/// <summary>A REST directory's <c>metadata</c>: how many users (active, inactive) and groups WorkOS holds for it.</summary>
public sealed record DirectoryCounts(int? ActiveUsers, int? InactiveUsers, int? Groups);
