using System.Diagnostics;
using System.Net;
using System.Text;
using DirectorySync.Events;
using DirectorySync.WorkOS;
using Microsoft.AspNetCore.Http;
using Xunit;
using static DirectorySync.UnitTests.WorkOS.FakeWorkOS;

namespace DirectorySync.UnitTests.WorkOS;

public sealed class WorkOSClientTests
{
    private const string DirectoryId = "directory_01ECAZ4NV9QMV47GW873HDCX74";

    private static readonly string[] TenTypes =
    [
        "dsync.activated", "dsync.deleted", "dsync.user.created", "dsync.user.updated", "dsync.user.deleted",
        "dsync.group.created", "dsync.group.updated", "dsync.group.deleted", "dsync.group.user_added", "dsync.group.user_removed",
    ];

    private static Task EmptyList(HttpContext context, Received _) => WriteJsonAsync(context, List([]));

    [Fact]
    public async Task Every_request_carries_the_api_key_as_a_bearer_token()
    {
        await using var server = await StartAsync(EmptyList);
        var (client, _) = server.CreateClient();

        await client.ListDirectoriesAsync(after: null);
        await client.ListEventsAsync(new EventsQuery());

        Assert.All(server.Requests, r => Assert.Equal($"Bearer {ApiKey}", r.Authorization));
    }

    [Fact]
    public async Task Listing_all_users_follows_after_until_WorkOS_says_there_are_no_more()
    {
        var users = Enumerable.Range(0, 250).Select(i => $"directory_user_{i:D3}").ToArray();
        await using var server = await StartAsync((context, request) =>
        {
            var start = request["after"] is { } after ? Array.IndexOf(users, after) + 1 : 0;
            var page = users.Skip(start).Take(int.Parse(request["limit"]!)).ToArray();
            var more = start + page.Length < users.Length;
            return WriteJsonAsync(context, List(page.Select(id => User(id, DirectoryId)), after: more ? page[^1] : null, before: start > 0 ? page[0] : null));
        });
        var (client, _) = server.CreateClient();

        var pages = await client.ListAllUsersAsync(DirectoryId, groupId: null).ToListAsync();

        Assert.Equal(users, pages.SelectMany(p => p.Items).Select(i => i.Value!.Id));
        Assert.Equal([null, "directory_user_099", "directory_user_199"], server.Requests.Select(r => r["after"]));
        Assert.All(server.Requests, r =>
        {
            Assert.Equal("/directory_users", r.Path);
            Assert.Equal(DirectoryId, r["directory"]);
            Assert.Equal("100", r["limit"]);
            Assert.Equal("asc", r["order"]);
        });
        Assert.Null(pages[^1].After);
    }

    [Fact]
    public async Task The_documented_users_page_reads_as_the_last_page_of_one_user()
    {
        var documented = Encoding.UTF8.GetString(Fixture.Bytes("rest/list_directory_user_with_groups.json"));
        await using var server = await StartAsync((context, _) => WriteJsonAsync(context, documented));
        var (client, _) = server.CreateClient();

        var page = Assert.Single(await client.ListAllUsersAsync(DirectoryId, groupId: null).ToListAsync());

        Assert.Equal("marcelina.davis@example.com", Assert.Single(page.Items).Value!.Email);
        Assert.Null(page.After);
        Assert.Null(page.Before);
    }

