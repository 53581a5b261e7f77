using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DirectorySync.IntegrationTests.EndToEnd;
using Xunit;
using static DirectorySync.IntegrationTests.ReadApi.ReadApiDirectories;

namespace DirectorySync.IntegrationTests.ReadApi;

/// <summary>
/// The read API with <c>ReadApi__UserGroups</c> unset (its default, <c>empty</c>), over real HTTP on a mirror filled by
/// real webhooks (<see cref="ReadApiDirectories"/>): users' <c>groups</c> is <c>[]</c> as WorkOS answers teams created
/// from 2026-05-01, everything else as <see cref="ReadApiTests"/> checks with groups embedded, and a user's groups are
/// still listed by <c>/directory_groups?user=</c>.
/// </summary>
public sealed class ReadApiUserGroupsTests(ReadApiUserGroupsTests.Fixture fixture) : IClassFixture<ReadApiUserGroupsTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public SyncSystem System { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            System = await SyncSystem.StartAsync("read_api_user_groups", new Dictionary<string, string?> { ["ReadApi:Keys"] = ReadApiTests.Key });
            await SendAsync(System);
        }

        public async Task DisposeAsync() => await System.DisposeAsync();
    }

    private async Task<JsonObject> GetAsync(string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.System.GatewayUrl, pathAndQuery));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ReadApiTests.Key);
        using var response = await fixture.System.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{pathAndQuery}: {response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task By_default_users_have_empty_groups_in_lists_and_by_id_and_their_groups_are_listed_by_user()
    {
        var user = await GetAsync($"/directory_users/{UserId(1)}");
        Assert.Equal("directory_user", (string?)user["object"]);
        Assert.Equal(A, (string?)user["directory_id"]);
        Assert.Equal("""[{"slug":"admin"},{"slug":"member"}]""", user["roles"]!.ToJsonString());
        Assert.Equal("[]", user["groups"]!.ToJsonString());
        Assert.Equal("2026-01-15T13:00:00.000Z", (string?)user["updated_at"]);

        var page = (await GetAsync($"/directory_users?directory={A}&order=asc&limit=100"))["data"]!.AsArray();
        Assert.Equal(UsersOfA, page.Select(u => (string)u!["id"]!));
        Assert.All(page, u => Assert.Equal("[]", u!["groups"]!.ToJsonString()));
        Assert.Equal(user.ToJsonString(), page[0]!.ToJsonString());

        var members = (await GetAsync($"/directory_users?group={Engineering}&order=asc&limit=100"))["data"]!.AsArray();
        Assert.Equal(UsersOfA.Take(12), members.Select(u => (string)u!["id"]!));
        Assert.All(members, u => Assert.Equal("[]", u!["groups"]!.ToJsonString()));

        var groups = (await GetAsync($"/directory_groups?user={UserId(1)}"))["data"]!.AsArray();
        Assert.Equal([Engineering, Everyone], groups.Select(g => (string)g!["id"]!));
    }
}
