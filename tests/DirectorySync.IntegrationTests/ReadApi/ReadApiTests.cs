using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DirectorySync.IntegrationTests.EndToEnd;
using Xunit;
using static DirectorySync.IntegrationTests.ReadApi.ReadApiDirectories;

namespace DirectorySync.IntegrationTests.ReadApi;

/// <summary>
/// The read API over real HTTP on a gateway whose mirror was filled by real webhooks (<see cref="ReadApiDirectories"/>):
/// keyset pages in every order and from both ends, each filter, WorkOS's error answers, the freshness header, and keys.
/// Users' groups are embedded (<c>ReadApi__UserGroups=embedded</c>); <see cref="ReadApiUserGroupsTests"/> covers the default.
/// </summary>
public sealed class ReadApiTests(ReadApiTests.Fixture fixture) : IClassFixture<ReadApiTests.Fixture>
{
    public const string Key = "read-api-key-for-tests-0123456789-abcdef";
    private const string OtherKey = "read-api-second-key-0123456789-abcdefgh";

    public sealed class Fixture : IAsyncLifetime
    {
        public CapturedLogs Logs { get; } = new();

        public SyncSystem System { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            System = await SyncSystem.StartAsync("read_api", new Dictionary<string, string?>
            {
                ["ReadApi:Keys"] = $"{Key}, {OtherKey}",
                ["ReadApi:UserGroups"] = "embedded",
                ["Logging:LogLevel:DirectorySync.Gateway.ReadApi.ReadApi"] = "Information",
            }, Logs);
            await SendAsync(System);
        }

        public async Task DisposeAsync() => await System.DisposeAsync();
    }

    private sealed record Answer(HttpStatusCode Status, HttpResponseHeaders Headers, JsonNode? Body)
    {
        public JsonObject Object => Body!.AsObject();

        public IReadOnlyList<string> Ids => Body!["data"]!.AsArray().Select(o => (string)o!["id"]!).ToArray();

        public string? Before => (string?)Body!["list_metadata"]!["before"];

        public string? After => (string?)Body!["list_metadata"]!["after"];
    }

