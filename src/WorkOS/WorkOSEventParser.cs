using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using DirectorySync.Events;
using static DirectorySync.WorkOS.ParsedWebhook;

namespace DirectorySync.WorkOS;

/// <summary>
/// Turns a verified webhook body into a <see cref="SyncEvent"/>, or says why it is not one. Never throws.
/// Fields WorkOS documents with a type are read strictly: a wrong type dead-letters the event and names the field.
/// Values inside <c>custom_attributes</c>, whose shape each customer's directory decides, are read leniently:
/// a wrong type there counts as absent.
/// </summary>
public static class WorkOSEventParser
{
    // created_at is usually ISO-8601 with ms and Z, but a docs sample has "2023-04-28 20:05:31.093" (no zone: UTC).
    /// <summary>
    /// WorkOS ids are about 40 characters. The mirror indexes every id, and Postgres refuses an index entry past about
    /// 2.7 kB, so a longer id could never be stored, not even in the dead letter's event log row.
    /// </summary>
    public const int MaxIdLength = 255;

    /// <summary>
    /// How far a webhook signature's time may be from now, either way, and so how far past its signing (or, for an event
    /// read without one, past now) an event's <c>created_at</c> may lie.
    /// </summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(180);

    /// <summary>What an event's object is called in the reasons it is refused.</summary>
    private const string EventData = "data";

