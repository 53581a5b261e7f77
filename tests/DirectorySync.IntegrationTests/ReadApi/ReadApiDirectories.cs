using System.Net;
using System.Text.Json.Nodes;
using DirectorySync.IntegrationTests.EndToEnd;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests.ReadApi;

/// <summary>
/// Two directories sent to a running system as WorkOS webhooks, with the full current payloads (created_at, roles,
/// custom attributes): Acme (directory A) has 25 users created in pairs a minute apart (so ids break ties), groups
/// Engineering (the first 12 users), Everyone (all) and Empty, and a freshness row; Beta (directory B) has 2 users and
/// a group, and no freshness row.
/// </summary>
internal static class ReadApiDirectories
{
    public const string A = "directory_01READAPIAAAAAAAAAAAAAAAAA";
    public const string B = "directory_01READAPIBBBBBBBBBBBBBBBBB";
    public const string Engineering = "directory_group_01READENGINEERING";
    public const string Everyone = "directory_group_01READEVERYONE";
    public const string Empty = "directory_group_01READEMPTY";
    public const string BetaGroup = "directory_group_01READBETA";
    public static readonly DateTimeOffset FreshAt = new(2026, 12, 1, 8, 30, 15, 123, TimeSpan.Zero);

    private static readonly DateTimeOffset Created = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Directory A's user ids, oldest first: by created_at, then id (ids of equal times listed in byte order).</summary>
    public static IReadOnlyList<string> UsersOfA { get; } = Enumerable.Range(1, 25).Select(UserId).ToArray();

    public static string UserId(int i) => $"directory_user_01READ{i:D2}";

    /// <summary>User i of A was created at minute i / 2: users 2 and 3 share a time, and so on.</summary>
    public static DateTimeOffset CreatedAt(int i) => Created.AddMinutes(i / 2);

    public static async Task SendAsync(SyncSystem system)
    {
        var events = new List<JsonObject>
        {
            Event("dsync.activated", Directory(A, "org_read", "Acme Corp", "acme.test")),
            Event("dsync.activated", Directory(B, "org_other", "Beta Inc", "beta.test")),
        };
        // Sent newest first: the lists' order must come from created_at, not from arrival.
        events.AddRange(Enumerable.Range(1, 25).Reverse().Select(i => Event("dsync.user.created", User(i, A, CreatedAt(i)))));
        events.Add(Event("dsync.user.created", User(91, B, CreatedAt(91))));
        events.Add(Event("dsync.user.created", User(92, B, CreatedAt(92))));
        var engineering = Group(Engineering, A, "Engineering", Created.AddDays(-2));
        var everyone = Group(Everyone, A, "Everyone", Created.AddDays(-3));
        var beta = Group(BetaGroup, B, "Beta people", Created);
        events.AddRange(new[] { engineering, everyone, Group(Empty, A, "Empty", Created.AddDays(-1)), beta }.Select(g => Event("dsync.group.created", g)));
        events.AddRange(Enumerable.Range(1, 12).Select(i => Added(A, engineering, i)));
        events.AddRange(Enumerable.Range(1, 25).Select(i => Added(A, everyone, i)));
        events.Add(Added(B, beta, 91));
        await SendEventsAsync(system, events);

        await using var connection = new NpgsqlConnection(system.ConnectionString);
        await connection.OpenAsync();
        await using var freshness = new NpgsqlCommand("INSERT INTO directory_freshness (workos_directory_id, confirmed_at) VALUES ($1, $2)", connection)
        {
            Parameters = { new() { Value = A }, new() { Value = FreshAt } },
        };
        await freshness.ExecuteNonQueryAsync();
    }

    /// <summary>Sends each event as WorkOS would, in order, and checks it was acknowledged.</summary>
    public static async Task SendEventsAsync(SyncSystem system, IEnumerable<JsonObject> events)
    {
        foreach (var e in events)
        {
            var (status, text) = await system.SendAsync(e.ToJsonString());
            Assert.True(status == HttpStatusCode.OK, $"{e["event"]}: {status} {text}");
        }
    }

    private static int _sequence;

    public static JsonObject Event(string type, JsonObject data) => new()
    {
        ["object"] = "event",
        ["id"] = $"event_01READ{Interlocked.Increment(ref _sequence):D6}",
        ["event"] = type,
        ["created_at"] = Time(DateTimeOffset.UtcNow.AddMinutes(-5).AddMilliseconds(_sequence)),
        ["data"] = data,
        ["context"] = new JsonObject(),
    };

    public static JsonObject Directory(string id, string organization, string name, string domain) => new()
    {
        ["object"] = "directory",
        ["id"] = id,
        ["organization_id"] = organization,
        ["external_key"] = $"key-{name}",
        ["type"] = "okta scim v2.0",
        ["state"] = "active",
        ["name"] = name,
        ["domains"] = new JsonArray(new JsonObject { ["object"] = "organization_domain", ["id"] = $"org_domain_{domain}", ["domain"] = domain }),
        ["created_at"] = Time(Created.AddDays(-10)),
        ["updated_at"] = Time(Created.AddDays(-9)),
    };

    public static JsonObject User(int i, string directory, DateTimeOffset created) => new()
    {
        ["object"] = "directory_user",
        ["id"] = UserId(i),
        ["directory_id"] = directory,
        ["organization_id"] = directory == B ? "org_other" : "org_read",
        ["idp_id"] = $"idp-{i}",
        ["email"] = $"Person.{i}@Example.test",
        ["first_name"] = $"First{i}",
        ["last_name"] = $"Last{i}",
        ["state"] = i == 7 ? "inactive" : "active",
        ["custom_attributes"] = new JsonObject { ["department"] = i <= 12 ? "Engineering" : "Sales" },
        ["raw_attributes"] = new JsonObject(),
        ["role"] = new JsonObject { ["slug"] = i == 1 ? "admin" : "member" },
        ["roles"] = i == 1
            ? new JsonArray(new JsonObject { ["slug"] = "admin" }, new JsonObject { ["slug"] = "member" })
            : new JsonArray(new JsonObject { ["slug"] = "member" }),
        ["created_at"] = Time(created),
        ["updated_at"] = Time(created.AddHours(1)),
    };

    public static JsonObject Group(string id, string directory, string name, DateTimeOffset created) => new()
    {
        ["object"] = "directory_group",
        ["id"] = id,
        ["idp_id"] = $"idp-{name}",
        ["directory_id"] = directory,
        ["organization_id"] = directory == B ? "org_other" : "org_read",
        ["name"] = name,
        ["raw_attributes"] = new JsonObject(),
        ["created_at"] = Time(created),
        ["updated_at"] = Time(created),
    };

    public static JsonObject Added(string directory, JsonObject group, int user) => Event("dsync.group.user_added", new JsonObject
    {
        ["directory_id"] = directory,
        ["user"] = User(user, directory, CreatedAt(user)),
        ["group"] = group.DeepClone(),
    });

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
}