    private async Task<Answer> GetAsync(string pathAndQuery, string? key = Key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.System.GatewayUrl, pathAndQuery));
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await fixture.System.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Headers.Contains("X-Request-ID"), $"{pathAndQuery}: no X-Request-ID ({response.StatusCode} {text})");
        Assert.True(response.StatusCode != HttpStatusCode.InternalServerError, $"{pathAndQuery}: 500 {text}");
        return new Answer(response.StatusCode, response.Headers, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>Every page of a list, following <c>after</c> from the first page as the SDKs do.</summary>
    private async Task<List<string>> AllPagesAsync(string pathAndQuery)
    {
        var ids = new List<string>();
        var page = await GetAsync(pathAndQuery);
        Assert.Null(page.Before);
        ids.AddRange(page.Ids);
        while (page.After is { } after)
        {
            page = await GetAsync($"{pathAndQuery}&after={after}");
            Assert.Equal(HttpStatusCode.OK, page.Status);
            Assert.Equal(page.Ids.FirstOrDefault(), page.Before);
            ids.AddRange(page.Ids);
        }
        return ids;
    }

    private static void AssertError(Answer answer, HttpStatusCode status, string code, string? field = null)
    {
        Assert.Equal(status, answer.Status);
        Assert.Equal(code, (string?)answer.Body!["code"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)answer.Body!["message"]));
        if (field is not null) Assert.Contains(answer.Body!["errors"]!.AsArray(), e => (string?)e!["field"] == field);
    }

    [Fact]
    public async Task Users_of_a_directory_page_newest_first_by_default_with_list_metadata_null_at_both_ends()
    {
        var first = await GetAsync($"/directory_users?directory={A}");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("list", (string?)first.Body!["object"]);
        Assert.Equal(UsersOfA.Reverse().Take(10), first.Ids);
        Assert.Null(first.Before);
        Assert.Equal(UserId(16), first.After);

        var second = await GetAsync($"/directory_users?directory={A}&after={first.After}");
        Assert.Equal(UsersOfA.Reverse().Skip(10).Take(10), second.Ids);
        Assert.Equal(UserId(15), second.Before);
        Assert.Equal(UserId(6), second.After);

        var last = await GetAsync($"/directory_users?directory={A}&after={second.After}");
        Assert.Equal(UsersOfA.Reverse().Skip(20), last.Ids);
        Assert.Equal(UserId(5), last.Before);
        Assert.Null(last.After);
    }

    [Fact]
    public async Task Ascending_pages_walk_forward_with_after_and_back_with_before()
    {
        Assert.Equal(UsersOfA, await AllPagesAsync($"/directory_users?directory={A}&order=asc&limit=7"));

        var end = await GetAsync($"/directory_users?directory={A}&order=asc&limit=7&after={UserId(21)}");
        Assert.Equal(UsersOfA.Skip(21), end.Ids);
        Assert.Equal(UserId(22), end.Before);
        Assert.Null(end.After);

        var back = await GetAsync($"/directory_users?directory={A}&order=asc&limit=7&before={end.Before}");
        Assert.Equal(UsersOfA.Skip(14).Take(7), back.Ids);
        Assert.Equal(UserId(15), back.Before);
        Assert.Equal(UserId(21), back.After);

        var start = await GetAsync($"/directory_users?directory={A}&order=asc&limit=7&before={UserId(5)}");
        Assert.Equal(UsersOfA.Take(4), start.Ids);
        Assert.Null(start.Before);
        Assert.Equal(UserId(4), start.After);
    }

    [Fact]
    public async Task Descending_pages_walk_back_with_before_to_the_newest()
    {
        Assert.Equal(UsersOfA.Reverse(), await AllPagesAsync($"/directory_users?directory={A}&order=desc&limit=4"));

        var newest = await GetAsync($"/directory_users?directory={A}&limit=4&before={UserId(22)}");
        Assert.Equal([UserId(25), UserId(24), UserId(23)], newest.Ids);
        Assert.Null(newest.Before);
        Assert.Equal(UserId(23), newest.After);
    }

    [Fact]
    public async Task Normal_order_is_descending_with_before_and_after_swapped()
    {
        var first = await GetAsync($"/directory_users?directory={A}&order=normal&limit=10");
        Assert.Equal(UsersOfA.Reverse().Take(10), first.Ids);
        Assert.Null(first.After);
        Assert.Equal(UserId(16), first.Before);

        var older = await GetAsync($"/directory_users?directory={A}&order=normal&limit=10&before={first.Before}");
        Assert.Equal(UsersOfA.Reverse().Skip(10).Take(10), older.Ids);
        Assert.Equal(UserId(15), older.After);
        Assert.Equal(UserId(6), older.Before);

        var newer = await GetAsync($"/directory_users?directory={A}&order=normal&limit=10&after={older.After}");
        Assert.Equal(first.Ids, newer.Ids);
        Assert.Null(newer.After);
    }

    [Fact]
    public async Task An_empty_list_and_a_single_page_have_no_cursors()
    {
        var empty = await GetAsync($"/directory_users?group={Empty}");
        Assert.Equal(HttpStatusCode.OK, empty.Status);
        Assert.Empty(empty.Ids);
        Assert.Null(empty.Before);
        Assert.Null(empty.After);

        var all = await GetAsync($"/directory_users?directory={A}&limit=100");
        Assert.Equal(25, all.Ids.Count);
        Assert.Null(all.Before);
        Assert.Null(all.After);

        var exact = await GetAsync($"/directory_users?directory={A}&limit=25&order=asc");
        Assert.Equal(UsersOfA, exact.Ids);
        Assert.Null(exact.After);
    }

    [Fact]
    public async Task Users_filter_by_group_idp_id_and_email_and_groups_by_directory_and_user()
    {
        Assert.Equal(UsersOfA.Take(12).Reverse(), await AllPagesAsync($"/directory_users?group={Engineering}&limit=5"));
        Assert.Equal(UsersOfA.Take(12).Reverse(), (await GetAsync($"/directory_users?directory={A}&group={Engineering}&limit=20")).Ids);
        Assert.Empty((await GetAsync($"/directory_users?directory={B}&group={Engineering}")).Ids);
        Assert.Equal([UserId(9)], (await GetAsync($"/directory_users?directory={A}&idp_id=idp-9")).Ids);
        Assert.Equal([UserId(9)], (await GetAsync($"/directory_users?directory={A}&email=person.9@example.TEST")).Ids);
        Assert.Empty((await GetAsync($"/directory_users?directory={B}&email=person.9@example.test")).Ids);

        Assert.Equal([Everyone, Engineering, Empty], (await GetAsync($"/directory_groups?directory={A}&order=asc")).Ids);
        Assert.Equal([Engineering, Everyone], (await GetAsync($"/directory_groups?user={UserId(3)}")).Ids);
        Assert.Equal([Everyone], (await GetAsync($"/directory_groups?user={UserId(20)}")).Ids);
        Assert.Equal([BetaGroup], (await GetAsync($"/directory_groups?directory={B}")).Ids);
    }

    [Fact]
    public async Task Directories_filter_by_organization_search_and_domain()
    {
        Assert.Equal([B, A], (await GetAsync("/directories")).Ids);
        Assert.Equal([A], (await GetAsync("/directories?organization_id=org_read")).Ids);
        Assert.Equal([B], (await GetAsync("/directories?search=beta")).Ids);
        Assert.Equal([A], (await GetAsync("/directories?search=ME%20c")).Ids);
        Assert.Empty((await GetAsync("/directories?search=%25")).Ids);
        Assert.Equal([A], (await GetAsync("/directories?domain=ACME.test")).Ids);
    }

    [Fact]
    public async Task Objects_have_WorkOS_shapes()
    {
        var directory = (await GetAsync($"/directories/{A}")).Object;
        Assert.Equal("directory", (string?)directory["object"]);
        Assert.Equal("linked", (string?)directory["state"]);
        Assert.Equal("acme.test", (string?)directory["domain"]);
        Assert.Equal("key-Acme Corp", (string?)directory["external_key"]);
        Assert.Equal("2026-01-05T12:00:00.000Z", (string?)directory["created_at"]);

        var user = (await GetAsync($"/directory_users/{UserId(1)}")).Object;
        Assert.Equal("directory_user", (string?)user["object"]);
        Assert.Equal(A, (string?)user["directory_id"]);
        Assert.Equal("Person.1@Example.test", (string?)user["email"]);
        Assert.Equal("""{"slug":"admin"}""", user["role"]!.ToJsonString());
        Assert.Equal("""[{"slug":"admin"},{"slug":"member"}]""", user["roles"]!.ToJsonString());
        Assert.Equal("""{"department":"Engineering"}""", user["custom_attributes"]!.ToJsonString());
        Assert.Equal([Everyone, Engineering], user["groups"]!.AsArray().Select(g => (string)g!["id"]!));
        Assert.All(user["groups"]!.AsArray(), g => Assert.Equal("directory_group", (string?)g!["object"]));
        Assert.Equal("2026-01-15T12:00:00.000Z", (string?)user["created_at"]);
        Assert.Equal("2026-01-15T13:00:00.000Z", (string?)user["updated_at"]);
        Assert.Equal("inactive", (string?)(await GetAsync($"/directory_users/{UserId(7)}")).Body!["state"]);

        var listed = (await GetAsync($"/directory_users?directory={A}&order=asc&limit=1")).Body!["data"]![0]!;
        Assert.Equal(user.ToJsonString(), listed.ToJsonString());

        var group = (await GetAsync($"/directory_groups/{Engineering}")).Object;
        Assert.Equal("directory_group", (string?)group["object"]);
        Assert.Equal("Engineering", (string?)group["name"]);
        Assert.Equal(A, (string?)group["directory_id"]);
    }

    [Fact]
    public async Task Answers_about_one_directory_say_when_it_was_last_confirmed_current()
    {
        const string expected = "2026-12-01T08:30:15.123Z";
        string? SyncedAt(Answer a) => a.Headers.TryGetValues("X-DirectorySync-Synced-At", out var v) ? v.Single() : null;

        Assert.Equal(expected, SyncedAt(await GetAsync($"/directory_users?directory={A}")));
        Assert.Equal(expected, SyncedAt(await GetAsync($"/directory_users?group={Engineering}")));
        Assert.Equal(expected, SyncedAt(await GetAsync($"/directory_groups?user={UserId(2)}")));
        Assert.Equal(expected, SyncedAt(await GetAsync($"/directory_users/{UserId(2)}")));
        Assert.Equal(expected, SyncedAt(await GetAsync($"/directory_groups/{Everyone}")));
        Assert.Equal(expected, SyncedAt(await GetAsync($"/directories/{A}")));
        Assert.Null(SyncedAt(await GetAsync("/directories")));
        Assert.Null(SyncedAt(await GetAsync($"/directory_users?directory={B}")));
        Assert.Null(SyncedAt(await GetAsync($"/directories/{B}")));
    }

    [Theory]
    [InlineData("/directory_users?directory=X&directory_id=Y", "directory_id")]
    [InlineData("/directory_users?directory=X&limit=0", "limit")]
    [InlineData("/directory_users?directory=X&limit=101", "limit")]
    [InlineData("/directory_users?directory=X&limit=ten", "limit")]
    [InlineData("/directory_users?directory=X&limit=-1", "limit")]
    [InlineData("/directory_users?directory=X&limit=%2B5", "limit")]
    [InlineData("/directory_users?directory=X&order=newest", "order")]
    [InlineData("/directory_users?directory=X&limit=5&limit=6", "limit")]
    [InlineData("/directory_users?directory=", "directory")]
    [InlineData("/directory_users?directory=a%00b", "directory")]
    [InlineData("/directory_users?directory=X&before=a&after=b", "before")]
    [InlineData("/directories?directory=X", "directory")]
    [InlineData("/directory_groups?directory=X&group=Y", "group")]
    public async Task Malformed_parameters_answer_400_naming_the_field(string pathAndQuery, string field) =>
        AssertError(await GetAsync(pathAndQuery), HttpStatusCode.BadRequest, "invalid_request_parameters", field);

    [Theory]
    [InlineData("/directory_users")]
    [InlineData("/directory_users?idp_id=idp-1")]
    [InlineData("/directory_users?group=G&email=a@b.test")]
    [InlineData("/directory_groups")]
    [InlineData("/directory_groups?limit=5")]
    public async Task Lists_without_their_required_filters_answer_422(string pathAndQuery) =>
        AssertError(await GetAsync(pathAndQuery), HttpStatusCode.UnprocessableEntity, "invalid_request_parameters");

    [Fact]
    public async Task Cursors_that_name_no_object_of_the_list_answer_400()
    {
        AssertError(await GetAsync($"/directory_users?directory={A}&after=directory_user_nobody"), HttpStatusCode.BadRequest, "invalid_request_parameters", "after");
        AssertError(await GetAsync($"/directory_users?directory={A}&before={Engineering}"), HttpStatusCode.BadRequest, "invalid_request_parameters", "before");
        AssertError(await GetAsync($"/directory_users?directory={A}&order=normal&after=x"), HttpStatusCode.BadRequest, "invalid_request_parameters", "after");
    }

    [Theory]
    [InlineData("/directories/directory_unknown")]
    [InlineData("/directory_users/directory_user_unknown")]
    [InlineData($"/directory_users/{Engineering}")]
    [InlineData("/directory_groups/directory_group_unknown")]
    [InlineData("/directory_users?directory=directory_unknown")]
    [InlineData("/directory_users?group=directory_group_unknown")]
    [InlineData($"/directory_users?directory={A}&group=directory_group_unknown")]
    [InlineData("/directory_groups?user=directory_user_unknown")]
    public async Task Unknown_ids_answer_404(string pathAndQuery) =>
        AssertError(await GetAsync(pathAndQuery), HttpStatusCode.NotFound, "entity_not_found");

    [Fact]
    public async Task Every_key_is_accepted_and_a_missing_or_wrong_key_answers_401_without_logging_it()
    {
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/directories", OtherKey)).Status);
        const string wrong = "not-the-key-0123456789-0123456789-0123456789";
        foreach (var key in new[] { null, wrong, Key[..^1], Key + "x", "" })
        {
            var answer = await GetAsync($"/directory_users/{UserId(1)}", key);
            AssertError(answer, HttpStatusCode.Unauthorized, "unauthorized");
            Assert.Null(answer.Body!["id"]);
        }

        using var basic = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.System.GatewayUrl, "/directories"));
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Key);
        using var response = await fixture.System.Http.SendAsync(basic);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);

        Assert.Contains(fixture.Logs.Entries, e => e.Contains("refused /directory_users/") && e.Contains("401"));
        Assert.DoesNotContain(fixture.Logs.Entries, e => e.Contains(wrong) || e.Contains(Key[..20]));
    }

    [Fact]
    public async Task Refusals_are_logged_with_their_request_id()
    {
        var answer = await GetAsync("/directory_users?directory=X&limit=0");
        var requestId = answer.Headers.GetValues("X-Request-ID").Single();
        Assert.Contains(fixture.Logs.Entries, e => e.Contains("answered 400 to /directory_users") && e.Contains(requestId));
    }
}
