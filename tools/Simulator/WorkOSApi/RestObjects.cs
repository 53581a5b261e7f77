using System.Text.Json;

namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>
/// Writes what the REST and Events APIs answer (FACTS §7, §8; shared/workos/examples/rest): objects as their events
/// carried them plus <c>object</c>, lists, and errors. <c>omitId</c> serves a malformed entry for
/// <see cref="ApiFaults.MalformNext"/>.
/// </summary>
internal static class RestObjects
{
    /// <summary>The REST vocabulary of a directory state: <c>active</c> is <c>linked</c>, <c>inactive</c> is <c>unlinked</c>.</summary>
    public static string RestState(string eventState) => eventState switch
    {
        "active" => "linked",
        "inactive" => "unlinked",
        _ => eventState,
    };

    public static void WriteDirectory(Utf8JsonWriter writer, DirectoryView view, bool omitId)
    {
        var directory = view.Directory;
        writer.WriteStartObject();
        writer.WriteString("object"u8, "directory");
        CopyProperties(writer, directory.Json, omitId, "state", "domains");
        writer.WriteString("state"u8, RestState(directory.State));
        if (directory.Domain is not null) writer.WriteString("domain"u8, directory.Domain);
        writer.WriteStartObject("metadata"u8);
        writer.WriteStartObject("users"u8);
        writer.WriteNumber("active"u8, view.ActiveUsers);
        writer.WriteNumber("inactive"u8, view.InactiveUsers);
        writer.WriteEndObject();
        writer.WriteNumber("groups"u8, view.Groups);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static void WriteUser(Utf8JsonWriter writer, UserView view, bool omitId)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "directory_user");
        CopyProperties(writer, view.User.Json, omitId, "groups");
        writer.WriteStartArray("groups"u8);
        foreach (var group in view.Groups)
        {
            WriteGroup(writer, group, omitId: false);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static void WriteGroup(Utf8JsonWriter writer, StoredGroup group, bool omitId)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "directory_group");
        CopyProperties(writer, group.Json, omitId);
        writer.WriteEndObject();
    }

    /// <summary>An event as received, marked <c>object: "event"</c>.</summary>
    public static void WriteEvent(Utf8JsonWriter writer, StoredEvent stored, bool omitId)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "event");
        CopyProperties(writer, stored.Envelope, omitId);
        writer.WriteEndObject();
    }

    /// <summary>
    /// <c>{object: "list", data, list_metadata}</c>; the Events API's metadata has no <c>before</c>. With a
    /// <paramref name="malformation"/>, the middle entry is broken.
    /// </summary>
    public static void WriteList<T>(
        Utf8JsonWriter writer, Page<T> page, Action<Utf8JsonWriter, T, bool> writeItem, MalformedEntry? malformation, bool withBefore)
    {
        var broken = malformation is null ? -1 : page.Items.Count / 2;
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list");
        writer.WriteStartArray("data"u8);
        for (var i = 0; i < page.Items.Count; i++)
        {
            if (i == broken && malformation == MalformedEntry.NotAnObject) writer.WriteStringValue("malformed entry");
            else writeItem(writer, page.Items[i], i == broken);
        }
        writer.WriteEndArray();
        writer.WriteStartObject("list_metadata"u8);
        if (withBefore) writer.WriteString("before"u8, page.Before);
        writer.WriteString("after"u8, page.After);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary><c>{message, code, errors?: [{field, code, message}]}</c>.</summary>
    public static void WriteError(Utf8JsonWriter writer, ApiProblem problem)
    {
        writer.WriteStartObject();
        writer.WriteString("message"u8, problem.Message);
        writer.WriteString("code"u8, problem.Code);
        if (problem.Field is not null)
        {
            writer.WriteStartArray("errors"u8);
            writer.WriteStartObject();
            writer.WriteString("field"u8, problem.Field);
            writer.WriteString("code"u8, problem.Code);
            writer.WriteString("message"u8, problem.Message);
            writer.WriteEndObject();
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    /// <summary>
    /// The source's properties except <c>object</c> (written first by the caller), <c>previous_attributes</c> (an
    /// event's diff, not part of the object) and <paramref name="replaced"/> ones.
    /// </summary>
    private static void CopyProperties(Utf8JsonWriter writer, JsonElement source, bool omitId, params ReadOnlySpan<string> replaced)
    {
        foreach (var property in source.EnumerateObject())
        {
            if (property.NameEquals("object") || property.NameEquals("previous_attributes") || (omitId && property.NameEquals("id")))
            {
                continue;
            }
            var keep = true;
            foreach (var name in replaced)
            {
                keep &= !property.NameEquals(name);
            }
            if (keep) property.WriteTo(writer);
        }
    }
}
