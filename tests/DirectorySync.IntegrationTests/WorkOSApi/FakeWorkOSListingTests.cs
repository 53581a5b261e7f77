using System.Net;
using Xunit;

namespace DirectorySync.IntegrationTests.WorkOSApi;

/// <summary>
/// The fake's REST lists over real HTTP: WorkOS's paging (FACTS §8) at its edges, the filters, the objects' shapes and
/// what deletes leave. Directory one holds 25 users created in pairs within the same second (ids break the ties),
/// published shuffled, so only sorting by created_at then id gives the order asserted.
/// </summary>
public sealed class FakeWorkOSListingTests : IAsyncLifetime
{
    private const string One = "directory_one";
    private const string Two = "directory_two";
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private ServedFake _api = null!;

    private static string U(int i) => $"directory_user_{i:D2}";

    private static List<string> Users(int from, int to) => [.. Enumerable.Range(from, to - from + 1).Select(U)];

    private static List<string> UsersDescending(int from, int to) => [.. Enumerable.Range(to, from - to + 1).Reverse().Select(U)];

    public async Task InitializeAsync()
    {
        _api = await ServedFake.StartAsync();
        var fake = _api.Fake;
        fake.PublishJson(Envelopes.Activated(One, "org_one", "Acme", T0));
        fake.PublishJson(Envelopes.Activated(Two, "org_two", "Globex", T0.AddSeconds(1)));
        var order = Enumerable.Range(0, 25).ToArray();
        new Random(3).Shuffle(order);
        foreach (var i in order)
        {
            fake.PublishJson(Envelopes.User("dsync.user.created", U(i), One, T0.AddSeconds(i / 2), T0.AddMinutes(1)));
        }
        for (var i = 0; i < 3; i++)
        {
            fake.PublishJson(Envelopes.User("dsync.user.created", $"directory_user_two_{i}", Two, T0.AddSeconds(i), T0.AddMinutes(1)));
        }
        fake.PublishJson(Envelopes.Group("dsync.group.created", "directory_group_a", One, T0.AddMinutes(1), T0.AddMinutes(2)));
        fake.PublishJson(Envelopes.Group("dsync.group.created", "directory_group_b", One, T0.AddMinutes(2), T0.AddMinutes(2)));
        fake.PublishJson(Envelopes.Group("dsync.group.created", "directory_group_c", Two, T0.AddMinutes(1), T0.AddMinutes(2)));
        for (var i = 0; i < 5; i++)
        {
            fake.PublishJson(Envelopes.Membership("dsync.group.user_added", U(i), "directory_group_a", One, T0.AddMinutes(3)));
        }
        fake.PublishJson(Envelopes.Membership("dsync.group.user_added", U(0), "directory_group_b", One, T0.AddMinutes(3)));
        fake.PublishJson(Envelopes.Membership("dsync.group.user_added", "directory_user_two_0", "directory_group_c", Two, T0.AddMinutes(3)));
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Ascending_pages_carry_after_until_the_last_page_and_before_from_the_second()
    {
        var first = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=10");
        var second = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=10&after={first.After}");
        var last = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=10&after={second.After}");

        Assert.Equal(Users(0, 9), first.Ids);
        Assert.Equal((null, U(9)), (first.Before, first.After));
        Assert.Equal(Users(10, 19), second.Ids);
        Assert.Equal((U(10), U(19)), (second.Before, second.After));
        Assert.Equal(Users(20, 24), last.Ids);
        Assert.Equal((U(20), null), (last.Before, last.After));
        Assert.Equal("list", last.Body.GetProperty("object").GetString());
    }

    [Fact]
    public async Task A_listing_that_ends_on_a_full_page_says_so_on_that_page()
    {
        var fifth = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=5&after={U(19)}");

        Assert.Equal(Users(20, 24), fifth.Ids);
        Assert.Null(fifth.After);
    }

    [Fact]
    public async Task The_default_is_ten_newest_first()
    {
        var page = await _api.GetAsync($"/directory_users?directory={One}");

        Assert.Equal(UsersDescending(24, 15), page.Ids);
        Assert.Equal((null, U(15)), (page.Before, page.After));
    }

    [Fact]
    public async Task Before_serves_the_page_just_ahead_of_its_cursor()
    {
        var middle = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=10&before={U(20)}");
        var start = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=10&before={U(5)}");
        var descending = await _api.GetAsync($"/directory_users?directory={One}&limit=3&before={U(20)}");

        Assert.Equal(Users(10, 19), middle.Ids);
        Assert.Equal((U(10), U(19)), (middle.Before, middle.After));
        Assert.Equal(Users(0, 4), start.Ids);
        Assert.Equal((null, U(4)), (start.Before, start.After));
        Assert.Equal(UsersDescending(23, 21), descending.Ids);
        Assert.Equal((U(23), U(21)), (descending.Before, descending.After));
    }

    [Fact]
    public async Task Order_normal_is_descending_with_before_and_after_swapped()
    {
        var first = await _api.GetAsync($"/directory_users?directory={One}&order=normal&limit=10");
        var second = await _api.GetAsync($"/directory_users?directory={One}&order=normal&limit=10&before={first.Before}");
        var back = await _api.GetAsync($"/directory_users?directory={One}&order=normal&limit=10&after={second.After}");

        Assert.Equal(UsersDescending(24, 15), first.Ids);
        Assert.Equal((U(15), null), (first.Before, first.After));
        Assert.Equal(UsersDescending(14, 5), second.Ids);
        Assert.Equal((U(5), U(14)), (second.Before, second.After));
        Assert.Equal(first.Ids, back.Ids);
    }

    [Theory]
    [InlineData("asc", "after", 0, 24)]
    [InlineData("desc", "after", 24, 0)]
    [InlineData("normal", "before", 24, 0)]
    public async Task Following_the_cursor_visits_every_user_once_in_order(string order, string cursor, int first, int last)
    {
        var ids = await _api.IdsOfEveryPageAsync($"/directory_users?directory={One}&order={order}&limit=7", cursor);

        Assert.Equal(first < last ? Users(first, last) : UsersDescending(first, last), ids);
    }

    [Fact]
    public async Task A_cursor_deleted_since_still_pages_on()
    {
        var first = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=10");
        _api.Fake.PublishJson(Envelopes.User("dsync.user.deleted", U(9), One, T0.AddSeconds(4), T0.AddHours(1), state: "inactive"));

        var second = await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=10&after={first.After}");

        Assert.Equal(Users(10, 19), second.Ids);
    }

    [Theory]
    [InlineData("/directory_users/directory_user_nobody")]
    [InlineData("/directory_groups/directory_group_nobody")]
    [InlineData("/directories/directory_nobody")]
    [InlineData("/directory_users?directory=directory_one&after=directory_user_nobody")]
    public async Task An_unknown_id_answers_404_in_the_error_shape(string pathAndQuery)
    {
        var answer = await _api.GetAsync(pathAndQuery);

        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        Assert.Equal("entity_not_found", answer.ErrorCode);
        Assert.Contains("nobody", answer.Body.GetProperty("message").GetString());
        Assert.StartsWith("req_", answer.Headers.GetValues("X-Request-ID").Single());
    }

    [Theory]
    [InlineData("/directory_users?directory=directory_one&limit=0", "limit")]
    [InlineData("/directory_users?directory=directory_one&limit=101", "limit")]
    [InlineData("/directory_users?directory=directory_one&limit=ten", "limit")]
    [InlineData("/directory_users?directory=directory_one&order=sideways", "order")]
    [InlineData("/directory_users?directory=directory_one&before=directory_user_01&after=directory_user_02", "before")]
    [InlineData("/directory_users?limit=5", "directory")]
    [InlineData("/directory_users?group=directory_group_a&email=directory_user_01@example.com", "directory")]
    [InlineData("/directory_groups", "directory")]
    [InlineData("/directories?limit=5&limit=6", "limit")]
    public async Task A_bad_parameter_answers_422_naming_it(string pathAndQuery, string field)
    {
        var answer = await _api.GetAsync(pathAndQuery);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
        Assert.Equal("invalid_request_parameters", answer.ErrorCode);
        Assert.Equal(field, answer.Body.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.True(answer.Headers.Contains("X-Request-ID"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk_test_unknown")]
    public async Task A_request_without_a_known_key_answers_401(string? apiKey)
    {
        var answer = await _api.GetAsync("/directories", apiKey);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("unauthorized", answer.ErrorCode);
        Assert.True(answer.Headers.Contains("X-Request-ID"));
    }

    [Fact]
    public async Task Users_filter_by_group_and_within_a_directory_by_idp_id_and_email()
    {
        var ofGroup = await _api.GetAsync("/directory_users?group=directory_group_a&order=asc");
        var byIdpId = await _api.GetAsync($"/directory_users?directory={One}&idp_id=idp-{U(7)}");
        var byEmail = await _api.GetAsync($"/directory_users?directory={One}&email={U(7).ToUpperInvariant()}@example.com");
        var elsewhere = await _api.GetAsync($"/directory_users?directory={Two}&email={U(7)}@example.com");

        Assert.Equal(Users(0, 4), ofGroup.Ids);
        Assert.Equal([U(7)], byIdpId.Ids);
        Assert.Equal([U(7)], byEmail.Ids);
        Assert.Empty(elsewhere.Ids);
    }

    [Fact]
    public async Task Groups_filter_by_directory_and_by_user()
    {
        var ofDirectory = await _api.GetAsync($"/directory_groups?directory={One}&order=asc");
        var ofUser = await _api.GetAsync($"/directory_groups?user={U(0)}&order=asc");
        var ofOtherUser = await _api.GetAsync($"/directory_groups?user={U(3)}");

        Assert.Equal(["directory_group_a", "directory_group_b"], ofDirectory.Ids);
        Assert.Equal(["directory_group_a", "directory_group_b"], ofUser.Ids);
        Assert.Equal(["directory_group_a"], ofOtherUser.Ids);
    }

    [Fact]
    public async Task Directories_filter_by_organization_and_by_a_search_of_their_names()
    {
        var all = await _api.GetAsync("/directories?order=asc");
        var ofOrganization = await _api.GetAsync("/directories?organization_id=org_two");
        var searched = await _api.GetAsync("/directories?search=acm");

        Assert.Equal([One, Two], all.Ids);
        Assert.Equal([Two], ofOrganization.Ids);
        Assert.Equal([One], searched.Ids);
    }

    [Fact]
    public async Task A_directory_is_served_in_the_REST_vocabulary_with_its_counts()
    {
        _api.Fake.PublishJson(Envelopes.User("dsync.user.updated", U(3), One, T0.AddSeconds(1), T0.AddHours(1), state: "inactive"));

        var linked = (await _api.GetAsync($"/directories/{One}")).Body;
        _api.Fake.SetDirectoryState(One, "inactive");
        var unlinked = (await _api.GetAsync($"/directories/{One}")).Body;

        Assert.Equal("directory", linked.GetProperty("object").GetString());
        Assert.Equal("linked", linked.GetProperty("state").GetString());
        Assert.Equal("unlinked", unlinked.GetProperty("state").GetString());
        Assert.Equal("acme.example", linked.GetProperty("domain").GetString());
        Assert.Equal("org_one", linked.GetProperty("organization_id").GetString());
        Assert.Equal("key-directory_one", linked.GetProperty("external_key").GetString());
        Assert.False(linked.TryGetProperty("domains", out _));
        var metadata = linked.GetProperty("metadata");
        Assert.Equal(24, metadata.GetProperty("users").GetProperty("active").GetInt32());
        Assert.Equal(1, metadata.GetProperty("users").GetProperty("inactive").GetInt32());
        Assert.Equal(2, metadata.GetProperty("groups").GetInt32());
    }

    [Fact]
    public async Task A_user_is_served_as_its_event_carried_it_with_its_groups()
    {
        _api.Fake.PublishJson(Envelopes.User("dsync.user.updated", U(0), One, T0, T0.AddHours(1)));

        var user = (await _api.GetAsync($"/directory_users/{U(0)}")).Body;
        _api.Fake.ServeUserGroups = false;
        var withoutGroups = (await _api.GetAsync($"/directory_users?directory={One}&order=asc&limit=1")).Body.GetProperty("data")[0];

        Assert.Equal("directory_user", user.GetProperty("object").GetString());
        Assert.Equal("Engineering", user.GetProperty("custom_attributes").GetProperty("department").GetString());
        Assert.Equal("2026-11-02T10:00:00.000Z", user.GetProperty("updated_at").GetString());
        Assert.False(user.TryGetProperty("previous_attributes", out _));
        var groups = user.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(["directory_group_a", "directory_group_b"], groups.Select(g => g.GetProperty("id").GetString()));
        Assert.All(groups, g => Assert.Equal("directory_group", g.GetProperty("object").GetString()));
        Assert.Equal(0, withoutGroups.GetProperty("groups").GetArrayLength());
    }

    [Fact]
    public async Task Deleting_a_group_drops_its_memberships_from_both_listings()
    {
        _api.Fake.PublishJson(Envelopes.Group("dsync.group.deleted", "directory_group_a", One, T0.AddMinutes(1), T0.AddHours(1)));

        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync("/directory_groups/directory_group_a")).Status);
        Assert.Empty((await _api.GetAsync("/directory_users?group=directory_group_a")).Ids);
        Assert.Empty((await _api.GetAsync($"/directory_groups?user={U(1)}")).Ids);
        Assert.Equal(["directory_group_b"], (await _api.GetAsync($"/directory_groups?user={U(0)}")).Ids);
    }

    [Fact]
    public async Task Deleting_a_directory_drops_everything_in_it_and_nothing_else()
    {
        _api.Fake.PublishJson(Envelopes.DirectoryDeleted(One, "org_one", T0.AddHours(1)));

        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"/directories/{One}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"/directory_users/{U(0)}")).Status);
        Assert.Empty((await _api.GetAsync($"/directory_users?directory={One}")).Ids);
        Assert.Empty((await _api.GetAsync($"/directory_groups?directory={One}")).Ids);
        Assert.Equal([Two], (await _api.GetAsync("/directories")).Ids);
        Assert.Equal(3, (await _api.GetAsync($"/directory_users?directory={Two}")).Ids.Count);
        Assert.Equal(["directory_group_c"], (await _api.GetAsync("/directory_groups?user=directory_user_two_0")).Ids);
    }

    [Fact]
    public async Task Only_reads_are_served()
    {
        using var http = new HttpClient { BaseAddress = _api.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/directories/{One}");
        request.Headers.Authorization = new("Bearer", ServedFake.Key);

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("method_not_allowed", await response.Content.ReadAsStringAsync());
        Assert.Equal([One, Two], _api.Fake.DirectoryIds());
    }
}
