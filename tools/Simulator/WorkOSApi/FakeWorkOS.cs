using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.Mirror;
using static DirectorySync.Simulator.WorkOSApi.PayloadFields;

namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>
/// WorkOS as a state model built by applying its own events: the directories, users, groups and memberships its REST
/// API lists, and every applied event, in the order received, for its Events API. Thread-safe: a
/// <see cref="FakeWorkOSServer"/> answers from it while a test publishes more. <see cref="Faults"/> makes it misbehave;
/// <see cref="Traffic"/> records how its clients behaved.
/// </summary>
public sealed partial class FakeWorkOS
{
    private readonly Lock _gate = new();
    private readonly List<StoredEvent> _events = [];
    private readonly Dictionary<string, int> _eventPositions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredDirectory> _directories = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredUser> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _usersOfDirectory = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _groupsOfDirectory = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _groupsOfUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _membersOfGroup = new(StringComparer.Ordinal);
    // Where every object that ever existed sorts: a cursor naming one deleted since still marks its place.
    private readonly Dictionary<string, SortKey> _directoryKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortKey> _userKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortKey> _groupKeys = new(StringComparer.Ordinal);
    private readonly SortableIds _eventIds = new(Random.Shared);
    private DateTimeOffset _newestEventAt = DateTimeOffset.MinValue;
    private DateTimeOffset? _expiredBefore;
    private TimeSpan? _eventRetention;
    private int _invalidCursorStatus = 400;

    /// <summary>A fake that accepts these API keys (<c>Authorization: Bearer &lt;key&gt;</c>), on the system clock.</summary>
    public FakeWorkOS(params IEnumerable<string> apiKeys)
        : this(apiKeys, TimeProvider.System)
    {
    }

    /// <summary>A fake on a clock of the test's choosing: it dates retention, injected 429 storms and requests.</summary>
    public FakeWorkOS(IEnumerable<string> apiKeys, TimeProvider clock)
    {
        ApiKeys = apiKeys.ToFrozenSet(StringComparer.Ordinal);
        if (ApiKeys.Count == 0 || ApiKeys.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Give at least one API key, and no blank one.", nameof(apiKeys));
        }
        Clock = clock;
        Faults = new ApiFaults(this);
        Traffic = new ApiTraffic();
    }

    public IReadOnlySet<string> ApiKeys { get; }

    public TimeProvider Clock { get; }

    /// <summary>Injected misbehaviour: 429 storms, 5xx, malformed entries, short listings, slowness.</summary>
    public ApiFaults Faults { get; }

    /// <summary>Every request answered, for assertions about the client's manners.</summary>
    public ApiTraffic Traffic { get; }

    /// <summary>
    /// Whether users are served with their <c>groups</c>; off, they carry <c>groups: []</c> as for WorkOS teams created
    /// from 2026-05-01 (FACTS §8), so a client that still relies on the field shows it.
    /// </summary>
    public bool ServeUserGroups { get; set; } = true;

    /// <summary>Events older than this (by <c>created_at</c>, against <see cref="Clock"/>) are no longer served; null keeps all.</summary>
    public TimeSpan? EventRetention
    {
        get { lock (_gate) return _eventRetention; }
        set
        {
            if (value <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(value), value, "Longer than zero, or null.");
            lock (_gate) _eventRetention = value;
        }
    }

    /// <summary>The status of an answer to a cursor naming an unknown or expired event: 400 (default) or 422, both listed by WorkOS.</summary>
    public int InvalidCursorStatus
    {
        get { lock (_gate) return _invalidCursorStatus; }
        set
        {
            if (value is not (400 or 422)) throw new ArgumentOutOfRangeException(nameof(value), value, "400 or 422.");
            lock (_gate) _invalidCursorStatus = value;
        }
    }

    /// <summary>How many events the log holds, served or expired.</summary>
    public int EventCount
    {
        get { lock (_gate) return _events.Count; }
    }

    /// <summary>Stops serving every event dated before <paramref name="time"/> (as if retention had passed them); never undone.</summary>
    public void ExpireEventsBefore(DateTimeOffset time)
    {
        lock (_gate)
        {
            if (_expiredBefore is null || time > _expiredBefore) _expiredBefore = time;
        }
    }

    /// <summary>
    /// Applies one event and appends it to the log; false when an event with its id was applied before (WorkOS's log
    /// holds each once). Unknown event types go into the log and change nothing. Throws <see cref="FormatException"/>
    /// or <see cref="JsonException"/> for an envelope that is not one, before changing anything.
    /// </summary>
    public bool Publish(WebhookEvent webhook)
    {
        var incoming = Incoming.Read(webhook);
        lock (_gate)
        {
            return Apply(incoming);
        }
    }