    private static readonly FrozenDictionary<string, SyncEventKind> Kinds = new Dictionary<string, SyncEventKind>
    {
        ["dsync.activated"] = SyncEventKind.DirectoryActivated,
        ["dsync.deleted"] = SyncEventKind.DirectoryDeleted,
        ["dsync.user.created"] = SyncEventKind.UserCreated,
        ["dsync.user.updated"] = SyncEventKind.UserUpdated,
        ["dsync.user.deleted"] = SyncEventKind.UserDeleted,
        ["dsync.group.created"] = SyncEventKind.GroupCreated,
        ["dsync.group.updated"] = SyncEventKind.GroupUpdated,
        ["dsync.group.deleted"] = SyncEventKind.GroupDeleted,
        ["dsync.group.user_added"] = SyncEventKind.GroupUserAdded,
        ["dsync.group.user_removed"] = SyncEventKind.GroupUserRemoved,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The ten Directory Sync event types this service applies (what the Events API is asked for).</summary>
    public static IReadOnlyList<string> DirectorySyncEventTypes { get; } = [.. Kinds.OrderBy(k => k.Value).Select(k => k.Key)];

    private static readonly string[] TimestampFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd' 'HH:mm:ss.FFFFFFFK"];

    /// <summary>Parses an event that comes without a signature: it cannot be newer than now plus the default tolerance.</summary>
    public static ParsedWebhook Parse(ReadOnlySpan<byte> body) => Parse(body, DateTimeOffset.UtcNow + DefaultTolerance);

    /// <summary>
    /// Parses a body. <paramref name="notAfter"/> is the latest <c>created_at</c> an event can have: WorkOS signs at send
    /// time, so an event dated after its signature's <c>t</c> plus the tolerance is not genuine, and would otherwise
    /// win over every later change of its object for as long as its date lies ahead.
    /// </summary>
    public static ParsedWebhook Parse(ReadOnlySpan<byte> body, DateTimeOffset notAfter)
    {
        if (!Utf8.IsValid(body))
        {
            return new NotAnEnvelope("body is not valid UTF-8");
        }

        if (!body.TrimStart(" \t\r\n"u8).StartsWith("{"u8))
        {
            return new NotAnEnvelope("body is not a JSON object");
        }

        EventEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(body, WorkOSJsonContext.Default.EventEnvelope);
        }
        catch (JsonException e)
        {
            // Also the answer past 64 levels of nesting, the serializer's default limit, which no WorkOS payload reaches.
            return new NotAnEnvelope(e.Path is "$.id" or "$.event"
                ? $"{e.Path[2..]} is not a valid string"
                : $"body is not readable JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }

        if (string.IsNullOrEmpty(envelope?.Id) || envelope.Id.Contains('\0'))
        {
            return new NotAnEnvelope("no usable string id");
        }

        if (envelope.Id.Length > MaxIdLength)
        {
            return new NotAnEnvelope($"id is longer than {MaxIdLength} characters");
        }

        if (string.IsNullOrEmpty(envelope.Event) || envelope.Event.Contains('\0'))
        {
            return new NotAnEnvelope("no usable string event");
        }

        return KindOf(envelope.Event) is { } kind
            ? ReadSyncEvent(envelope.Id, envelope.Event, kind, envelope, body, notAfter)
            : new Ignored(envelope.Id, envelope.Event);
    }

    private static SyncEventKind? KindOf(string eventType) => Kinds.TryGetValue(eventType, out var kind) ? kind : null;

    private static ParsedWebhook ReadSyncEvent(
        string eventId, string eventType, SyncEventKind kind, EventEnvelope envelope, ReadOnlySpan<byte> body, DateTimeOffset notAfter)
    {
        var payload = Encoding.UTF8.GetString(body);

        // First, because the payload and every field are stored in Postgres, and because it rules out the lone surrogates
        // that would make JsonElement.GetString throw below. The object id is not read: it may be the offending string.
        if (FindUnstorableText(body) is { } unstorable)
        {
            return new DeadLettered(new DeadLetter(eventId, eventType, null, null, unstorable, payload));
        }

        var createdAt = ReadTimestamp(envelope.CreatedAt);
        var data = envelope.Data;
        string? failure;
        if (createdAt is null)
        {
            failure = TimestampProblem(envelope.CreatedAt);
        }
        else if (createdAt > notAfter)
        {
            failure = $"created_at {createdAt:O} is later than its signature's time plus the tolerance ({notAfter:O})";
        }
        else if (data.ValueKind != JsonValueKind.Object)
        {
            failure = "data is missing or not an object";
        }
        else if (TryReadObject(new SyncEvent(eventId, eventType, kind, createdAt.Value, payload), data, out var syncEvent, out failure))
        {
            return new Applicable(syncEvent);
        }

        return new DeadLettered(new DeadLetter(eventId, eventType, ObjectIdOf(kind, data), createdAt, failure, payload));
    }

    /// <summary>Reads <paramref name="data"/> as the object <paramref name="shell"/>'s kind carries, and puts it in.</summary>
    private static bool TryReadObject(
        SyncEvent shell, JsonElement data, [NotNullWhen(true)] out SyncEvent? syncEvent, [NotNullWhen(false)] out string? failure)
    {
        syncEvent = shell.Kind switch
        {
            SyncEventKind.DirectoryActivated or SyncEventKind.DirectoryDeleted =>
                // The event itself says what happened when a payload leaves the state out.
                TryReadDirectory(
                    data, EventData, shell.Kind == SyncEventKind.DirectoryActivated ? DirectoryStates.Active : DirectoryStates.Deleting,
                    out var directory, out failure) ? shell with { Directory = directory } : null,
            SyncEventKind.UserCreated or SyncEventKind.UserUpdated or SyncEventKind.UserDeleted =>
                TryReadUser(data, EventData, out var user, out failure) ? shell with { User = user } : null,
            SyncEventKind.GroupCreated or SyncEventKind.GroupUpdated or SyncEventKind.GroupDeleted =>
                TryReadGroup(data, EventData, out var group, out failure) ? shell with { Group = group } : null,
            _ => TryReadMembership(data, out var membership, out failure) ? shell with { Membership = membership } : null,
        };
        return syncEvent is not null;
    }

    /// <summary>
    /// Reads a directory: an event's <c>data</c>, or a REST directory (<paramref name="at"/> names it in failures).
    /// <paramref name="stateIfMissing"/> is the state a payload without one has; null: the state is required.
    /// </summary>
    internal static bool TryReadDirectory(
        JsonElement data, string at, string? stateIfMissing,
        [NotNullWhen(true)] out DirectoryData? directory, [NotNullWhen(false)] out string? failure)
    {
        directory = null;
        if (!TryDeserialize(data, WorkOSJsonContext.Default.DirectoryPayload, at, out var dto, out failure)
            || !TryRequire(dto.Id, $"{at}.id", out failure)
            || (stateIfMissing is null && !TryRequire(dto.State, $"{at}.state", out failure)))
        {
            return false;
        }

        var state = IsBlank(dto.State) ? stateIfMissing! : NormaliseDirectoryState(dto.State);
        // Events list domains; a REST directory names one domain (deprecated) instead.
        var domains = (dto.Domains?.Select(d => d?.Domain) ?? [dto.Domain]).OfType<string>().Where(d => !IsBlank(d)).ToArray();
        directory = new DirectoryData(
            dto.Id, dto.OrganizationId, dto.Name, dto.Type, state, domains,
            NonBlank(dto.ExternalKey), ReadTimestamp(dto.CreatedAt), ReadTimestamp(dto.UpdatedAt));
        return true;
    }

    /// <summary>Reads a directory user: an event's <c>data</c>, or a REST user (<paramref name="at"/> names it in failures).</summary>
    internal static bool TryReadUser(
        JsonElement data, string at, [NotNullWhen(true)] out DirectoryUser? user, [NotNullWhen(false)] out string? failure)
    {
        user = null;
        if (!TryDeserialize(data, WorkOSJsonContext.Default.UserPayload, at, out var dto, out failure)
            || !TryRequire(dto.Id, $"{at}.id", out failure)
            || !TryRequire(dto.DirectoryId, $"{at}.directory_id", out failure)
            || !TryRequire(dto.State, $"{at}.state", out failure)
            || !TryReadAttributes(dto.CustomAttributes, $"{at}.custom_attributes", out var customAttributes, out failure)
            || !TryReadAttributes(dto.RawAttributes, $"{at}.raw_attributes", out var rawAttributes, out failure))
        {
            return false;
        }

        // Two payload generations: before 2026-04-15 emails, username and job_title were top-level; now they live in
        // custom_attributes. The top-level value wins when both are present.
        var custom = dto.CustomAttributes;
        var email = NonBlank(dto.Email) ?? PrimaryEmail(dto.Emails) ?? PrimaryEmail(EmailsIn(custom));
        var username = NonBlank(dto.Username) ?? StringIn(custom, "username");
        var jobTitle = NonBlank(dto.JobTitle) ?? StringIn(custom, "job_title");

        user = new DirectoryUser(
            dto.Id, dto.DirectoryId, dto.OrganizationId, dto.IdpId, email, dto.FirstName, dto.LastName, username, jobTitle,
            NormaliseUserState(dto.State), RoleSlugs(dto), customAttributes, rawAttributes,
            ReadTimestamp(dto.CreatedAt), ReadTimestamp(dto.UpdatedAt));
        return true;
    }

    /// <summary>Reads a directory group: an event's <c>data</c>, or a REST group (<paramref name="at"/> names it in failures).</summary>
    internal static bool TryReadGroup(
        JsonElement data, string at, [NotNullWhen(true)] out DirectoryGroup? group, [NotNullWhen(false)] out string? failure)
    {
        group = null;
        if (!TryDeserialize(data, WorkOSJsonContext.Default.GroupPayload, at, out var dto, out failure)
            || !TryRequire(dto.Id, $"{at}.id", out failure)
            || !TryRequire(dto.DirectoryId, $"{at}.directory_id", out failure)
            || !TryReadAttributes(dto.RawAttributes, $"{at}.raw_attributes", out var rawAttributes, out failure))
        {
            return false;
        }

        group = new DirectoryGroup(
            dto.Id, dto.DirectoryId, dto.OrganizationId, dto.IdpId, dto.Name, rawAttributes,
            ReadTimestamp(dto.CreatedAt), ReadTimestamp(dto.UpdatedAt));
        return true;
    }

    private static bool TryReadMembership(
        JsonElement data, [NotNullWhen(true)] out GroupMembership? membership, [NotNullWhen(false)] out string? failure)
    {
        membership = null;
        if (!TryDeserialize(data, WorkOSJsonContext.Default.MembershipPayload, EventData, out var dto, out failure)
            || !TryRequire(dto.User?.Id, "data.user.id", out failure)
            || !TryRequire(dto.Group?.Id, "data.group.id", out failure))
        {
            return false;
        }

        // Membership events carry the directory at the top of data; the user's and group's own are the same directory.
        var directoryId = NonBlank(dto.DirectoryId) ?? NonBlank(dto.User.DirectoryId) ?? NonBlank(dto.Group.DirectoryId);
        if (!TryRequire(directoryId, "data.directory_id", out failure))
        {
            return false;
        }

        membership = new GroupMembership(directoryId, dto.User.Id, dto.Group.Id);
        return true;
    }

    private static bool TryDeserialize<T>(
        JsonElement data, JsonTypeInfo<T> shape, string at, [NotNullWhen(true)] out T? value, [NotNullWhen(false)] out string? failure)
        where T : class
    {
        try
        {
            value = data.Deserialize(shape);
        }
        catch (JsonException e)
        {
            // data is already known to be valid JSON, so the only thing left to go wrong is a value of the wrong type.
            value = null;
            failure = $"{at}{e.Path?.TrimStart('$')} has the wrong JSON type";
            return false;
        }

        failure = value is null ? $"{at} is not an object" : null;
        return value is not null;
    }

    private static bool TryRequire([NotNullWhen(true)] string? value, string path, [NotNullWhen(false)] out string? failure)
    {
        failure = IsBlank(value) ? $"{path} is missing"
            : value.Length > MaxIdLength ? $"{path} is longer than {MaxIdLength} characters"
            : null;
        return failure is null;
    }

    /// <summary>custom_attributes and raw_attributes are stored verbatim (jsonb); absent or null is the empty object.</summary>
    private static bool TryReadAttributes(JsonElement attributes, string path, out string json, [NotNullWhen(false)] out string? failure)
    {
        (json, failure) = attributes.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => ("{}", null),
            JsonValueKind.Object => (attributes.GetRawText(), null),
            _ => ("{}", $"{path} is not an object"),
        };
        return failure is null;
    }

    private static IReadOnlyList<string> RoleSlugs(UserPayload dto)
    {
        var slugs = new List<string>();
        foreach (var role in (dto.Roles ?? []).Prepend(dto.Role))
        {
            if (NonBlank(role?.Slug) is { } slug && !slugs.Contains(slug))
            {
                slugs.Add(slug);
            }
        }

        return slugs;
    }

    private static string? PrimaryEmail(IEnumerable<EmailPayload?>? emails)
    {
        string? first = null;
        foreach (var entry in emails ?? [])
        {
            if (NonBlank(entry?.Value) is not { } address)
            {
                continue;
            }

            if (entry!.Primary == true)
            {
                return address;
            }

            first ??= address;
        }

        return first;
    }

    private static IEnumerable<EmailPayload> EmailsIn(JsonElement customAttributes)
    {
        if (customAttributes.ValueKind != JsonValueKind.Object
            || !customAttributes.TryGetProperty("emails", out var emails)
            || emails.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var entry in emails.EnumerateArray())
        {
            yield return new EmailPayload(StringIn(entry, "value"), BooleanIn(entry, "primary"));
        }
    }

    internal static string? StringIn(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? NonBlank(value.GetString())
            : null;

    private static bool? BooleanIn(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null }
            : null;

    /// <summary>Best effort, for the dead letter: the id of the object the event was about, when it can be read.</summary>
    private static string? ObjectIdOf(SyncEventKind kind, JsonElement data)
    {
        if (kind is not (SyncEventKind.GroupUserAdded or SyncEventKind.GroupUserRemoved))
        {
            return StringIn(data, "id");
        }

        var groupId = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("group", out var group) ? StringIn(group, "id") : null;
        var userId = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("user", out var user) ? StringIn(user, "id") : null;
        return groupId is not null && userId is not null ? MembershipKey.For(groupId, userId) : null;
    }

    /// <summary>
    /// An ISO-8601 time, or null. The objects' own <c>created_at</c> and <c>updated_at</c> are read leniently: the event
    /// is applied without them (the mirror keeps them for the read API), rather than dead-lettered.
    /// </summary>
    private static DateTimeOffset? ReadTimestamp(JsonElement createdAt) =>
        createdAt.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParseExact(
            createdAt.GetString(), TimestampFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;

    private static string TimestampProblem(JsonElement createdAt) => createdAt.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => "created_at is missing",
        JsonValueKind.String => "created_at is not an ISO-8601 time",
        _ => "created_at is not a string",
    };

    private static string NormaliseUserState(string state) => state.Trim().ToLowerInvariant() switch
    {
        "suspended" => UserStates.Inactive,
        var other => other,
    };

    // The REST API says linked/unlinked where events say active/inactive.
    private static string NormaliseDirectoryState(string state) => state.Trim().ToLowerInvariant() switch
    {
        "linked" => DirectoryStates.Active,
        "unlinked" => DirectoryStates.Inactive,
        var other => other,
    };

    /// <summary>
    /// Postgres text and jsonb cannot hold U+0000 or half a surrogate pair. Valid UTF-8 JSON can only carry them as
    /// <c>\u</c> escapes, so the raw bytes are scanned for those escapes; the answer names the byte offset in the body.
    /// </summary>
    internal static string? FindUnstorableText(ReadOnlySpan<byte> json)
    {
        var at = json.IndexOf((byte)'\\');
        while (at >= 0 && at + 1 < json.Length)
        {
            // In valid JSON a backslash only occurs inside a string and always starts an escape: skip the whole escape,
            // so the second backslash of "\\" is never mistaken for the start of another.
            var next = at + 2;
            if (json[at + 1] == (byte)'u' && TryReadEscapedUnit(json, at, out var unit))
            {
                next = at + 6;
                if (unit == 0)
                {
                    return $"a string holds U+0000 (byte {at}), which Postgres cannot store";
                }

                if (char.IsHighSurrogate(unit) && TryReadEscapedUnit(json, next, out var low) && char.IsLowSurrogate(low))
                {
                    next += 6;
                }
                else if (char.IsSurrogate(unit))
                {
                    return $"a string holds an unpaired UTF-16 surrogate (byte {at}), which Postgres cannot store";
                }
            }

            var rest = json[Math.Min(next, json.Length)..].IndexOf((byte)'\\');
            at = rest < 0 ? -1 : next + rest;
        }

        return null;
    }

    private static bool TryReadEscapedUnit(ReadOnlySpan<byte> json, int at, out char unit)
    {
        unit = '\0';
        if (at + 6 > json.Length || json[at] != (byte)'\\' || json[at + 1] != (byte)'u'
            || !ushort.TryParse(json.Slice(at + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        unit = (char)value;
        return true;
    }

    private static bool IsBlank([NotNullWhen(false)] string? value) => string.IsNullOrWhiteSpace(value);

    private static string? NonBlank(string? value) => IsBlank(value) ? null : value;
}