    [Fact]
    public async Task A_REST_page_that_is_short_but_names_a_next_cursor_is_not_taken_as_the_end()
    {
        await using var server = await StartAsync((context, request) => WriteJsonAsync(context, request["after"] is null
            ? List([User("directory_user_1")], after: "directory_user_1")
            : List([User("directory_user_2")])));
        var (client, _) = server.CreateClient();

        var pages = await client.ListAllUsersAsync("directory_1", groupId: null).ToListAsync();

        Assert.Equal(2, pages.Count);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task A_group_listing_names_the_group_alone()
    {
        await using var server = await StartAsync(EmptyList);
        var (client, _) = server.CreateClient();

        await client.ListUsersAsync(DirectoryId, "directory_group_1", after: null, limit: 10);

        var request = Assert.Single(server.Requests);
        Assert.Equal("?group=directory_group_1&limit=10&order=asc", request.RawQuery);
    }

    [Theory]
    [InlineData("comma", "events=dsync.activated,dsync.deleted,dsync.user.created,dsync.user.updated,dsync.user.deleted,dsync.group.created,dsync.group.updated,dsync.group.deleted,dsync.group.user_added,dsync.group.user_removed&")]
    [InlineData("repeat", "events=dsync.activated&events=dsync.deleted&events=dsync.user.created&events=dsync.user.updated&events=dsync.user.deleted&events=dsync.group.created&events=dsync.group.updated&events=dsync.group.deleted&events=dsync.group.user_added&events=dsync.group.user_removed&")]
    [InlineData("brackets", "events[]=dsync.activated&events[]=dsync.deleted&events[]=dsync.user.created&events[]=dsync.user.updated&events[]=dsync.user.deleted&events[]=dsync.group.created&events[]=dsync.group.updated&events[]=dsync.group.deleted&events[]=dsync.group.user_added&events[]=dsync.group.user_removed&")]
    public async Task The_events_list_is_written_in_the_configured_style(string style, string expectedEvents)
    {
        await using var server = await StartAsync(EmptyList);
        var (client, _) = server.CreateClient(("EventsQueryStyle", style));

        await client.ListEventsAsync(new EventsQuery
        {
            RangeStart = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.FromHours(2)),
            RangeEnd = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero),
            OrganizationId = "org_1",
            Limit = 50,
        });

