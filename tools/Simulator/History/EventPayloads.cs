using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace DirectorySync.Simulator.History;

/// <summary>
/// Writes the <c>data</c> of Directory Sync events in the shape WorkOS sends (see shared/workos/examples), for either
/// payload generation. The field layout lives here once, for payloads and for <c>previous_attributes</c> alike.
/// </summary>
internal static class EventPayloads
{
    /// <summary>WorkOS does not escape apostrophes or non-ASCII letters, and neither do we: the receiver must cope.</summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic] private static ArrayBufferWriter<byte>? s_buffer;
    [ThreadStatic] private static Utf8JsonWriter? s_writer;

    /// <summary>Serialises one value on its own (reusing this thread's buffer) and returns a copy of the bytes.</summary>
    public static byte[] Serialise(Action<Utf8JsonWriter> write)
    {
        var buffer = s_buffer ??= new ArrayBufferWriter<byte>(4096);
        var writer = s_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An envelope up to <c>"data":</c>, in WorkOS's key order; the caller writes the data, then <see cref="WriteEnvelopeEnd"/>.</summary>
    public static void WriteEnvelopeStart(Utf8JsonWriter writer, string eventType, string eventId)
    {
        writer.WriteStartObject();
        writer.WriteString("event"u8, eventType);
        writer.WriteString("id"u8, eventId);
        writer.WritePropertyName("data"u8);
    }

    /// <summary>Closes an envelope begun with <see cref="WriteEnvelopeStart"/>: its time and an empty <c>context</c>.</summary>
    public static void WriteEnvelopeEnd(Utf8JsonWriter writer, long createdAtUnixMilliseconds)
    {
        WriteTimestamp(writer, "created_at"u8, createdAtUnixMilliseconds);
        writer.WriteStartObject("context"u8);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static void WriteDirectory(Utf8JsonWriter writer, DirectoryProfile directory, string state, bool activation)
    {
        writer.WriteStartObject();
        writer.WriteString("object"u8, "directory");
        writer.WriteString("id"u8, directory.Id);
        writer.WriteString("organization_id"u8, directory.OrganizationId);
        writer.WriteString("type"u8, directory.Type);
        writer.WriteString("state"u8, state);
        writer.WriteString("name"u8, directory.Name);
        // dsync.deleted carries neither the external key nor the domains (FACTS §3).
        if (activation)
        {
            writer.WriteString("external_key"u8, directory.ExternalKey);
            writer.WriteStartArray("domains"u8);
            writer.WriteStartObject();
            writer.WriteString("object"u8, "organization_domain");
            writer.WriteString("id"u8, directory.DomainId);
            writer.WriteString("domain"u8, directory.Domain);
            writer.WriteEndObject();
            writer.WriteEndArray();
        }
        WriteTimestamp(writer, "created_at"u8, directory.CreatedAtMs);
        WriteTimestamp(writer, "updated_at"u8, directory.CreatedAtMs);
        writer.WriteEndObject();
    }

    public static void WriteGroup(Utf8JsonWriter writer, GroupSnapshot group, PayloadGeneration generation) =>
        WriteGroup(writer, group, generation, previousName: null);

    /// <summary>A group; with <paramref name="previousName"/> it is a rename and gets its <c>previous_attributes</c>.</summary>
    public static void WriteGroup(Utf8JsonWriter writer, GroupSnapshot group, PayloadGeneration generation, string? previousName)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, group.Id);
        writer.WriteString("idp_id"u8, group.IdpId);
        writer.WriteString("directory_id"u8, group.DirectoryId);
        writer.WriteString("organization_id"u8, group.OrganizationId);
        writer.WriteString("name"u8, group.Name);
        WriteTimestamp(writer, "created_at"u8, group.CreatedAtMs);
        WriteTimestamp(writer, "updated_at"u8, group.UpdatedAtMs);
        if (generation == PayloadGeneration.Old)
        {
            writer.WriteStartObject("raw_attributes"u8);
            writer.WriteString("id"u8, group.IdpId);
            writer.WriteString("displayName"u8, group.Name);
            writer.WriteEndObject();
        }
        if (previousName is not null)
        {
            writer.WriteStartObject("previous_attributes"u8);
            writer.WriteString("name"u8, previousName);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    public static void WriteUser(Utf8JsonWriter writer, UserSnapshot user, PayloadGeneration generation) =>
        WriteUser(writer, user, generation, previous: null);

    /// <summary>
    /// A user; with <paramref name="previous"/> it is an update and gets <c>previous_attributes</c>: the shallow diff
    /// of the root and of <c>custom_attributes</c>, old values only, keys that are new shown as null.
    /// </summary>
    public static void WriteUser(Utf8JsonWriter writer, UserSnapshot user, PayloadGeneration generation, UserSnapshot? previous)
    {
        var old = generation == PayloadGeneration.Old;
        writer.WriteStartObject();
        writer.WriteString("id"u8, user.Id);
        writer.WriteString("directory_id"u8, user.DirectoryId);
        writer.WriteString("organization_id"u8, user.OrganizationId);
        writer.WriteString("idp_id"u8, user.IdpId);
        writer.WriteString("email"u8, user.TopLevelEmail);
        writer.WriteString("first_name"u8, user.FirstName);
        writer.WriteString("last_name"u8, user.LastName);
        if (old)
        {
            WriteEmails(writer, user);
            writer.WriteString("username"u8, user.Username);
            writer.WriteString("job_title"u8, user.JobTitle);
        }
        writer.WriteString("state"u8, user.State);
        WriteTimestamp(writer, "created_at"u8, user.CreatedAtMs);
        WriteTimestamp(writer, "updated_at"u8, user.UpdatedAtMs);
        writer.WriteStartObject("custom_attributes"u8);
        WriteCustomAttributes(writer, user, old, user.CustomerAttributeKeys, onlyChangedFrom: null);
        writer.WriteEndObject();
        if (old)
        {
            WriteScimRawAttributes(writer, user);
        }
        else
        {
            writer.WriteStartObject("raw_attributes"u8);
            writer.WriteEndObject();
        }
        WriteRoles(writer, user);
        if (previous is not null)
        {
            writer.WriteStartObject("previous_attributes"u8);
            WritePreviousAttributes(writer, previous, user, old, user.CustomerAttributeKeys);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void WritePreviousAttributes(
        Utf8JsonWriter writer, UserSnapshot before, UserSnapshot after, bool old, IReadOnlyList<string> customerKeys)
    {
        if (before.TopLevelEmail != after.TopLevelEmail) writer.WriteString("email"u8, before.TopLevelEmail);
        if (before.FirstName != after.FirstName) writer.WriteString("first_name"u8, before.FirstName);
        if (before.LastName != after.LastName) writer.WriteString("last_name"u8, before.LastName);
        if (old)
        {
            if (!SameEmails(before, after)) WriteEmails(writer, before);
            if (before.Username != after.Username) writer.WriteString("username"u8, before.Username);
            if (before.JobTitle != after.JobTitle) writer.WriteString("job_title"u8, before.JobTitle);
        }
        if (before.State != after.State) writer.WriteString("state"u8, before.State);
        if (before.PrimaryRole != after.PrimaryRole || before.SecondaryRole != after.SecondaryRole) WriteRoles(writer, before);

        // custom_attributes appears in the diff only when one of its keys changed.
        if (CustomAttributesChanged(before, after, old, customerKeys))
        {
            writer.WriteStartObject("custom_attributes"u8);
            WriteCustomAttributes(writer, before, old, customerKeys, onlyChangedFrom: after);
            writer.WriteEndObject();
        }
    }

    private static bool CustomAttributesChanged(UserSnapshot before, UserSnapshot after, bool old, IReadOnlyList<string> customerKeys) =>
        (!old && (!SameEmails(before, after) || before.Username != after.Username || before.JobTitle != after.JobTitle))
        || before.Department != after.Department
        || before.ManagerEmail != after.ManagerEmail
        || before.EmployeeNumber != after.EmployeeNumber
        || !before.CustomerAttributes.SequenceEqual(after.CustomerAttributes);

    /// <summary>
    /// Writes the custom attributes of <paramref name="user"/>; with <paramref name="onlyChangedFrom"/>, only those
    /// whose value differs there (for <c>previous_attributes</c>, where a key the user did not have is written as null).
    /// </summary>
    private static void WriteCustomAttributes(
        Utf8JsonWriter writer, UserSnapshot user, bool old, IReadOnlyList<string> customerKeys, UserSnapshot? onlyChangedFrom)
    {
        var diff = onlyChangedFrom is not null;
        if (!old)
        {
            if (!diff || !SameEmails(user, onlyChangedFrom!)) WriteEmails(writer, user);
            if (!diff || user.Username != onlyChangedFrom!.Username) writer.WriteString("username"u8, user.Username);
            if (!diff || user.JobTitle != onlyChangedFrom!.JobTitle) WriteOptional(writer, "job_title", user.JobTitle, diff);
        }
        if (!diff || user.Department != onlyChangedFrom!.Department) WriteOptional(writer, "department", user.Department, diff);
        if (!diff || user.ManagerEmail != onlyChangedFrom!.ManagerEmail) WriteOptional(writer, "manager_email", user.ManagerEmail, diff);
        if (!diff || user.EmployeeNumber != onlyChangedFrom!.EmployeeNumber) writer.WriteString("employee_number"u8, user.EmployeeNumber);
        for (var i = 0; i < customerKeys.Count; i++)
        {
            var value = user.CustomerAttributes[i];
            if (!diff || value != onlyChangedFrom!.CustomerAttributes[i])
            {
                WriteOptional(writer, customerKeys[i], value, diff);
            }
        }
    }

    /// <summary>An attribute the user does not have is absent from a payload, but null in a diff ("new key").</summary>
    private static void WriteOptional(Utf8JsonWriter writer, ReadOnlySpan<char> key, string? value, bool writeNull)
    {
        if (value is not null) writer.WriteString(key, value);
        else if (writeNull) writer.WriteNull(key);
    }

    private static bool SameEmails(UserSnapshot a, UserSnapshot b) =>
        a.WorkEmail == b.WorkEmail && a.PersonalEmail == b.PersonalEmail && a.PrimaryEmailOnlyInList == b.PrimaryEmailOnlyInList;

    private static void WriteEmails(Utf8JsonWriter writer, UserSnapshot user)
    {
        writer.WriteStartArray("emails"u8);
        if (user.PrimaryEmailOnlyInList && user.PersonalEmail is not null)
        {
            WriteEmail(writer, user.PersonalEmail, "home"u8, primary: false);
        }
        WriteEmail(writer, user.WorkEmail, "work"u8, primary: true);
        if (!user.PrimaryEmailOnlyInList && user.PersonalEmail is not null)
        {
            WriteEmail(writer, user.PersonalEmail, "home"u8, primary: false);
        }
        writer.WriteEndArray();
    }

    private static void WriteEmail(Utf8JsonWriter writer, string address, ReadOnlySpan<byte> type, bool primary)
    {
        writer.WriteStartObject();
        writer.WriteBoolean("primary"u8, primary);
        writer.WriteString("type"u8, type);
        writer.WriteString("value"u8, address);
        writer.WriteEndObject();
    }

    private static void WriteRoles(Utf8JsonWriter writer, UserSnapshot user)
    {
        writer.WriteStartObject("role"u8);
        writer.WriteString("slug"u8, user.PrimaryRole);
        writer.WriteEndObject();
        writer.WriteStartArray("roles"u8);
        foreach (var slug in user.RoleSlugs)
        {
            writer.WriteStartObject();
            writer.WriteString("slug"u8, slug);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary>Old-generation payloads carry the IdP's own SCIM record.</summary>
    private static void WriteScimRawAttributes(Utf8JsonWriter writer, UserSnapshot user)
    {
        writer.WriteStartObject("raw_attributes"u8);
        writer.WriteStartArray("schemas"u8);
        writer.WriteStringValue("urn:ietf:params:scim:schemas:core:2.0:User");
        writer.WriteEndArray();
        writer.WriteString("id"u8, user.IdpId);
        writer.WriteString("userName"u8, user.Username);
        writer.WriteStartObject("name"u8);
        writer.WriteString("givenName"u8, user.FirstName);
        writer.WriteString("familyName"u8, user.LastName);
        writer.WriteEndObject();
        writer.WriteBoolean("active"u8, user.State == "active");
        if (user.JobTitle is not null) writer.WriteString("title"u8, user.JobTitle);
        writer.WriteEndObject();
    }

    /// <summary>ISO-8601 UTC with milliseconds and <c>Z</c>, as WorkOS writes it, without going through a format string.</summary>
    public static void WriteTimestamp(Utf8JsonWriter writer, ReadOnlySpan<byte> propertyName, long unixMilliseconds)
    {
        Span<byte> text = stackalloc byte[24];
        FormatTimestamp(unixMilliseconds, text);
        writer.WriteString(propertyName, text);
    }

    public static void FormatTimestamp(long unixMilliseconds, Span<byte> text)
    {
        var at = DateTime.UnixEpoch.AddMilliseconds(unixMilliseconds);
        Digits(text[..4], at.Year);
        text[4] = (byte)'-';
        Digits(text.Slice(5, 2), at.Month);
        text[7] = (byte)'-';
        Digits(text.Slice(8, 2), at.Day);
        text[10] = (byte)'T';
        Digits(text.Slice(11, 2), at.Hour);
        text[13] = (byte)':';
        Digits(text.Slice(14, 2), at.Minute);
        text[16] = (byte)':';
        Digits(text.Slice(17, 2), at.Second);
        text[19] = (byte)'.';
        Digits(text.Slice(20, 3), at.Millisecond);
        text[23] = (byte)'Z';
    }

    private static void Digits(Span<byte> target, int value)
    {
        for (var i = target.Length - 1; i >= 0; i--)
        {
            target[i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }
}