    /// <summary>Publishes each in turn (stopping at the first that is not an event); returns how many were new.</summary>
    public int Publish(IEnumerable<WebhookEvent> webhooks) => webhooks.Count(Publish);

    /// <summary>Publishes one envelope given as JSON text.</summary>
    public bool PublishJson(string envelope) => Publish(EventSources.FromEnvelope(Encoding.UTF8.GetBytes(envelope)));

    /// <summary>
    /// A <c>dsync.user.updated</c> for a live user with one root attribute set to <paramref name="value"/> and
    /// <c>previous_attributes</c> holding the old value (null when the user had none), dated now, or just after the
    /// newest event when the log lies in the future. Built, not published: publish it to make a change that only the
    /// APIs show, or deliver it as a webhook as well.
    /// </summary>
    public WebhookEvent BuildUserUpdate(string userId, string attribute, JsonNode? value)
    {
        if (attribute is "id" or "object" or "directory_id" or "organization_id" or "created_at" or "updated_at"
            or "previous_attributes" or "groups")
        {
            throw new ArgumentException($"'{attribute}' is not an attribute a user update changes.", nameof(attribute));
        }
        return BuildUserEvent("dsync.user.updated", userId, attribute, value, withPrevious: true);
    }

    /// <summary>A <c>dsync.user.deleted</c> for a live user, carrying it as WorkOS does (state <c>inactive</c>), dated as <see cref="BuildUserUpdate"/>.</summary>
    public WebhookEvent BuildUserDeletion(string userId) =>
        BuildUserEvent("dsync.user.deleted", userId, "state", "inactive", withPrevious: false);

    /// <summary>
    /// Sets a directory's state (events' vocabulary: <c>inactive</c> is served as <c>unlinked</c>) without an event,
    /// as WorkOS sends none for most state changes.
    /// </summary>
    public void SetDirectoryState(string directoryId, string state)
    {
        lock (_gate)
        {
            if (!_directories.TryGetValue(directoryId, out var directory))
            {
                throw new ArgumentException($"No directory '{directoryId}'.", nameof(directoryId));
            }
            _directories[directoryId] = directory with { State = state };
        }
    }

    /// <summary>The live directories' ids, in listing order.</summary>
    public IReadOnlyList<string> DirectoryIds()
    {
        lock (_gate) return [.. _directories.Values.Select(d => d.Key).Order().Select(key => key.Id)];
    }

    /// <summary>A directory's live users' ids, in listing order (none for an unknown directory).</summary>
    public IReadOnlyList<string> UserIds(string directoryId)
    {
        lock (_gate) return SortedIds(_usersOfDirectory.GetValueOrDefault(directoryId), _users);
    }

    /// <summary>A directory's live groups' ids, in listing order.</summary>
    public IReadOnlyList<string> GroupIds(string directoryId)
    {
        lock (_gate) return SortedIds(_groupsOfDirectory.GetValueOrDefault(directoryId), _groups);
    }

    /// <summary>The ids of the live groups a user is in, in listing order.</summary>
    public IReadOnlyList<string> GroupIdsOf(string userId)
    {
        lock (_gate) return SortedIds(_groupsOfUser.GetValueOrDefault(userId), _groups);
    }

    /// <summary>A live user's JSON as its last event carried it; null when there is no such user.</summary>
    public JsonElement? User(string userId)
    {
        lock (_gate) return _users.TryGetValue(userId, out var user) ? user.Json : null;
    }

    /// <summary>
    /// What a mirror of WorkOS as it now stands holds under <paramref name="policy"/>: after a full reconciliation the
    /// service's tables must match it, API-only changes included. Under <see cref="InactivePolicy.Delete"/> a user
    /// reactivated after a deactivation keeps the memberships WorkOS kept, unlike a mirror built from the events alone.
    /// </summary>
    public MirrorSnapshot Mirror(InactivePolicy policy)
    {
        var mirror = new ExpectedMirror(policy);
        lock (_gate)
        {
            foreach (var directory in _directories.Values)
            {
                mirror.DirectoryActivated(new MirrorDirectory(
                    directory.Id, directory.OrganizationId, directory.State, Text(directory.Json, "type"), directory.Name));
            }
            foreach (var user in _users.Values)
            {
                mirror.UserWritten(new MirrorUser(user.Id, user.DirectoryId, user.Email, Text(user.Json, "first_name"),
                    Text(user.Json, "last_name"), NormalisedState(user.State), RoleSlugs(user.Json)));
            }
            foreach (var group in _groups.Values)
            {
                mirror.GroupWritten(new MirrorGroup(group.Id, group.DirectoryId, Text(group.Json, "name")));
            }
            foreach (var (userId, groupIds) in _groupsOfUser)
            {
                foreach (var groupId in groupIds) mirror.UserAdded(userId, groupId);
            }
        }
        return mirror.Snapshot();
    }

