using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DirectorySync.Hosting;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.WorkOSApi;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The operator endpoints over real HTTP: a silo and a gateway pointed at the simulator's WorkOS API, with an API key
/// and <c>Operations:Token</c> set. <c>POST /admin/directories/{id}/reconcile</c> answers 202 with the run's id;
/// <c>GET /admin/directories/{id}/sync</c> shows the run's report, the mirror's counts, the Events API cursor, held
/// deletions and pending objects, times as ISO-8601; bad requests, unknown directories, a missing key and a missing
/// token each get their own answer.
/// </summary>
public sealed class AdminEndpointsTests(AdminEndpointsTests.Fixture fixture) : IClassFixture<AdminEndpointsTests.Fixture>
{
    private const string ApiKey = "sk_test_admin_endpoints_0123456789";
    private const string Token = "admin-token-for-tests-0123456789-abcdefghij";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public sealed class Fixture : IAsyncLifetime
    {
        public FakeWorkOS WorkOS { get; } = new(ApiKey);

        public IReadOnlyList<string> Directories { get; private set; } = [];

        public SyncSystem System { get; private set; } = null!;

        public HttpClient Http { get; } = new();

        private FakeWorkOSServer? _server;

        public async Task InitializeAsync()
        {
            // Two directories connected long ago: their events expired, so only the backfill finds them.
            var history = HistoryGenerator.Generate(new HistoryOptions
            {
                Directories = 2, UsersPerDirectory = 40, GroupsPerDirectory = 4, MembershipsPerUser = 2, ChurnPerDirectory = 20,
                Seed = 31, StartAt = DateTimeOffset.UtcNow.AddDays(-60),
            });
            WorkOS.Publish(history.Events);
            WorkOS.ExpireEventsBefore(DateTimeOffset.UtcNow);
            Directories = history.DirectoryIds;
            _server = await FakeWorkOSServer.StartAsync(WorkOS);
            System = await SyncSystem.StartAsync("admin_endpoints", new Dictionary<string, string?>
            {
                ["WorkOS:ApiKey"] = ApiKey,
                ["WorkOS:BaseUrl"] = _server.BaseAddress.ToString(),
                ["WorkOS:EventsPollInterval"] = "00:00:01",
                ["WorkOS:ReconcileInterval"] = "0",
                ["WorkOS:RetryBaseDelay"] = "00:00:00.050",
                [OperationsAccess.TokenSetting] = Token,
            });
            Http.BaseAddress = new Uri(System.Silos.Single().Urls.Single());
        }

        public async Task DisposeAsync()
        {
            Http.Dispose();
            await System.DisposeAsync();
            if (_server is not null) await _server.DisposeAsync();
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(
        HttpClient http, HttpMethod method, string path, string? bearer = Token)
    {
        using var request = new HttpRequestMessage(method, path);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonDocument.Parse(text).RootElement : JsonSerializer.SerializeToElement(text);
        return (response.StatusCode, body);
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> StatusAsync(string directory) =>
        SendAsync(fixture.Http, HttpMethod.Get, $"/admin/directories/{directory}/sync");

    private Task<(HttpStatusCode Status, JsonElement Body)> ReconcileAsync(string directory, string query = "") =>
        SendAsync(fixture.Http, HttpMethod.Post, $"/admin/directories/{directory}/reconcile{query}");

    /// <summary>The directory's status once <paramref name="done"/> holds for it.</summary>
    private async Task<JsonElement> WaitForStatusAsync(string directory, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var (status, body) = await StatusAsync(directory);
            if (status == HttpStatusCode.OK && done(body)) return body;
            last = $"{(int)status} {body}";
            await Task.Delay(100);
        }
        throw new TimeoutException($"{directory}: {what} did not happen; last answer: {last}");
    }

    private static JsonElement LastRun(JsonElement status) => status.GetProperty("reconciliation").GetProperty("last");

    private static bool Ended(JsonElement status, long? runId = null) =>
        status.GetProperty("reconciliation").GetProperty("in_progress").ValueKind == JsonValueKind.Null
        && LastRun(status) is { ValueKind: JsonValueKind.Object } run
        && run.GetProperty("status").GetString() is "completed" or "held" or "failed"
        && (runId is null || run.GetProperty("run_id").GetInt64() == runId);

    private Task<JsonElement> BackfilledAsync(string directory) =>
        WaitForStatusAsync(directory, s => Ended(s) && LastRun(s).GetProperty("kind").GetString() == "backfill", "the backfill");

    private static readonly Regex IsoTime = new(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$");

    private static DateTimeOffset AssertTime(JsonElement value)
    {
        var text = value.GetString() ?? "";
        Assert.Matches(IsoTime, text);
        return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
    }

    private async Task<long> RunCountAsync(string directory)
    {
        await using var connection = new NpgsqlConnection(fixture.System.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM reconcile_runs WHERE workos_directory_id = $1", connection)
            { Parameters = { new() { Value = directory } } };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private int MembershipsIn(string directory) => fixture.WorkOS.UserIds(directory).Sum(u => fixture.WorkOS.GroupIdsOf(u).Count);

    [Fact]
    public async Task Reconcile_answers_202_with_a_run_id_and_the_status_shows_its_report_the_mirror_and_the_Events_API_cursor()
    {
        var directory = fixture.Directories[0];
        var backfill = LastRun(await BackfilledAsync(directory)).GetProperty("run_id").GetInt64();
        // Slow pages, so the run can be watched while it is under way.
        fixture.WorkOS.Faults.Delay = TimeSpan.FromMilliseconds(200);
        try
        {
            var (status, started) = await ReconcileAsync(directory);

            Assert.Equal(HttpStatusCode.Accepted, status);
            var runId = started.GetProperty("run_id").GetInt64();
            Assert.True(runId > backfill, started.ToString());
            Assert.Equal(directory, started.GetProperty("directory_id").GetString());
            Assert.False(started.GetProperty("forced").GetBoolean());
            Assert.Equal($"/admin/directories/{directory}/sync", started.GetProperty("status_url").GetString());

            // Under way: its phase, and the report so far (the users were listed before the members are).
            var running = await WaitForStatusAsync(directory,
                s => s.GetProperty("reconciliation").GetProperty("in_progress") is { ValueKind: JsonValueKind.Object } p
                     && p.GetProperty("phase").GetString() == "Memberships", "the memberships phase");
            Assert.Equal(runId, running.GetProperty("reconciliation").GetProperty("in_progress").GetProperty("run_id").GetInt64());
            Assert.Equal("running", LastRun(running).GetProperty("status").GetString());
            Assert.Equal(fixture.WorkOS.UserIds(directory).Count, LastRun(running).GetProperty("report").GetProperty("users_listed").GetInt32());
        }
        finally
        {
            fixture.WorkOS.Faults.Delay = TimeSpan.Zero;
        }

        var done = await WaitForStatusAsync(directory, s => Ended(s) && LastRun(s).GetProperty("kind").GetString() == "reconcile", "the reconciliation");
        var run = LastRun(done);
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal("operator request", run.GetProperty("reason").GetString());
        Assert.True(AssertTime(run.GetProperty("finished_at")) >= AssertTime(run.GetProperty("listed_at")));
        var report = run.GetProperty("report");
        Assert.Equal(fixture.WorkOS.UserIds(directory).Count, report.GetProperty("users_listed").GetInt32());
        Assert.Equal(fixture.WorkOS.GroupIds(directory).Count, report.GetProperty("groups_listed").GetInt32());
        Assert.Equal(MembershipsIn(directory), report.GetProperty("memberships_listed").GetInt32());
        Assert.Equal(0, report.GetProperty("repaired").GetInt32());
        Assert.Equal(0, report.GetProperty("deleted").GetInt32());
        Assert.Equal(0, report.GetProperty("held_back").GetInt32());

        var mirror = done.GetProperty("mirror");
        Assert.True(mirror.GetProperty("shown").GetBoolean());
        Assert.Equal(fixture.WorkOS.UserIds(directory).Count, mirror.GetProperty("users").GetInt32());
        Assert.Equal(fixture.WorkOS.GroupIds(directory).Count, mirror.GetProperty("groups").GetInt32());
        Assert.Equal(MembershipsIn(directory), mirror.GetProperty("memberships").GetInt32());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("held_deletions").GetProperty("run_id").ValueKind);

        // A change WorkOS makes without a webhook: the tail applies it and its cursor names it.
        var change = fixture.WorkOS.BuildUserUpdate(fixture.WorkOS.UserIds(directory)[0], "first_name", JsonValue.Create("Via-Events"));
        fixture.WorkOS.Publish(change);
        var tailed = await WaitForStatusAsync(directory,
            s => s.GetProperty("events_api").GetProperty("cursor").GetString() == change.Id, "the Events API poll");
        var events = tailed.GetProperty("events_api");
        Assert.True(events.GetProperty("configured").GetBoolean());
        Assert.Equal(change.CreatedAt, AssertTime(events.GetProperty("cursor_created_at")));
        AssertTime(events.GetProperty("last_polled_at"));
        AssertTime(events.GetProperty("caught_up_at"));
        Assert.InRange(events.GetProperty("lag_seconds").GetDouble(), 0, Patience.TotalSeconds);
        Assert.Equal(JsonValueKind.Null, events.GetProperty("last_error").ValueKind);
        var lastEvent = tailed.GetProperty("last_event");
        Assert.Equal(change.Id, lastEvent.GetProperty("event_id").GetString());
        Assert.Equal(change.CreatedAt, AssertTime(lastEvent.GetProperty("created_at")));
        AssertTime(lastEvent.GetProperty("applied_at"));
    }

    [Fact]
    public async Task A_short_listing_is_held_and_shown_with_its_plan_until_force_true_applies_it()
    {
        var directory = fixture.Directories[1];
        var users = (await BackfilledAsync(directory)).GetProperty("mirror").GetProperty("users").GetInt32();
        var hidden = fixture.WorkOS.Faults.HideUsers(directory, 0.5);
        try
        {
            var (status, started) = await ReconcileAsync(directory, "?force=false");
            Assert.Equal(HttpStatusCode.Accepted, status);
            var runId = started.GetProperty("run_id").GetInt64();

            var held = await WaitForStatusAsync(directory, s => Ended(s, runId), "the held run");
            var run = LastRun(held);
            Assert.Equal("held", run.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, run.GetProperty("finished_at").ValueKind);
            var report = run.GetProperty("report");
            Assert.Equal(hidden.Count, report.GetProperty("users_to_delete").GetInt32());
            Assert.Contains("force=true", report.GetProperty("note").GetString());
            var deletions = held.GetProperty("held_deletions");
            Assert.Equal(runId, deletions.GetProperty("run_id").GetInt64());
            Assert.Equal(report.GetProperty("planned_deletions").GetInt32(), deletions.GetProperty("count").GetInt32());
            Assert.Equal(report.GetProperty("held_back").GetInt32(), deletions.GetProperty("count").GetInt32());
            Assert.Equal(hidden.Order(StringComparer.Ordinal), deletions.GetProperty("sample").EnumerateArray()
                .Where(d => d.GetProperty("kind").GetString() == "user").Select(d => d.GetProperty("object_id").GetString()!).Order(StringComparer.Ordinal));
            Assert.Equal(users, held.GetProperty("mirror").GetProperty("users").GetInt32());

            var (forcedStatus, forced) = await ReconcileAsync(directory, "?force=true");
            Assert.Equal(HttpStatusCode.Accepted, forcedStatus);
            Assert.Equal(runId, forced.GetProperty("run_id").GetInt64());
            Assert.True(forced.GetProperty("forced").GetBoolean());

            var applied = await WaitForStatusAsync(directory, s => Ended(s, runId) && LastRun(s).GetProperty("status").GetString() == "completed", "the forced run");
            Assert.True(LastRun(applied).GetProperty("forced").GetBoolean());
            AssertTime(LastRun(applied).GetProperty("finished_at"));
            Assert.Equal(users - hidden.Count, applied.GetProperty("mirror").GetProperty("users").GetInt32());
            Assert.Equal(JsonValueKind.Null, applied.GetProperty("held_deletions").GetProperty("run_id").ValueKind);
            Assert.Equal(0, applied.GetProperty("held_deletions").GetProperty("count").GetInt32());
        }
        finally
        {
            fixture.WorkOS.Faults.Clear();
        }
    }

    [Fact]
    public async Task An_event_for_a_directory_WorkOS_does_not_list_waits_in_pending_and_its_backfill_says_why()
    {
        const string directory = "directory_unknown_to_workos";
        var (sent, _) = await fixture.System.SendAsync(Payloads.UserCreated("event_admin_pending_1", "directory_user_pending_1", directory, 1));
        Assert.Equal(HttpStatusCode.OK, sent);

        var status = await WaitForStatusAsync(directory, s => Ended(s), "the backfill the event asked for");
        var run = LastRun(status);
        Assert.Equal("backfill", run.GetProperty("kind").GetString());
        Assert.Equal("held", run.GetProperty("status").GetString());
        Assert.Contains("404", run.GetProperty("report").GetProperty("note").GetString());
        // Nothing was planned, so nothing is shown as held.
        Assert.Equal(JsonValueKind.Null, status.GetProperty("held_deletions").GetProperty("run_id").ValueKind);
        Assert.Equal(0, status.GetProperty("held_deletions").GetProperty("count").GetInt32());
        Assert.False(status.GetProperty("mirror").GetProperty("shown").GetBoolean());
        var pending = status.GetProperty("pending");
        Assert.Equal(1, pending.GetProperty("count").GetInt32());
        var waiting = Assert.Single(pending.GetProperty("sample").EnumerateArray());
        Assert.Equal("user", waiting.GetProperty("kind").GetString());
        Assert.Equal("directory_user_pending_1", waiting.GetProperty("id").GetString());
        AssertTime(waiting.GetProperty("waiting_since"));
    }

    [Fact]
    public async Task Bad_requests_and_unknown_directories_are_answered_with_a_reason()
    {
        var (badForce, badForceBody) = await ReconcileAsync(fixture.Directories[0], "?force=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, badForce);
        Assert.Contains("force must be true or false", badForceBody.GetProperty("message").GetString());

        var (unknown, unknownBody) = await StatusAsync("directory_nobody_has_heard_of");
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        Assert.Contains("directory_nobody_has_heard_of", unknownBody.GetProperty("message").GetString());

        var (tooLong, tooLongBody) = await StatusAsync(new string('d', 300));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong);
        Assert.Contains("characters", tooLongBody.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Without_the_operations_token_both_endpoints_answer_401_as_the_dashboard_does()
    {
        var directory = fixture.Directories[0];
        var runs = await RunCountAsync(directory);

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(fixture.Http, HttpMethod.Get, $"/admin/directories/{directory}/sync", bearer: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(fixture.Http, HttpMethod.Post, $"/admin/directories/{directory}/reconcile", bearer: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(fixture.Http, HttpMethod.Post, $"/admin/directories/{directory}/reconcile", bearer: "wrong-token")).Status);
        Assert.Equal(HttpStatusCode.OK, (await StatusAsync(directory)).Status);
        // Refused means nothing started.
        Assert.Equal(runs, await RunCountAsync(directory));
    }

    [Fact]
    public async Task Without_an_API_key_reconcile_answers_409_and_the_status_says_the_Events_API_is_off()
    {
        await using var system = await SyncSystem.StartAsync("admin_endpoints_no_key");
        using var http = new HttpClient { BaseAddress = new Uri(system.Silos.Single().Urls.Single()) };
        const string directory = "directory_webhooks_only";
        Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(Payloads.Activated("event_admin_no_key_1", directory, 1))).Status);

        var (status, body) = await SendAsync(http, HttpMethod.Post, $"/admin/directories/{directory}/reconcile", bearer: null);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("WorkOS__ApiKey", body.GetProperty("message").GetString());

        var (syncStatus, sync) = await SendAsync(http, HttpMethod.Get, $"/admin/directories/{directory}/sync", bearer: null);
        Assert.Equal(HttpStatusCode.OK, syncStatus);
        Assert.False(sync.GetProperty("events_api").GetProperty("configured").GetBoolean());
        Assert.Equal(JsonValueKind.Null, sync.GetProperty("events_api").GetProperty("cursor").ValueKind);
        Assert.Equal(JsonValueKind.Null, sync.GetProperty("reconciliation").GetProperty("last").ValueKind);
        Assert.Equal("event_admin_no_key_1", sync.GetProperty("last_event").GetProperty("event_id").GetString());
        Assert.True(sync.GetProperty("mirror").GetProperty("shown").GetBoolean());
    }
}
