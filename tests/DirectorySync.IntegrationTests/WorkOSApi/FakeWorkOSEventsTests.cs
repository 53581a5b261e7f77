using System.Net;
using System.Text.Json;
using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using Xunit;

namespace DirectorySync.IntegrationTests.WorkOSApi;

/// <summary>
/// The fake's <c>GET /events</c> over real HTTP (FACTS §7): the event log as received, oldest first, the three list
/// styles, cursors and ranges, retention and the cursors it invalidates, and tailing while events arrive.
/// </summary>
public sealed class FakeWorkOSEventsTests : IAsyncLifetime
{
    private static readonly GeneratedHistory History = HistoryGenerator.Generate(new HistoryOptions
    {
        Directories = 2,
        UsersPerDirectory = 20,
        GroupsPerDirectory = 3,
        MembershipsPerUser = 2,
        ChurnPerDirectory = 40,
        Seed = 21,
    });

    private ServedFake _api = null!;

    public async Task InitializeAsync() => _api = await ServedFake.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private IEnumerable<string> HistoryIds => History.Events.Select(e => e.Id);

    [Fact]
    public async Task Paging_with_after_walks_the_whole_log_once_in_the_order_received()
    {
        _api.Fake.Publish(History.Events);

        var ids = await _api.IdsOfEveryPageAsync("/events?limit=7");

        Assert.Equal(HistoryIds, ids);
    }