    // ---- Applying events (under the lock) -------------------------------------------------------------------------

    private bool Apply(Incoming incoming)
    {
        if (_eventPositions.ContainsKey(incoming.Id)) return false;
        var data = incoming.Data;
        var organizationId = OrganizationOf(data);
        switch (incoming.Type)
        {
            case "dsync.activated":
                var directoryKey = KeyOf(data, _directoryKeys, incoming.CreatedAt);
                _directories[directoryKey.Id] = new StoredDirectory(directoryKey, Text(data, "organization_id"), Text(data, "name"),
                    Text(data, "state") ?? "active", FirstDomain(data), data);
                break;
            case "dsync.deleted":
                DeleteDirectory(Text(data, "id")!);
                break;
            case "dsync.user.created" or "dsync.user.updated":
                Place(_users, _usersOfDirectory, new StoredUser(KeyOf(data, _userKeys, incoming.CreatedAt), Text(data, "directory_id")!,
                    Text(data, "state"), Text(data, "idp_id"), PrimaryEmail(data), data));
                break;
            case "dsync.user.deleted":
                DeleteUser(Text(data, "id")!);
                break;
            case "dsync.group.created" or "dsync.group.updated":
                Place(_groups, _groupsOfDirectory, new StoredGroup(KeyOf(data, _groupKeys, incoming.CreatedAt), Text(data, "directory_id")!, data));
                break;
            case "dsync.group.deleted":
                DeleteGroup(Text(data, "id")!);
                break;
            case "dsync.group.user_added":
                Index(_groupsOfUser, Text(data, "user.id")!).Add(Text(data, "group.id")!);
                Index(_membersOfGroup, Text(data, "group.id")!).Add(Text(data, "user.id")!);
                break;
            case "dsync.group.user_removed":
                _groupsOfUser.GetValueOrDefault(Text(data, "user.id")!)?.Remove(Text(data, "group.id")!);
                _membersOfGroup.GetValueOrDefault(Text(data, "group.id")!)?.Remove(Text(data, "user.id")!);
                break;
        }
        var position = _events.Count;
        _events.Add(new StoredEvent(position, incoming.Id, incoming.Type, incoming.CreatedAt, organizationId, incoming.Envelope));
        _eventPositions[incoming.Id] = position;
        if (incoming.CreatedAt > _newestEventAt) _newestEventAt = incoming.CreatedAt;
        return true;
    }

    /// <summary>The organization an event belongs to, for <c>GET /events?organization_id=</c>.</summary>
    private string? OrganizationOf(JsonElement data) =>
        Text(data, "organization_id") ?? Text(data, "user.organization_id") ?? Text(data, "group.organization_id")
        ?? (Text(data, "directory_id") is { } directoryId ? _directories.GetValueOrDefault(directoryId)?.OrganizationId : null);

    /// <summary>The object's place in listings: its payload's <c>created_at</c>, else where it sorted before, else the event's time.</summary>
    private static SortKey KeyOf(JsonElement data, Dictionary<string, SortKey> keys, DateTimeOffset eventAt)
    {
        var id = Text(data, "id")!;
        var createdAt = EventSources.ParseCreatedAt(Text(data, "created_at"))
            ?? (keys.TryGetValue(id, out var known) ? known.CreatedAt : eventAt);
        return keys[id] = new SortKey(createdAt, id);
    }

    private static string? FirstDomain(JsonElement directory) =>
        directory.TryGetProperty("domains", out var domains) && domains.ValueKind == JsonValueKind.Array
            ? domains.EnumerateArray().Select(domain => Text(domain, "domain")).FirstOrDefault(domain => domain is not null)
            : null;

    private static void Place<T>(Dictionary<string, T> objects, Dictionary<string, HashSet<string>> ofDirectory, T stored)
        where T : IDirectoryObject
    {
        if (objects.TryGetValue(stored.Id, out var old) && old.DirectoryId != stored.DirectoryId)
        {
            ofDirectory[old.DirectoryId].Remove(stored.Id);
        }
        objects[stored.Id] = stored;
        Index(ofDirectory, stored.DirectoryId).Add(stored.Id);
    }

    /// <summary><c>dsync.deleted</c> is all WorkOS says: everything in the directory goes with it.</summary>
    private void DeleteDirectory(string directoryId)
    {
        _directories.Remove(directoryId);
        foreach (var userId in _usersOfDirectory.GetValueOrDefault(directoryId)?.ToList() ?? [])
        {
            DeleteUser(userId);
        }
        foreach (var groupId in _groupsOfDirectory.GetValueOrDefault(directoryId)?.ToList() ?? [])
        {
            DeleteGroup(groupId);
        }
    }

    private void DeleteUser(string userId)
    {
        if (_users.Remove(userId, out var user)) _usersOfDirectory[user.DirectoryId].Remove(userId);
        DropMemberships(userId, _groupsOfUser, _membersOfGroup);
    }

