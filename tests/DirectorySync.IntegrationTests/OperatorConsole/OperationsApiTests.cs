using System.Net;
using System.Text.Json;
using DirectorySync.IntegrationTests.EndToEnd;
using DirectorySync.Silo;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DirectorySync.IntegrationTests.OperatorConsole;

/// <summary>
/// The operations API the console reads (under /admin and /console/api) over real HTTP: the directory list as the
/// tables hold it, dead letter replay's refusals, the console's action header, bad limits, the page's files and headers,
/// and the activity added up over two silos.
/// </summary>
public sealed class OperationsApiTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static Uri Silo(SyncSystem system, string path, int silo = 0) => new(new Uri(system.Silos[silo].Urls.Single()), path);

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(SyncSystem system, string path, int silo = 0)
    {
        using var response = await system.Http.GetAsync(Silo(system, path, silo));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static async Task<(HttpStatusCode Status, string Text)> PostAsync(SyncSystem system, string path, bool consoleHeader = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Silo(system, path));
        if (consoleHeader) request.Headers.Add(ConsoleEndpoints.ActionHeader, "1");
        using var response = await system.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task SendAllAsync(SyncSystem system, params string[] bodies)
    {
        foreach (var body in bodies) Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(body)).Status);
    }

    [Fact]
    public async Task The_directory_list_shows_each_directory_the_tables_name_with_its_counts_state_pending_objects_and_freshness()
    {
        await using var system = await SyncSystem.StartAsync("operations-list");
        await SendAllAsync(system,
            Payloads.Activated("event_list_01", "directory_list_shown", 1),
            Payloads.UserCreated("event_list_02", "user_list_1", "directory_list_shown", 2),
            Payloads.UserCreated("event_list_03", "user_list_2", "directory_list_shown", 3),
            Payloads.GroupCreated("event_list_04", "group_list_1", "directory_list_shown", 4),
            Payloads.Added("event_list_05", "group_list_1", "user_list_1", "directory_list_shown", 5),
            // A user whose directory never came: it waits in sync_pending.
            Payloads.UserCreated("event_list_06", "user_list_3", "directory_list_unseen", 6),
            Payloads.Activated("event_list_07", "directory_list_gone", 1),
            Payloads.DirectoryDeleted("event_list_08", "directory_list_gone", 2));
        await system.ScalarAsync("INSERT INTO directory_freshness VALUES ('directory_list_shown', '2026-11-01T10:00:00Z')");

        var deadline = DateTime.UtcNow + Patience;
        JsonElement list;
        // The deleted directory's rows are removed in the background.
        while (true)
        {
            var (status, body) = await GetAsync(system, "/admin/directories");
            Assert.Equal(HttpStatusCode.OK, status);
            list = body;
            if (list.GetProperty("directories").EnumerateArray().Any(d => d.GetProperty("state").GetString() == "deleted")) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The deleted directory was not cleaned up: {list}");
            await Task.Delay(200);
        }

        Assert.Equal(3, list.GetProperty("total").GetInt32());
        Assert.False(list.GetProperty("events_api").GetProperty("configured").GetBoolean());
        var directories = list.GetProperty("directories").EnumerateArray().ToDictionary(d => d.GetProperty("directory_id").GetString()!);
        var shown = directories["directory_list_shown"];
        Assert.Equal("Acme", shown.GetProperty("name").GetString());
        Assert.Equal("active", shown.GetProperty("state").GetString());
        Assert.Equal((2, 1, 1), (shown.GetProperty("users").GetInt32(), shown.GetProperty("groups").GetInt32(), shown.GetProperty("memberships").GetInt32()));
        Assert.Equal("event_list_05", shown.GetProperty("last_event").GetProperty("event_id").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero), shown.GetProperty("confirmed_at").GetDateTimeOffset());
        Assert.Equal(0, shown.GetProperty("pending").GetInt32());
        Assert.Equal(JsonValueKind.Null, shown.GetProperty("last_run").ValueKind);

        var unseen = directories["directory_list_unseen"];
        Assert.Equal("not_in_mirror", unseen.GetProperty("state").GetString());
        Assert.Equal(1, unseen.GetProperty("pending").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, unseen.GetProperty("oldest_pending_since").ValueKind);
        Assert.Equal(0, directories["directory_list_gone"].GetProperty("users").GetInt32());

        Assert.Equal(1, (await GetAsync(system, "/console/api/directories?limit=1")).Body.GetProperty("directories").GetArrayLength());
        // No outbound webhook endpoint is configured here.
        Assert.Equal(0, (await GetAsync(system, "/admin/webhooks")).Body.GetProperty("endpoints").GetArrayLength());
    }

    [Fact]
    public async Task Replay_refuses_an_unknown_event_one_that_was_applied_and_an_id_too_long_and_a_console_action_needs_its_header()
    {
        await using var system = await SyncSystem.StartAsync("operations-refusals");
        await SendAllAsync(system, Payloads.Activated("event_refusals_01", "directory_refusals", 1));

        var unknown = await PostAsync(system, "/admin/dead-letters/event_never_sent/replay");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Contains("is not in the event log", unknown.Text, StringComparison.Ordinal);
        var applied = await PostAsync(system, "/admin/dead-letters/event_refusals_01/replay");
        Assert.Equal(HttpStatusCode.Conflict, applied.Status);
        Assert.Contains("its outcome is applied", applied.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(system, $"/admin/dead-letters/{new string('e', 256)}/replay")).Status);

        // A page of another site can make a browser post here, but not with the console's header.
        var bare = await PostAsync(system, "/console/api/directories/directory_refusals/reconcile");
        Assert.Equal(HttpStatusCode.Forbidden, bare.Status);
        Assert.Contains(ConsoleEndpoints.ActionHeader, bare.Text, StringComparison.Ordinal);
        var fromConsole = await PostAsync(system, "/console/api/directories/directory_refusals/reconcile", consoleHeader: true);
        Assert.Equal(HttpStatusCode.Conflict, fromConsole.Status);
        Assert.Contains("WorkOS__ApiKey", fromConsole.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(system, "/admin/directories/directory_refusals/reconcile")).Status);

        foreach (var path in new[] { "/admin/directories?limit=0", "/admin/directories?limit=1001", "/admin/dead-letters?limit=ten", "/console/api/dead-letters?limit=-1" })
        {
            var (status, body) = await GetAsync(system, path);
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: {status} {body}");
            Assert.Contains("limit must be a whole number from 1 to 1000", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_console_serves_its_page_and_files_with_a_content_security_policy_and_nothing_else()
    {
        await using var system = await SyncSystem.StartAsync("operations-page");
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });

        using (var page = await http.GetAsync(Silo(system, "/console")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Contains("console/console.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var slash = await http.GetAsync(Silo(system, "/console/")))
        {
            Assert.Equal(HttpStatusCode.Redirect, slash.StatusCode);
            Assert.Equal("/console", slash.Headers.Location?.OriginalString);
        }
        foreach (var (file, type) in new[] { ("console.js", "text/javascript"), ("console.css", "text/css") })
        {
            using var asset = await http.GetAsync(Silo(system, "/console/" + file));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
        }
        foreach (var file in new[] { "sign-in.html", "index.html", "missing.js" })
        {
            using var missing = await http.GetAsync(Silo(system, "/console/" + file));
            Assert.True(missing.StatusCode == HttpStatusCode.NotFound, $"{file}: {missing.StatusCode}");
        }
    }

    [Fact]
    public async Task The_activity_adds_up_what_every_silo_answered_and_times_the_acknowledgements()
    {
        await using var system = await SyncSystem.StartAsync("operations-activity");
        await system.StartSiloAsync();
        const int directories = 10;
        for (var i = 0; i < directories; i++)
        {
            await SendAllAsync(system,
                Payloads.Activated($"event_activity_{i}_a", $"directory_activity_{i}", 1),
                Payloads.UserCreated($"event_activity_{i}_b", $"user_activity_{i}", $"directory_activity_{i}", 2));
        }
        await SendAllAsync(system, Payloads.Activated("event_activity_0_a", "directory_activity_0", 1));
        // Where the directory grains were placed is Orleans's choice: each silo is also given events of its own, so
        // that the sum can only come out right if both silos were asked.
        var ownEvents = new[] { 3, 4 };
        foreach (var (silo, count) in system.Silos.Zip(ownEvents))
        {
            var activity = silo.Services.GetRequiredService<SyncActivity>();
            for (var i = 0; i < count; i++) activity.Record(DirectorySync.Events.ApplyOutcome.Applied, TimeSpan.FromMilliseconds(5));
        }
        var applied = 2 * directories + ownEvents.Sum();

        foreach (var silo in new[] { 0, 1 })
        {
            var (status, activity) = await GetAsync(system, "/admin/activity", silo);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal((2, 2), (activity.GetProperty("silos").GetInt32(), activity.GetProperty("silos_answered").GetInt32()));
            Assert.Equal(10, activity.GetProperty("bucket_seconds").GetDouble());
            var points = activity.GetProperty("points").EnumerateArray().ToList();
            Assert.Equal(360, points.Count);
            Assert.Equal(applied, points.Sum(p => p.GetProperty("applied").GetInt64()));
            Assert.Equal(1, points.Sum(p => p.GetProperty("duplicate").GetInt64()));
            var timed = points.Where(p => p.GetProperty("p99_ms").ValueKind == JsonValueKind.Number).ToList();
            Assert.NotEmpty(timed);
            Assert.All(timed, p => Assert.InRange(p.GetProperty("p50_ms").GetDouble(), 0.1, p.GetProperty("p99_ms").GetDouble()));
        }
    }
}
