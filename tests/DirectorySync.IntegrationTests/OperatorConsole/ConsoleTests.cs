using System.Net;
using System.Text.RegularExpressions;
using DirectorySync.Hosting;
using DirectorySync.Silo;
using DirectorySync.IntegrationTests.EndToEnd;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.WorkOSApi;
using Microsoft.Playwright;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace DirectorySync.IntegrationTests.OperatorConsole;

/// <summary>
/// The operator console in a real browser (Debian's chromium through Playwright) against a real silo and gateway:
/// events arrive as signed webhooks, reconciliations run against the simulator's WorkOS API, and everything the test
/// checks is what the page shows after the operator's clicks.
/// </summary>
public sealed class ConsoleTests(ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private const string Token = "console-token-for-tests-0123456789-abcdef";
    private const string ApiKey = "sk_test_console_0123456789";

    private static Uri ConsoleUrl(SyncSystem system) => new(new Uri(system.Silos[0].Urls.Single()), ConsoleEndpoints.Prefix);

    private static ILocator DirectoryRow(IPage page, string directory) => page.Locator($"#directories tr[data-directory-id='{directory}']");

    private static ILocator Cell(ILocator row, int column) => row.Locator("td").Nth(column);

    private static void NoScriptErrors(BrowserPage page) =>
        Assert.True(page.Errors.IsEmpty, "The page reported errors:\n" + string.Join("\n", page.Errors));

    [Fact]
    public async Task The_console_lists_a_directory_once_its_events_arrive_through_webhooks_and_charts_them()
    {
        await using var system = await SyncSystem.StartAsync("console-sync");
        await using var opened = await browser.OpenAsync();
        var page = opened.Page;

        var response = await page.GotoAsync(ConsoleUrl(system).ToString());
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        await Expect(page).ToHaveTitleAsync("DirectorySync console");
        await Expect(page.Locator("#directories")).ToContainTextAsync("No directory yet");
        await Expect(page.Locator("#dead-letters")).ToContainTextAsync("No dead letters.");

        const string directory = "directory_console_sync";
        string[] events =
        [
            Payloads.Activated("event_console_01", directory, 1),
            Payloads.UserCreated("event_console_02", "user_console_1", directory, 2),
            Payloads.UserCreated("event_console_03", "user_console_2", directory, 3),
            Payloads.UserCreated("event_console_04", "user_console_3", directory, 4),
            Payloads.GroupCreated("event_console_05", "group_console_1", directory, 5),
            Payloads.Added("event_console_06", "group_console_1", "user_console_1", directory, 6),
        ];
        foreach (var body in events) Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(body)).Status);
        // A duplicate delivery is charted as one.
        Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(events[1])).Status);

        var row = DirectoryRow(page, directory);
        await Expect(Cell(row, 0)).ToContainTextAsync("Acme");
        await Expect(Cell(row, 1)).ToHaveTextAsync("active");
        await Expect(Cell(row, 2)).ToHaveTextAsync("3");
        await Expect(Cell(row, 3)).ToHaveTextAsync("1");
        await Expect(Cell(row, 4)).ToHaveTextAsync("1");
        await Expect(Cell(row, 5).Locator("time")).ToHaveAttributeAsync("title", new Regex("applied event_console_06$"));
        await Expect(Cell(row, 7)).ToHaveTextAsync("never");
        // Without a WorkOS API key there is nothing to reconcile with, and the page says so.
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Reconcile now" })).ToBeDisabledAsync();
        await Expect(page.Locator("#summary")).ToContainTextAsync("WorkOS__ApiKey is not set");

        await Expect(page.Locator("#rate-legend")).ToContainTextAsync("Applied 6");
        await Expect(page.Locator("#rate-legend")).ToContainTextAsync("Duplicate 1");
        await Expect(page.Locator("#rate-chart rect.applied").First).ToBeVisibleAsync();
        await Expect(page.Locator("#latency-chart path.p99")).ToHaveAttributeAsync("d", new Regex("^M[0-9.]+,[0-9.]+"));
        await Expect(page.Locator("#activity-scope")).ToContainTextAsync("All 1 silo added up");
        NoScriptErrors(opened);
    }

    [Fact]
    public async Task With_a_token_set_the_console_asks_to_sign_in_refuses_a_wrong_token_and_works_after_the_right_one()
    {
        await using var system = await SyncSystem.StartAsync("console-token", new Dictionary<string, string?> { [OperationsAccess.TokenSetting] = Token });
        Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(Payloads.Activated("event_token_01", "directory_token", 1))).Status);
        await using var opened = await browser.OpenAsync();
        var page = opened.Page;

        var response = await page.GotoAsync(ConsoleUrl(system).ToString());
        Assert.Equal((int)HttpStatusCode.Unauthorized, response!.Status);
        await Expect(page.GetByLabel("Operations token")).ToBeVisibleAsync();
        await Expect(page.Locator("#directories")).ToHaveCountAsync(0);

        await page.GetByLabel("Operations token").FillAsync("not-the-token-" + new string('x', 32));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That token was not accepted.");

        await page.GetByLabel("Operations token").FillAsync(Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(Cell(DirectoryRow(page, "directory_token"), 1)).ToHaveTextAsync("active");
        // Signed in by cookie: the token is not left in the address bar, and the page's own API calls are let in.
        Assert.Equal(ConsoleUrl(system), new Uri(page.Url));
        await Expect(page.Locator("#rate-legend")).ToContainTextAsync("Applied 1");
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == OperationsAccess.CookieName);
        Assert.True(cookie.HttpOnly);
        Assert.DoesNotContain(Token, cookie.Value, StringComparison.Ordinal);
        // Only the wrong attempts' 401s were reported.
        Assert.All(opened.Errors, error => Assert.Contains("401", error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_held_reconciliation_is_seen_and_forced_from_the_console()
    {
        var history = HistoryGenerator.Generate(new HistoryOptions
        {
            Directories = 1, UsersPerDirectory = 50, GroupsPerDirectory = 4, MembershipsPerUser = 2, ChurnPerDirectory = 10,
            Seed = 31, StartAt = DateTimeOffset.UtcNow.AddDays(-30),
        });
        var fake = new FakeWorkOS(ApiKey);
        fake.Publish(history.Events);
        await using var server = await FakeWorkOSServer.StartAsync(fake);
        await using var system = await SyncSystem.StartAsync("console-held", new Dictionary<string, string?>
        {
            ["WorkOS:ApiKey"] = ApiKey,
            ["WorkOS:BaseUrl"] = server.BaseAddress.ToString(),
            ["WorkOS:EventsPollInterval"] = "0",
            ["WorkOS:ReconcileInterval"] = "0",
            ["WorkOS:RetryBaseDelay"] = "00:00:00.050",
        });
        var directory = history.DirectoryIds[0];
        var users = fake.UserIds(directory).Count;
        await using var opened = await browser.OpenAsync();
        var page = opened.Page;
        await page.GotoAsync(ConsoleUrl(system).ToString());

        // The silo backfilled the directory from the WorkOS API at its start.
        var row = DirectoryRow(page, directory);
        await Expect(Cell(row, 2)).ToHaveTextAsync(users.ToString());
        await Expect(Cell(row, 7)).ToContainTextAsync("completed");
        await Expect(page.Locator("#held")).ToContainTextAsync("No deletions are held.");

        // WorkOS now lists a fifth of the users: too many deletions to apply without an operator.
        var hidden = fake.Faults.HideUsers(directory, 0.8);
        await row.GetByRole(AriaRole.Button, new() { Name = "Reconcile now" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("started");
        var held = page.Locator($"#held .held-item[data-directory-id='{directory}']");
        await Expect(held).ToContainTextAsync($"{hidden.Count} users");
        await Expect(held).ToContainTextAsync("deleted nothing");
        await Expect(Cell(row, 7)).ToContainTextAsync("held");
        await Expect(Cell(row, 2)).ToHaveTextAsync(users.ToString());

        await held.GetByRole(AriaRole.Button, new() { Name = "Show what would be deleted" }).ClickAsync();
        await Expect(held.Locator("ul.sample")).ToContainTextAsync(hidden.Order(StringComparer.Ordinal).First());

        // Forcing asks once more before anything is deleted.
        await held.GetByRole(AriaRole.Button, new() { Name = "Force deletions…" }).ClickAsync();
        await Expect(held).ToContainTextAsync("objects from the mirror?");
        await held.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Delete [0-9,]+$") }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("held deletions are being applied");

        await Expect(page.Locator("#held")).ToContainTextAsync("No deletions are held.");
        await Expect(Cell(row, 2)).ToHaveTextAsync((users - hidden.Count).ToString());
        await Expect(Cell(row, 7)).ToContainTextAsync("completed");
        Assert.Equal(users - hidden.Count, (await Mirror.ReadAsync(system.ConnectionString, directory)).Users.Count);
        NoScriptErrors(opened);
    }

    [Fact]
    public async Task A_dead_letter_is_replayed_from_the_console_and_one_that_still_cannot_be_applied_stays_with_its_attempts()
    {
        await using var system = await SyncSystem.StartAsync("console-replay");
        const string first = "directory_replay_a", second = "directory_replay_b", user = "user_replay_1";
        foreach (var body in new[]
        {
            Payloads.Activated("event_replay_01", first, 1),
            Payloads.Activated("event_replay_02", second, 1),
            Payloads.UserCreated("event_replay_03", user, first, 2),
            // The user shows up in the other directory while the first still holds it: refused, kept as a dead letter.
            Payloads.UserUpdated("event_replay_04", user, second, 5),
            // Not applicable however often it is tried.
            """{"object":"event","id":"event_replay_05","event":"dsync.user.created","created_at":"yesterday","data":{"id":"user_replay_2"}}""",
        })
        {
            Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(body)).Status);
        }
        await using var opened = await browser.OpenAsync();
        var page = opened.Page;
        await page.GotoAsync(ConsoleUrl(system).ToString());

        var moved = page.Locator("#dead-letters tr[data-event-id='event_replay_04']");
        var malformed = page.Locator("#dead-letters tr[data-event-id='event_replay_05']");
        await Expect(moved).ToContainTextAsync("belongs to directory");
        await Expect(malformed).ToContainTextAsync("created_at is not an ISO-8601 time");

        // Still refused while the first directory holds the user: the attempt is counted.
        await moved.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("event_replay_04 is still a dead letter (attempt 2)");
        await Expect(Cell(moved, 5)).ToHaveTextAsync("2");

        // Once the first directory is gone (deleted and cleaned up), the replay applies the user to the second.
        Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(Payloads.DirectoryDeleted("event_replay_06", first, 3))).Status);
        await Expect(Cell(DirectoryRow(page, first), 1)).ToHaveTextAsync("deleted");
        await moved.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("Event event_replay_04 replayed: applied.");
        await Expect(moved).ToHaveCountAsync(0);
        await Expect(Cell(DirectoryRow(page, second), 2)).ToHaveTextAsync("1");

        await malformed.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("event_replay_05 is still a dead letter (attempt 2)");
        await Expect(Cell(malformed, 5)).ToHaveTextAsync("2");
        Assert.Equal("[{\"outcome\": \"dead_letter\"}]", await system.ScalarAsync(
            "SELECT jsonb_agg(jsonb_build_object('outcome', a->>'outcome'))::text FROM event_log, jsonb_array_elements(earlier_attempts) a WHERE event_id = 'event_replay_05'"));
        NoScriptErrors(opened);
    }

    [Fact]
    public async Task A_failing_change_feed_endpoint_shows_its_lag_and_failures_and_is_delivered_again_from_the_console()
    {
        await using var receiver = new WebhookReceiver { Answer = _ => (500, null) };
        await receiver.StartAsync();
        var settings = FeedSystem.Settings(("app", receiver.Url));
        // The whole retry schedule (about three days) in about 14 s: long enough to be seen retrying, short enough to give up.
        settings["ChangeFeed:RetryScale"] = "0.00005";
        await using var system = await SyncSystem.StartAsync("console-webhooks", settings);
        await using var opened = await browser.OpenAsync();
        var page = opened.Page;
        await page.GotoAsync(ConsoleUrl(system).ToString());
        var row = page.Locator("#webhooks tr[data-endpoint='app']");
        await Expect(Cell(row, 1)).ToHaveTextAsync("caught up");

        foreach (var body in new[]
        {
            Payloads.Activated("event_hooks_01", "directory_hooks", 1),
            Payloads.UserCreated("event_hooks_02", "user_hooks_1", "directory_hooks", 2),
            Payloads.UserCreated("event_hooks_03", "user_hooks_2", "directory_hooks", 3),
        })
        {
            Assert.Equal(HttpStatusCode.OK, (await system.SendAsync(body)).Status);
        }

        // Refused: the entries wait, retried on the schedule, and the page says how old the oldest is.
        await Expect(Cell(row, 0)).ToContainTextAsync(receiver.Url.ToString());
        await Expect(Cell(row, 1)).ToContainTextAsync("retrying");
        await Expect(Cell(row, 2)).Not.ToHaveTextAsync("0");
        await Expect(Cell(row, 3)).ToContainTextAsync("ago");
        await Expect(page.Locator("#summary")).ToContainTextAsync("Webhook lag");

        // Given up after the whole schedule: kept as a failure, which the page lists.
        await Expect(Cell(row, 5)).Not.ToHaveTextAsync("0", new() { Timeout = 60_000 });
        await row.GetByRole(AriaRole.Button, new() { Name = "Show failures" }).ClickAsync();
        await Expect(page.Locator("#webhooks ul.failures")).ToContainTextAsync("directory_hooks");

        // The application is fixed: delivering again from the first failure brings it everything, in order.
        receiver.Answer = _ => null;
        await row.GetByRole(AriaRole.Button, new() { Name = "Deliver again from the first failure" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("Endpoint app delivers again");
        await Expect(Cell(row, 5)).ToHaveTextAsync("0");
        await Expect(Cell(row, 1)).ToHaveTextAsync("caught up");
        Assert.Empty(await FeedSystem.WaitForMirrorAsync(system, receiver.Replica, TimeSpan.FromSeconds(30)));
        Assert.Empty(receiver.Problems);
        NoScriptErrors(opened);
    }
}