    /// <summary>A deleted group takes its memberships along: WorkOS sends no <c>user_removed</c> for them.</summary>
    private void DeleteGroup(string groupId)
    {
        if (_groups.Remove(groupId, out var group)) _groupsOfDirectory[group.DirectoryId].Remove(groupId);
        DropMemberships(groupId, _membersOfGroup, _groupsOfUser);
    }

    private static void DropMemberships(string id, Dictionary<string, HashSet<string>> own, Dictionary<string, HashSet<string>> other)
    {
        if (!own.Remove(id, out var partners)) return;
        foreach (var partner in partners)
        {
            other.GetValueOrDefault(partner)?.Remove(id);
        }
    }

    private static HashSet<string> Index(Dictionary<string, HashSet<string>> index, string key)
    {
        if (!index.TryGetValue(key, out var set))
        {
            set = new HashSet<string>(StringComparer.Ordinal);
            index[key] = set;
        }
        return set;
    }

    private static List<string> SortedIds<T>(HashSet<string>? ids, Dictionary<string, T> live) where T : IDirectoryObject =>
        [.. Live(ids, live).Select(stored => stored.Key).Order().Select(key => key.Id)];

    /// <summary>The objects still live among <paramref name="ids"/> (memberships may name objects gone or never seen).</summary>
    private static IEnumerable<T> Live<T>(HashSet<string>? ids, Dictionary<string, T> live) where T : IDirectoryObject =>
        ids is null ? [] : ids.Select(live.GetValueOrDefault).OfType<T>();

    // ---- Building events ------------------------------------------------------------------------------------------

    private WebhookEvent BuildUserEvent(string type, string userId, string attribute, JsonNode? value, bool withPrevious)
    {
        StoredUser user;
        long atMs;
        lock (_gate)
        {
            user = _users.GetValueOrDefault(userId) ?? throw new ArgumentException($"No live user '{userId}'.", nameof(userId));
            var now = Clock.GetUtcNow();
            atMs = (now > _newestEventAt ? now : _newestEventAt.AddMilliseconds(1)).ToUnixTimeMilliseconds();
        }
        var body = EventPayloads.Serialise(writer =>
        {
            EventPayloads.WriteEnvelopeStart(writer, type, _eventIds.Next("event_", atMs));
            JsonElement? previous = null;
            writer.WriteStartObject();
            foreach (var property in user.Json.EnumerateObject())
            {
                if (property.NameEquals(attribute)) previous = property.Value;
                else if (property.NameEquals("updated_at")) continue;
                else if (!property.NameEquals("previous_attributes")) property.WriteTo(writer);
            }
            writer.WritePropertyName(attribute);
            WriteValue(writer, value);
            EventPayloads.WriteTimestamp(writer, "updated_at"u8, atMs);
            if (withPrevious)
            {
                writer.WriteStartObject("previous_attributes"u8);
                writer.WritePropertyName(attribute);
                if (previous is { } old) old.WriteTo(writer);
                else writer.WriteNullValue();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            EventPayloads.WriteEnvelopeEnd(writer, atMs);
        });
        return EventSources.FromEnvelope(body);
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonNode? value)
    {
        if (value is null) writer.WriteNullValue();
        else value.WriteTo(writer);
    }

    /// <summary>An envelope read and checked before the lock is taken: a bad one changes nothing.</summary>
    private sealed record Incoming(string Id, string Type, DateTimeOffset CreatedAt, JsonElement Envelope, JsonElement Data)
    {
        public static Incoming Read(WebhookEvent webhook)
        {
            if (webhook.CreatedAt is not { } createdAt)
            {
                throw new FormatException($"Event {webhook.Id} ({webhook.Type}) has no readable created_at: the Events API could not place it.");
            }
            JsonElement envelope;
            using (var document = JsonDocument.Parse(webhook.Body))
            {
                envelope = document.RootElement.Clone();
            }
            var data = envelope.TryGetProperty("data", out var found) ? found : default;
            string[] required = webhook.Type switch
            {
                "dsync.activated" or "dsync.deleted" => ["id"],
                "dsync.user.created" or "dsync.user.updated" or "dsync.user.deleted"
                    or "dsync.group.created" or "dsync.group.updated" or "dsync.group.deleted" => ["id", "directory_id"],
                "dsync.group.user_added" or "dsync.group.user_removed" => ["user.id", "group.id"],
                _ => [],
            };
            foreach (var path in required)
            {
                if (Text(data, path) is null)
                {
                    throw new FormatException($"Event {webhook.Id} ({webhook.Type}): its data has no string \"{path}\".");
                }
            }
            return new Incoming(webhook.Id, webhook.Type, createdAt, envelope, data);
        }
    }
}