        var request = Assert.Single(server.Requests);
        Assert.Equal("/events", request.Path);
        Assert.Equal(
            "?" + expectedEvents + "organization_id=org_1&range_start=2026-03-01T08%3A00%3A00.000Z&range_end=2026-03-01T09%3A30%3A00.000Z&limit=50&order=asc",
            request.RawQuery);
        Assert.Equal(TenTypes, WorkOSEventParser.DirectorySyncEventTypes);
    }

    [Fact]
    public async Task An_events_query_with_both_after_and_range_start_is_refused_before_anything_is_sent()
    {
        await using var server = await StartAsync(EmptyList);
        var (client, _) = server.CreateClient();

        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            client.ListEventsAsync(new EventsQuery { After = "event_1", RangeStart = DateTimeOffset.UtcNow }));

        Assert.Contains("range_start", refused.Message);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Event_paging_continues_after_each_page_cursor_without_range_start_and_stops_at_a_short_page()
    {
        await using var server = await StartAsync((context, request) => WriteJsonAsync(context, request["after"] switch
        {
            null => List([Event("event_1"), Event("event_2")], after: "event_2"),
            "event_2" => List([Event("event_3")], after: "event_3"),
            _ => List([]),
        }));
        var (client, _) = server.CreateClient();

        var pages = await client.ListAllEventsAsync(new EventsQuery { RangeStart = DateTimeOffset.UtcNow.AddHours(-1), Limit = 2 }).ToListAsync();

        Assert.Equal(["event_1", "event_2", "event_3"], pages.SelectMany(p => p.Items).Select(i => i.Value!.Id));
        Assert.Equal(2, server.Requests.Count);
        Assert.NotNull(server.Requests[0]["range_start"]);
        Assert.Null(server.Requests[0]["after"]);
        Assert.Null(server.Requests[1]["range_start"]);
        Assert.Equal("event_2", server.Requests[1]["after"]);
    }

    [Fact]
    public async Task Each_listed_event_is_judged_by_the_webhook_parser_and_keeps_its_bytes()
    {
        var future = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        string[] entries =
        [
            Event("event_applied"),
            """{"id":"event_other","event":"connection.activated","data":{},"created_at":"2026-03-01T10:00:00.000Z"}""",
            Event("event_future", createdAt: future),
            """{"event":"dsync.user.created","data":{}}""",
            "42",
        ];
        await using var server = await StartAsync((context, _) => WriteJsonAsync(context, List(entries)));
        var (client, logs) = server.CreateClient();

        var page = await client.ListEventsAsync(new EventsQuery());

        var applied = page.Items[0].Value!;
        Assert.Equal("event_applied", applied.Id);
        Assert.Equal(SyncEventKind.UserCreated, Assert.IsType<ParsedWebhook.Applicable>(applied.Parsed).Event.Kind);
        Assert.Equal(entries[0], Encoding.UTF8.GetString(applied.Raw.Span));
        Assert.IsType<ParsedWebhook.Ignored>(page.Items[1].Value!.Parsed);
        Assert.Contains("later than", Assert.IsType<ParsedWebhook.DeadLettered>(page.Items[2].Value!.Parsed).Letter.Reason);
        Assert.Equal("no usable string id", page.Items[3].Failure);
        Assert.Equal(entries[3], page.Items[3].Json);
        Assert.Equal("body is not a JSON object", page.Items[4].Failure);
        Assert.Equal(2, logs.GetSnapshot().Count(r => r.Message.Contains("cannot be read")));
    }

    [Fact]
    public async Task A_malformed_user_in_a_page_is_reported_on_its_own_while_the_others_are_read()
    {
        string[] entries = [User("directory_user_1"), User("directory_user_2", extra: ""","custom_attributes":[1]"""), User("directory_user_3")];
        await using var server = await StartAsync((context, _) => WriteJsonAsync(context, List(entries)));
        var (client, logs) = server.CreateClient();

        var page = await client.ListUsersAsync("directory_1", groupId: null, after: null);

        Assert.Equal(3, page.Items.Count);
        Assert.Equal("directory_user_1@example.com", page.Items[0].Value!.Email);
        Assert.False(page.Items[1].IsRead);
        Assert.Equal("directory_user.custom_attributes is not an object", page.Items[1].Failure);
        Assert.Equal(entries[1], page.Items[1].Json);
        Assert.Equal("directory_user_3", page.Items[2].Value!.Id);
        var warning = Assert.Single(logs.GetSnapshot(), r => r.Message.Contains("cannot be read"));
        Assert.Contains("GET /directory_users?directory=directory_1&limit=100&order=asc: entry 1", warning.Message);
    }

    [Fact]
    public async Task A_listed_directory_carries_the_REST_state_and_counts_beside_the_normalised_record()
    {
        var directory = Encoding.UTF8.GetString(Fixture.Bytes("rest/directory.json"));
        await using var server = await StartAsync((context, request) => request.Path == "/directories"
            ? WriteJsonAsync(context, List([directory]))
            : WriteJsonAsync(context, directory));
        var (client, _) = server.CreateClient();

        var listed = Assert.Single((await client.ListDirectoriesAsync(after: null)).Items).Value!;
        var fetched = await client.GetDirectoryAsync(DirectoryId);

        Assert.Equal("linked", listed.State);
        Assert.Equal(DirectoryStates.Active, listed.Directory.State);
        Assert.Equal(["foo-corp.com"], listed.Directory.Domains);
        Assert.Equal(new DirectoryCounts(42, 3, 5), listed.Counts);
        Assert.Equal(listed.Directory.Id, fetched!.Directory.Id);
        Assert.Equal($"/directories/{DirectoryId}", server.Requests[1].Path);
    }

    [Fact]
    public async Task A_directory_WorkOS_does_not_know_is_null()
    {
        await using var server = await StartAsync((context, _) =>
            WriteJsonAsync(context, """{"message":"Directory not found","code":"entity_not_found"}""", 404));
        var (client, _) = server.CreateClient();

        Assert.Null(await client.GetDirectoryAsync("directory_gone"));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_429_is_retried_no_sooner_than_its_Retry_After_in_seconds()
    {
        await using var server = await StartAsync((context, request) =>
        {
            if (request.Number == 1)
            {
                context.Response.Headers.RetryAfter = "1";
                return WriteJsonAsync(context, """{"message":"Too many requests","code":"rate_limit_exceeded"}""", 429);
            }

            return EmptyList(context, request);
        });
        var (client, _) = server.CreateClient();

        await client.ListGroupsAsync("directory_1", after: null);

        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(1), $"retried after {requests[1].At - requests[0].At}");
    }

    [Fact]
    public async Task A_429_is_retried_no_sooner_than_its_Retry_After_date()
    {
        var retryAt = DateTimeOffset.MinValue;
        await using var server = await StartAsync((context, request) =>
        {
            if (request.Number == 1)
            {
                // An HTTP date has whole seconds: the next whole second after next, so at least one second away.
                var now = request.Time;
                retryAt = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero).AddSeconds(2);
                context.Response.Headers.RetryAfter = retryAt.ToString("r");
                return WriteJsonAsync(context, "{}", 429);
            }

            return EmptyList(context, request);
        });
        var (client, _) = server.CreateClient();

        await client.ListDirectoriesAsync(after: null);

        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].Time >= retryAt, $"retried at {requests[1].Time:O}, asked for {retryAt:O}");
    }

    [Fact]
    public async Task Server_errors_are_retried_until_an_answer_comes()
    {
        await using var server = await StartAsync((context, request) => request.Number switch
        {
            1 => WriteJsonAsync(context, "upstream down", 503),
            2 => WriteJsonAsync(context, """{"message":"Internal error"}""", 500),
            _ => WriteJsonAsync(context, List([User("directory_user_1")])),
        });
        var (client, _) = server.CreateClient();

        var page = await client.ListUsersAsync("directory_1", groupId: null, after: null);

        Assert.Equal("directory_user_1", Assert.Single(page.Items).Value!.Id);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Server_errors_that_last_fail_the_call_after_the_configured_attempts()
    {
        await using var server = await StartAsync((context, _) => WriteJsonAsync(context, "{}", 502));
        var (client, _) = server.CreateClient(("MaxAttempts", "3"));

        var failure = await Assert.ThrowsAsync<WorkOSApiException>(() => client.ListGroupsAsync("directory_1", after: null));

        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(HttpStatusCode.BadGateway, failure.Status);
        Assert.Equal("GET /directory_groups?directory=directory_1&limit=100&order=asc failed: HTTP 502, still after 3 tries", failure.Message);
    }

    [Theory]
    [InlineData(400, "invalid_request_parameters", "Invalid after cursor")]
    [InlineData(401, "unauthorized", "Unauthorized")]
    [InlineData(404, "entity_not_found", "Directory not found")]
    [InlineData(422, "invalid_cursor", "The cursor is expired")]
    public async Task A_refusal_is_not_retried_and_says_what_WorkOS_said(int status, string code, string message)
    {
        await using var server = await StartAsync((context, _) =>
        {
            context.Response.Headers["X-Request-ID"] = "req_01TEST";
            return WriteJsonAsync(context, $$"""{"message":"{{message}}","code":"{{code}}"}""", status);
        });
        var (client, _) = server.CreateClient();

        var failure = await Assert.ThrowsAsync<WorkOSApiException>(() =>
            client.ListUsersAsync("directory_1", groupId: null, after: "directory_user_x"));

        Assert.Single(server.Requests);
        Assert.Equal((HttpStatusCode)status, failure.Status);
        Assert.Equal(code, failure.Code);
        Assert.Equal(message, failure.ApiMessage);
        Assert.Equal("req_01TEST", failure.RequestId);
        Assert.Equal("GET /directory_users?directory=directory_1&limit=100&order=asc&after=directory_user_x", failure.Operation);
        Assert.StartsWith($"{failure.Operation} failed: HTTP {status} ({code}: {message})", failure.Message);
        Assert.EndsWith("X-Request-ID req_01TEST", failure.Message);
    }

    [Fact]
    public async Task A_page_that_is_not_a_list_fails_the_call_with_its_reason()
    {
        await using var server = await StartAsync((context, _) => WriteJsonAsync(context, "<html>maintenance</html>"));
        var (client, _) = server.CreateClient();

        var failure = await Assert.ThrowsAsync<WorkOSApiException>(() => client.ListDirectoriesAsync(after: null));

        Assert.StartsWith("GET /directories?limit=100&order=asc failed: its answer is not a WorkOS list", failure.Message);
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_fails_the_call_with_the_operation_after_the_retries()
    {
        string unreachable;
        await using (var gone = await StartAsync(EmptyList))
        {
            unreachable = gone.BaseUrl;
        }

        await using var server = await StartAsync(EmptyList);
        var (client, _) = server.CreateClient(("BaseUrl", unreachable), ("MaxAttempts", "2"));

        var failure = await Assert.ThrowsAsync<WorkOSApiException>(() => client.ListDirectoriesAsync(after: null));

        Assert.Null(failure.Status);
        Assert.StartsWith("GET /directories?limit=100&order=asc failed: no answer after 2 tries", failure.Message);
    }

    [Fact]
    public async Task A_try_that_hangs_is_cut_off_and_tried_again_and_a_call_that_hangs_fails_in_time()
    {
        await using var server = await StartAsync(async (context, request) =>
        {
            if (request.Number == 1 || request.Path == "/directory_groups")
            {
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            }

            await EmptyList(context, request);
        });
        var (client, _) = server.CreateClient(("AttemptTimeout", "00:00:01"), ("RequestTimeout", "00:00:02"));

        var started = Stopwatch.StartNew();
        await client.ListDirectoriesAsync(after: null);
        // Timers may fire a few milliseconds early: the bounds tell the try's timeout (1 s) from the call's (2 s).
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(2));

        started.Restart();
        var failure = await Assert.ThrowsAsync<WorkOSApiException>(() => client.ListGroupsAsync("directory_1", after: null));
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(1.8), TimeSpan.FromSeconds(4));
        Assert.Null(failure.Status);
        Assert.StartsWith("GET /directory_groups?directory=directory_1&limit=100&order=asc failed: no answer within 00:00:02", failure.Message);
    }

    [Fact]
    public async Task Directory_user_requests_stay_within_four_a_second_per_directory_without_holding_back_another()
    {
        const string busy = "directory_busy", other = "directory_other";
        await using var server = await StartAsync(EmptyList);
        var (client, _) = server.CreateClient();

        // A group's members count against its directory too.
        var busyCalls = Enumerable.Range(0, 12)
            .Select(i => client.ListUsersAsync(busy, i % 3 == 0 ? $"directory_group_{i}" : null, after: null))
            .ToArray();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var otherSent = server.Now;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.ListUsersAsync(other, groupId: null, after: null)));
        await Task.WhenAll(busyCalls);

        var requests = server.Requests;
        var busyTimes = requests.Where(r => r["directory"] != other).Select(r => r.At).ToArray();
        var otherTimes = requests.Where(r => r["directory"] == other).Select(r => r.At).ToArray();
        Assert.Equal(12, busyTimes.Length);
        // No window of one second holds more than four: the fifth request after any one is a second or more later.
        for (var i = 0; i + 4 < busyTimes.Length; i++)
        {
            Assert.True(busyTimes[i + 4] - busyTimes[i] >= TimeSpan.FromSeconds(1), $"requests {i} and {i + 4} {busyTimes[i + 4] - busyTimes[i]} apart");
        }

        Assert.All(otherTimes, at => Assert.True(at - otherSent < TimeSpan.FromMilliseconds(500), $"held back {at - otherSent}"));
        Assert.True(busyTimes[^1] > otherTimes.Max(), "the busy directory's queue outlasted the other directory's calls");
    }

    [Fact]
    public async Task The_api_key_appears_in_no_log_line_and_no_failure()
    {
        await using var server = await StartAsync((context, request) => request.Path == "/directories"
            ? WriteJsonAsync(context, "{}", 503)
            : WriteJsonAsync(context, $$"""{"message":"Invalid API key provided: {{ApiKey}}","code":"unauthorized"}""", 401));
        var (client, logs) = server.CreateClient(("MaxAttempts", "3"));

        var unavailable = await Assert.ThrowsAsync<WorkOSApiException>(() => client.ListDirectoriesAsync(after: null));
        var refused = await Assert.ThrowsAsync<WorkOSApiException>(() => client.ListGroupsAsync("directory_1", after: null));

        Assert.Equal(3, server.Requests.Count(r => r.Path == "/directories"));
        Assert.Contains("Invalid API key provided: [API key]", refused.Message);
        Assert.DoesNotContain(ApiKey, unavailable.ToString());
        Assert.DoesNotContain(ApiKey, refused.ToString());
        Assert.DoesNotContain(ApiKey, refused.ApiMessage);
        var lines = logs.GetSnapshot().Select(LogText.Of).ToArray();
        Assert.Contains(lines, line => line.Contains("OnRetry"));
        Assert.DoesNotContain(lines, line => line.Contains(ApiKey) || line.Contains(ApiKey[8..]));
    }

    private static string Event(string id, string createdAt = "2026-03-01T10:00:00.000Z") =>
        $$"""{"object":"event","id":"{{id}}","event":"dsync.user.created","data":{{User("directory_user_1")}},"created_at":"{{createdAt}}"}""";
}