    [Fact]
    public async Task Events_come_as_received_marked_as_events_and_oldest_first_whatever_the_order()
    {
        _api.Fake.Publish(History.Events);

        foreach (var order in new[] { "asc", "desc", "normal" })
        {
            Assert.Equal(HistoryIds.Take(100), (await _api.GetAsync($"/events?limit=100&order={order}")).Ids);
        }
        var first = (await _api.GetAsync("/events?limit=1")).Body.GetProperty("data")[0];
        Assert.Equal("event", first.GetProperty("object").GetString());
        Assert.Equal(History.Events[0].Id, first.GetProperty("id").GetString());
        Assert.Equal("dsync.activated", first.GetProperty("event").GetString());
        Assert.Contains(first.GetProperty("data").GetProperty("id").GetString(), History.DirectoryIds);
        Assert.Equal(History.Events[0].CreatedAt, DateTimeOffset.Parse(first.GetProperty("created_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.False((await _api.GetAsync("/events?limit=1")).Body.GetProperty("list_metadata").TryGetProperty("before", out _));
    }

    [Fact]
    public async Task The_three_list_styles_select_the_same_events()
    {
        _api.Fake.Publish(History.Events);
        string[] wanted = ["dsync.group.user_removed", "dsync.user.deleted"];
        var expected = History.Events.Where(e => wanted.Contains(e.Type)).Select(e => e.Id).ToList();

        var commas = await _api.IdsOfEveryPageAsync($"/events?limit=100&events={wanted[0]},{wanted[1]}");
        var repeated = await _api.IdsOfEveryPageAsync($"/events?limit=100&events={wanted[0]}&events={wanted[1]}");
        var brackets = await _api.IdsOfEveryPageAsync($"/events?limit=100&events[]={wanted[0]}&events%5B%5D={wanted[1]}");

        Assert.NotEmpty(expected);
        Assert.Equal(expected, commas);
        Assert.Equal(expected, repeated);
        Assert.Equal(expected, brackets);
    }

    [Fact]
    public async Task Organization_and_range_filters_select_their_events()
    {
        _api.Fake.Publish(History.Events);
        var organizationId = (await _api.GetAsync($"/directories/{History.DirectoryIds[1]}")).Body.GetProperty("organization_id").GetString();
        var start = History.Events[30].CreatedAt!.Value;
        var end = History.Events[60].CreatedAt!.Value;

        var ofOrganization = await _api.IdsOfEveryPageAsync($"/events?limit=100&organization_id={organizationId}");
        var inRange = await _api.IdsOfEveryPageAsync($"/events?limit=100&range_start={Iso(start)}&range_end={Iso(end)}");

        Assert.Equal(History.Events.Where(e => EventOfDirectory(e, History.DirectoryIds[1])).Select(e => e.Id), ofOrganization);
        Assert.Equal(HistoryIds.Skip(30).Take(31), inRange);
    }

    [Theory]
    [InlineData("range_start=2026-11-02T09:00:00Z&after={0}", "range_start")]
    [InlineData("range_start=yesterday", "range_start")]
    [InlineData("range_start=2026-11-03T00:00:00Z&range_end=2026-11-02T00:00:00Z", "range_end")]
    [InlineData("events=", "events")]
    [InlineData("events=,", "events")]
    [InlineData("limit=500", "limit")]
    [InlineData("order=newest", "order")]
    public async Task A_bad_parameter_answers_422_naming_it(string query, string field)
    {
        _api.Fake.Publish(History.Events);

        var answer = await _api.GetAsync("/events?" + string.Format(System.Globalization.CultureInfo.InvariantCulture, query, History.Events[3].Id));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
        Assert.Equal(field, answer.Body.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task An_expired_or_unknown_cursor_is_refused_with_the_configured_status()
    {
        _api.Fake.Publish(History.Events);
        _api.Fake.ExpireEventsBefore(History.Events[10].CreatedAt!.Value);

        var first = await _api.GetAsync("/events?limit=5");
        var expired = await _api.GetAsync($"/events?after={History.Events[9].Id}");
        var unknown = await _api.GetAsync("/events?after=event_00000000000000000000000000");
        _api.Fake.InvalidCursorStatus = 422;
        var expiredAs422 = await _api.GetAsync($"/events?after={History.Events[9].Id}");
        var stillServed = await _api.GetAsync($"/events?limit=1&after={History.Events[10].Id}");

        Assert.Equal(HistoryIds.Skip(10).Take(5), first.Ids);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_cursor"), (expired.Status, expired.ErrorCode));
        Assert.Contains("expired", expired.Body.GetProperty("message").GetString());
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_cursor"), (unknown.Status, unknown.ErrorCode));
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "invalid_cursor"), (expiredAs422.Status, expiredAs422.ErrorCode));
        Assert.Equal([History.Events[11].Id], stillServed.Ids);
        // The REST API still shows what the expired events made.
        foreach (var activation in History.Events.Take(10).Where(e => e.Type == "dsync.activated"))
        {
            using var envelope = JsonDocument.Parse(activation.Body);
            var directoryId = envelope.RootElement.GetProperty("data").GetProperty("id").GetString();
            Assert.Equal(HttpStatusCode.OK, (await _api.GetAsync($"/directories/{directoryId}")).Status);
        }
    }

    [Fact]
    public async Task Retention_counts_back_from_the_clock()
    {
        var now = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var clock = new ManualClock(now);
        await using var api = await ServedFake.StartAsync(clock);
        api.Fake.PublishJson(Envelopes.Activated("directory_old", "org_old", "Old", now.AddDays(-40)));
        api.Fake.PublishJson(Envelopes.User("dsync.user.created", "directory_user_old", "directory_old", now.AddDays(-20), now.AddDays(-20)));
        api.Fake.PublishJson(Envelopes.User("dsync.user.updated", "directory_user_old", "directory_old", now.AddDays(-20), now.AddDays(-5)));
        api.Fake.EventRetention = TimeSpan.FromDays(30);

        var within30Days = await api.GetAsync("/events");
        clock.Advance(TimeSpan.FromDays(11));
        var elevenDaysLater = await api.GetAsync("/events");

        Assert.Equal(["dsync.user.created", "dsync.user.updated"], within30Days.Body.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("event").GetString()));
        Assert.Equal(["dsync.user.updated"], elevenDaysLater.Body.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("event").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, (await api.GetAsync($"/events?after={within30Days.Ids[0]}")).Status);
    }

    [Fact]
    public async Task A_client_tailing_while_events_are_published_sees_each_once_in_order()
    {
        var publishing = Task.Run(async () =>
        {
            foreach (var chunk in History.Events.Chunk(25))
            {
                _api.Fake.Publish(chunk);
                await Task.Delay(5);
            }
        });

        var seen = new List<string>();
        string? cursor = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (seen.Count < History.Events.Count && DateTime.UtcNow < deadline)
        {
            var page = await _api.GetAsync(cursor is null ? "/events?limit=100" : $"/events?limit=100&after={cursor}");
            Assert.Equal(HttpStatusCode.OK, page.Status);
            seen.AddRange(page.Ids);
            // Caught up: the cursor is the last event applied, not list_metadata.after (null once nothing follows).
            cursor = seen.Count > 0 ? seen[^1] : null;
            if (page.Ids.Count == 0) await Task.Delay(2);
        }
        await publishing;

        Assert.Equal(HistoryIds, seen);
    }

    [Fact]
    public async Task A_change_made_for_the_API_alone_shows_in_events_and_lists()
    {
        _api.Fake.Publish(History.Events);
        var userId = _api.Fake.UserIds(History.DirectoryIds[0])[0];

        var update = _api.Fake.BuildUserUpdate(userId, "last_name", "Okonkwo-Smith");
        _api.Fake.Publish(update);

        var tail = await _api.GetAsync($"/events?after={History.Events[^1].Id}");
        Assert.Equal([update.Id], tail.Ids);
        Assert.Null(tail.After);
        Assert.Equal("Okonkwo-Smith", (await _api.GetAsync($"/directory_users/{userId}")).Body.GetProperty("last_name").GetString());
    }

    private static bool EventOfDirectory(WebhookEvent webhook, string directoryId) =>
        System.Text.Encoding.UTF8.GetString(webhook.Body.Span).Contains(directoryId, StringComparison.Ordinal);

    private static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
}
