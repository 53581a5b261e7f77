using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using DirectorySync.Simulator.WorkOSApi;
using Xunit;

namespace DirectorySync.IntegrationTests.WorkOSApi;

/// <summary>A fake WorkOS served over real HTTP on a free port, and a client that asks it with a known key.</summary>
internal sealed class ServedFake : IAsyncDisposable
{
    public const string Key = "sk_test_integration";
    public const string OtherKey = "sk_test_integration_other";

    private readonly ApiClient _client;

    private ServedFake(FakeWorkOS fake, FakeWorkOSServer server)
    {
        Fake = fake;
        Server = server;
        _client = new ApiClient(server.BaseAddress, Key);
    }

    public FakeWorkOS Fake { get; }

    public FakeWorkOSServer Server { get; }

    public static async Task<ServedFake> StartAsync(TimeProvider? clock = null)
    {
        var fake = new FakeWorkOS([Key, OtherKey], clock ?? TimeProvider.System);
        return new ServedFake(fake, await FakeWorkOSServer.StartAsync(fake));
    }

    public Task<ApiAnswer> GetAsync(string pathAndQuery) => _client.GetAsync(pathAndQuery);

    public Task<ApiAnswer> GetAsync(string pathAndQuery, string? apiKey) => _client.GetAsync(pathAndQuery, apiKey);

    public Task<List<string>> IdsOfEveryPageAsync(string firstPage, string cursor = "after") => _client.IdsOfEveryPageAsync(firstPage, cursor);

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>Asks a WorkOS-like API over HTTP with <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
internal sealed class ApiClient(Uri baseAddress, string apiKey) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress };

    public Task<ApiAnswer> GetAsync(string pathAndQuery) => GetAsync(pathAndQuery, apiKey);

    /// <summary>GET with this key (none when null).</summary>
    public async Task<ApiAnswer> GetAsync(string pathAndQuery, string? apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new ApiAnswer(response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response.Headers);
    }

    /// <summary>Follows <c>list_metadata.{cursor}</c> from <paramref name="firstPage"/> until it is null; every id in order.</summary>
    public async Task<List<string>> IdsOfEveryPageAsync(string firstPage, string cursor = "after")
    {
        var ids = new List<string>();
        var answer = await GetAsync(firstPage);
        while (true)
        {
            Assert.True(answer.Status == HttpStatusCode.OK, $"{firstPage}: {(int)answer.Status} {answer.Body}");
            ids.AddRange(answer.Ids);
            if (answer.Metadata(cursor) is not { } next) return ids;
            answer = await GetAsync($"{firstPage}&{cursor}={next}");
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>One answer: status, JSON body and headers, with readers for list pages.</summary>
internal sealed record ApiAnswer(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers)
{
    public IReadOnlyList<string> Ids => [.. Body.GetProperty("data").EnumerateArray().Select(entry => entry.GetProperty("id").GetString()!)];

    public string? Before => Metadata("before");

    public string? After => Metadata("after");

    public string? Metadata(string name) => Body.GetProperty("list_metadata").GetProperty(name).GetString();

    public string? ErrorCode => Body.GetProperty("code").GetString();
}

/// <summary>WorkOS event envelopes written out by hand, for scenarios whose times and ids a test must control.</summary>
internal static class Envelopes
{
    private static int s_nextEventId;

    public static string Activated(string directoryId, string organizationId, string name, DateTimeOffset at) =>
        Envelope("dsync.activated", new JsonObject
        {
            ["object"] = "directory",
            ["id"] = directoryId,
            ["organization_id"] = organizationId,
            ["type"] = "okta scim v2.0",
            ["state"] = "active",
            ["name"] = name,
            ["external_key"] = "key-" + directoryId,
            ["domains"] = new JsonArray(new JsonObject { ["object"] = "organization_domain", ["id"] = "org_domain_" + directoryId, ["domain"] = name.ToLowerInvariant() + ".example" }),
            ["created_at"] = Time(at),
            ["updated_at"] = Time(at),
        }, at);

    public static string DirectoryDeleted(string directoryId, string organizationId, DateTimeOffset at) =>
        Envelope("dsync.deleted", new JsonObject { ["object"] = "directory", ["id"] = directoryId, ["organization_id"] = organizationId, ["state"] = "deleting" }, at);

    public static string User(string type, string userId, string directoryId, DateTimeOffset createdAt, DateTimeOffset at, string state = "active") =>
        Envelope(type, UserData(userId, directoryId, createdAt, at, state), at);

    public static string Group(string type, string groupId, string directoryId, DateTimeOffset createdAt, DateTimeOffset at) =>
        Envelope(type, GroupData(groupId, directoryId, createdAt, at), at);

    public static string Membership(string type, string userId, string groupId, string directoryId, DateTimeOffset at) =>
        Envelope(type, new JsonObject
        {
            ["directory_id"] = directoryId,
            ["user"] = UserData(userId, directoryId, at, at, "active"),
            ["group"] = GroupData(groupId, directoryId, at, at),
        }, at);

    private static JsonObject UserData(string userId, string directoryId, DateTimeOffset createdAt, DateTimeOffset at, string state) => new()
    {
        ["id"] = userId,
        ["directory_id"] = directoryId,
        ["organization_id"] = "org_of_" + directoryId,
        ["idp_id"] = "idp-" + userId,
        ["email"] = userId + "@Example.com",
        ["first_name"] = "First " + userId,
        ["last_name"] = "Last",
        ["state"] = state,
        ["custom_attributes"] = new JsonObject { ["department"] = "Engineering" },
        ["raw_attributes"] = new JsonObject(),
        ["role"] = new JsonObject { ["slug"] = "member" },
        ["roles"] = new JsonArray(new JsonObject { ["slug"] = "member" }),
        ["created_at"] = Time(createdAt),
        ["updated_at"] = Time(at),
    };

    private static JsonObject GroupData(string groupId, string directoryId, DateTimeOffset createdAt, DateTimeOffset at) => new()
    {
        ["id"] = groupId,
        ["idp_id"] = "idp-" + groupId,
        ["directory_id"] = directoryId,
        ["organization_id"] = "org_of_" + directoryId,
        ["name"] = "Group " + groupId,
        ["created_at"] = Time(createdAt),
        ["updated_at"] = Time(at),
    };

    private static string Envelope(string type, JsonObject data, DateTimeOffset at)
    {
        if (type == "dsync.user.updated" || type == "dsync.group.updated") data["previous_attributes"] = new JsonObject();
        return new JsonObject
        {
            ["event"] = type,
            ["id"] = $"event_{Interlocked.Increment(ref s_nextEventId):D8}",
            ["data"] = data,
            ["created_at"] = Time(at),
            ["context"] = new JsonObject(),
        }.ToJsonString();
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A clock a test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    // The server reads it on its own threads.
    private long _utcTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Volatile.Read(ref _utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}
