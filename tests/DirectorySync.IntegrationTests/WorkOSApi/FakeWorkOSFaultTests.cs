using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DirectorySync.Simulator.WorkOSApi;
using Xunit;

namespace DirectorySync.IntegrationTests.WorkOSApi;

/// <summary>
/// The fake's fault controls over real HTTP, set while it serves: 429 storms with <c>Retry-After</c>, 5xx, malformed
/// entries, short listings, slowness, and the traffic record tests use to judge a client's manners.
/// </summary>
public sealed class FakeWorkOSFaultTests : IAsyncLifetime
{
    private const string Directory = "directory_faults";
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly ManualClock _clock = new(T0.AddDays(1));
    private ServedFake _api = null!;

    private string ListUsers => $"/directory_users?directory={Directory}&order=asc&limit=5";

    public async Task InitializeAsync()
    {
        _api = await ServedFake.StartAsync(_clock);
        _api.Fake.PublishJson(Envelopes.Activated(Directory, "org_faults", "Faulty", T0));
        for (var i = 0; i < 20; i++)
        {
            _api.Fake.PublishJson(Envelopes.User("dsync.user.created", $"directory_user_{i:D2}", Directory, T0.AddSeconds(i), T0.AddSeconds(i)));
        }
        _api.Fake.PublishJson(Envelopes.Group("dsync.group.created", "directory_group_x", Directory, T0.AddMinutes(1), T0.AddMinutes(1)));
        _api.Fake.PublishJson(Envelopes.Membership("dsync.group.user_added", "directory_user_00", "directory_group_x", Directory, T0.AddMinutes(2)));
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Throttled_requests_answer_429_with_Retry_After_in_whole_seconds_then_recover()
    {
        _api.Fake.Faults.ThrottleNext(2, TimeSpan.FromSeconds(1.2));

        var first = await _api.GetAsync(ListUsers);
        var second = await _api.GetAsync("/directories");
        var third = await _api.GetAsync(ListUsers);

        Assert.Equal((HttpStatusCode.TooManyRequests, "rate_limit_exceeded"), (first.Status, first.ErrorCode));
        Assert.Equal("2", first.Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, second.Status);
        Assert.True(second.Headers.Contains("X-Request-ID"));
        Assert.Equal(HttpStatusCode.OK, third.Status);
        Assert.Equal(2, _api.Fake.Traffic.Throttled);
    }

    [Fact]
    public async Task Retry_After_can_be_an_HTTP_date()
    {
        _api.Fake.Faults.ThrottleNext(1, TimeSpan.FromSeconds(30), retryAfterAsDate: true);

        var answer = await _api.GetAsync(ListUsers);

        Assert.Equal(HttpStatusCode.TooManyRequests, answer.Status);
        Assert.Equal(_clock.GetUtcNow().AddSeconds(30), answer.Headers.RetryAfter!.Date);
    }

    [Fact]
    public async Task A_throttle_for_one_path_leaves_the_others_alone_and_one_for_a_while_ends_with_it()
    {
        _api.Fake.Faults.ThrottleFor(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), path: "/directory_users");

        Assert.Equal(HttpStatusCode.TooManyRequests, (await _api.GetAsync(ListUsers)).Status);
        Assert.Equal(HttpStatusCode.OK, (await _api.GetAsync($"/directory_groups?directory={Directory}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _api.GetAsync("/directory_users/directory_user_03")).Status);
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await _api.GetAsync(ListUsers)).Status);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await _api.GetAsync(ListUsers)).Status);
    }

    [Fact]
    public async Task The_third_page_of_a_listing_fails_once_and_its_retry_succeeds()
    {
        _api.Fake.Faults.FailRequest(3, 503, path: "/directory_users");

        var first = await _api.GetAsync(ListUsers);
        var second = await _api.GetAsync($"{ListUsers}&after={first.After}");
        var third = await _api.GetAsync($"{ListUsers}&after={second.After}");
        var retried = await _api.GetAsync($"{ListUsers}&after={second.After}");

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "service_unavailable"), (third.Status, third.ErrorCode));
        Assert.Equal(["directory_user_10", "directory_user_11", "directory_user_12", "directory_user_13", "directory_user_14"], retried.Ids);
    }

    [Fact]
    public async Task The_next_requests_fail_with_the_status_asked_for()
    {
        _api.Fake.Faults.FailNext(2, 502);

        Assert.Equal(HttpStatusCode.BadGateway, (await _api.GetAsync("/directories")).Status);
        Assert.Equal(HttpStatusCode.BadGateway, (await _api.GetAsync("/events")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _api.GetAsync("/directories")).Status);
        Assert.Throws<ArgumentOutOfRangeException>(() => _api.Fake.Faults.FailNext(1, 429));
    }

    [Fact]
    public async Task A_short_listing_hides_users_from_the_list_but_not_from_counts_lookups_or_events()
    {
        var hidden = _api.Fake.Faults.HideUsers(Directory, 0.8);

        var listed = await _api.IdsOfEveryPageAsync(ListUsers);
        var directory = (await _api.GetAsync($"/directories/{Directory}")).Body;
        var events = await _api.IdsOfEveryPageAsync("/events?limit=100&events=dsync.user.created");

        Assert.Equal(16, hidden.Count);
        Assert.Equal(4, listed.Count);
        Assert.Empty(listed.Intersect(hidden));
        Assert.Equal(20, directory.GetProperty("metadata").GetProperty("users").GetProperty("active").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await _api.GetAsync($"/directory_users/{hidden[0]}")).Status);
        Assert.Equal(20, events.Count);
        _api.Fake.Faults.Clear();
        Assert.Equal(20, (await _api.IdsOfEveryPageAsync(ListUsers)).Count);
    }

    [Fact]
    public async Task A_malformed_entry_breaks_one_page_and_the_next_is_whole()
    {
        _api.Fake.Faults.MalformNext(MalformedEntry.MissingId, path: "/directory_users");
        var withoutId = await _api.GetAsync(ListUsers);
        var whole = await _api.GetAsync(ListUsers);
        _api.Fake.Faults.MalformNext(MalformedEntry.NotAnObject);
        var notAnObject = await _api.GetAsync("/events?limit=3");

        var entries = withoutId.Body.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(5, entries.Count);
        Assert.Single(entries, entry => !entry.TryGetProperty("id", out _));
        Assert.Equal("directory_user", entries[2].GetProperty("object").GetString());
        Assert.Equal(5, whole.Ids.Count);
        Assert.Equal(JsonValueKind.String, notAnObject.Body.GetProperty("data")[1].ValueKind);
    }

    [Fact]
    public async Task Traffic_records_requests_per_key_and_directory_user_requests_per_directory()
    {
        for (var i = 0; i < 8; i++)
        {
            await _api.GetAsync(i % 2 == 0 ? ListUsers : "/directory_users?group=directory_group_x", i < 6 ? ServedFake.Key : ServedFake.OtherKey);
            _clock.Advance(TimeSpan.FromMilliseconds(250));
        }
        await _api.GetAsync("/directory_users/directory_user_05");
        await _api.GetAsync($"/directory_groups?directory={Directory}");
        await _api.GetAsync("/directories", apiKey: null);

        var traffic = _api.Fake.Traffic;
        Assert.Equal(8, traffic.RequestsByKey[ServedFake.Key]);
        Assert.Equal(2, traffic.RequestsByKey[ServedFake.OtherKey]);
        Assert.Equal(11, traffic.Requests.Count);
        Assert.Equal(9, traffic.DirectoryUserRequests(Directory).Count);
        Assert.Equal(4, traffic.PeakDirectoryUserRequests(Directory, TimeSpan.FromSeconds(1)));
        Assert.Equal(5, traffic.PeakDirectoryUserRequests(Directory, TimeSpan.FromSeconds(1.1)));
        Assert.Single(traffic.Requests, r => r.Status == 401 && r.ApiKey is null);
    }

    [Fact]
    public async Task Slow_mode_delays_each_answer()
    {
        _api.Fake.Faults.Delay = TimeSpan.FromMilliseconds(300);

        var watch = Stopwatch.StartNew();
        var answer = await _api.GetAsync("/directories");

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(300), $"answered after {watch.Elapsed.TotalMilliseconds:0} ms");
    }
}
