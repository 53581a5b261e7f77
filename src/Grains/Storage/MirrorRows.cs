using System.Buffers;
using System.Text.Json;
using DirectorySync.Events;
using DirectorySync.Sync;

namespace DirectorySync.Storage;

/// <summary>
/// Writes users, groups and directories as JSON arrays of rows (the column names of their tables), so one statement
/// per kind carries a whole flush to Postgres; a pending user or group keeps the same object in <c>sync_pending.data</c>.
/// </summary>
/// <remarks>Shared by every directory grain of a silo, so it keeps no buffer of its own between calls.</remarks>
internal sealed class MirrorRows(RoleMapping roles)
{
    public string Directories(IEnumerable<(SyncEvent Event, EventVersion Version)> rows) => Write(rows, (w, e, v) =>
    {
        var d = e.Directory!;
        w.WriteString("workos_directory_id", d.Id);
        w.WriteString("organization_id", d.OrganizationId);
        w.WriteString("name", d.Name);
        w.WriteString("state", d.State);
        w.WriteString("directory_type", d.Type);
        WriteStrings(w, "domains", d.Domains);
        w.WriteString("external_key", d.ExternalKey);
        WriteTimes(w, d.CreatedAt, d.UpdatedAt);
        WriteVersion(w, v);
    });

    public string Users(IEnumerable<(SyncEvent Event, EventVersion Version)> rows) => Write(rows, (w, e, v) =>
    {
        var u = e.User!;
        w.WriteString("workos_user_id", u.Id);
        w.WriteString("workos_directory_id", u.DirectoryId);
        w.WriteString("organization_id", u.OrganizationId);
        w.WriteString("idp_id", u.IdpId);
        w.WriteString("email", u.Email);
        w.WriteString("first_name", u.FirstName);
        w.WriteString("last_name", u.LastName);
        w.WriteString("username", u.Username);
        w.WriteString("job_title", u.JobTitle);
        w.WriteString("state", u.State);
        WriteStrings(w, "role_slugs", u.RoleSlugs);
        WriteStrings(w, "app_roles", roles.AppRolesFor(u));
        w.WritePropertyName("custom_attributes");
        w.WriteRawValue(u.CustomAttributesJson, skipInputValidation: true);
        w.WritePropertyName("raw_attributes");
        w.WriteRawValue(u.RawAttributesJson, skipInputValidation: true);
        WriteTimes(w, u.CreatedAt, u.UpdatedAt);
        WriteVersion(w, v);
    });

    public string Groups(IEnumerable<(SyncEvent Event, EventVersion Version)> rows) => Write(rows, (w, e, v) =>
    {
        var g = e.Group!;
        w.WriteString("workos_group_id", g.Id);
        w.WriteString("workos_directory_id", g.DirectoryId);
        w.WriteString("organization_id", g.OrganizationId);
        w.WriteString("idp_id", g.IdpId);
        w.WriteString("name", g.Name);
        w.WritePropertyName("raw_attributes");
        w.WriteRawValue(g.RawAttributesJson, skipInputValidation: true);
        WriteTimes(w, g.CreatedAt, g.UpdatedAt);
        WriteVersion(w, v);
    });

    public string Memberships(IEnumerable<(SyncEvent Event, EventVersion Version)> rows) => Write(rows, (w, e, v) =>
    {
        var m = e.Membership!;
        w.WriteString("workos_group_id", m.GroupId);
        w.WriteString("workos_user_id", m.UserId);
        w.WriteString("workos_directory_id", m.DirectoryId);
        WriteVersion(w, v);
    });

    private string Write(IEnumerable<(SyncEvent Event, EventVersion Version)> rows, Action<Utf8JsonWriter, SyncEvent, EventVersion> writeRow)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var (e, v) in rows)
            {
                w.WriteStartObject();
                writeRow(w, e, v);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteVersion(Utf8JsonWriter w, EventVersion v)
    {
        w.WriteString("version_at", Timestamp(v.At));
        w.WriteString("version_event_id", v.EventId);
    }

    /// <summary>WorkOS's own times of the object (null when its payload had none).</summary>
    private static void WriteTimes(Utf8JsonWriter w, DateTimeOffset? createdAt, DateTimeOffset? updatedAt)
    {
        w.WriteString("created_at", createdAt is { } c ? Timestamp(c) : null);
        w.WriteString("updated_at", updatedAt is { } u ? Timestamp(u) : null);
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'");

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }
}
