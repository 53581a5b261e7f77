using DirectorySync.Simulator.History;
using DirectorySync.Simulator.WorkOSApi;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Simulator.Cli;

/// <summary>
/// <c>serve-api</c>: generate a history, publish it into a <see cref="FakeWorkOS"/> and serve WorkOS's REST and Events
/// APIs until Ctrl-C. The history's oldest part can be "long ago" (expired from the Events API and never sent as
/// webhooks), the rest can be delivered as webhooks as well, and one change can come later through the APIs alone.
/// </summary>
internal static class ServeApiCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>(
    [
        .. DeliveryArguments.ValueOptions, .. HistoryArguments.ValueOptions,
        "api-key", "listen", "expired", "retention-days", "invalid-cursor-status", "api-only-change-after-s",
    ]);

    public static readonly IReadOnlySet<string> FlagOptions = new HashSet<string>(HistoryArguments.FlagOptions);

    public static async Task<int> RunAsync(CommandLine line, CancellationToken cancellationToken)
    {
        var options = HistoryArguments.Read(line);
        var apiKey = line.RequiredText("api-key");
        var listen = line.Text("listen") ?? "http://127.0.0.1:0";
        var expiredFraction = line.Fraction("expired", 0);
        TimeSpan? retention = line.Text("retention-days") is null ? null : TimeSpan.FromDays(line.Integer("retention-days", 0, minimum: 1));
        var invalidCursorStatus = line.Choice("invalid-cursor-status", 400, ("400", 400), ("422", 422));
        TimeSpan? apiOnlyChangeAfter = line.Text("api-only-change-after-s") is null ? null : line.Seconds("api-only-change-after-s", TimeSpan.Zero);
        var delivery = line.Text("url") is null ? null : DeliveryArguments.Read(line);

        var history = HistoryArguments.Generate(options);
        var fake = new FakeWorkOS(apiKey) { EventRetention = retention, InvalidCursorStatus = invalidCursorStatus };
        var events = history.Events;
        fake.Publish(events);
        var expired = (int)Math.Round(events.Count * expiredFraction);
        if (expired > 0)
        {
            // Generated times increase strictly: everything before the first recent event is the old part.
            fake.ExpireEventsBefore(expired < events.Count ? events[expired].CreatedAt!.Value : events[^1].CreatedAt!.Value.AddMilliseconds(1));
        }
        RunSummary.Line("published", $"{events.Count:N0} events" +
            (expired > 0 ? $"; the first {expired:N0} happened long ago: the REST lists show them, GET /events and webhooks do not" : "") +
            (retention is { } days ? $"; events older than {days.TotalDays:0} days expire" : ""));

        await using var server = await FakeWorkOSServer.StartAsync(fake, listen, ConsoleLogging, cancellationToken);
        RunSummary.Line("api-url", server.BaseAddress.ToString().TrimEnd('/'));

        var apiOnlyChange = apiOnlyChangeAfter is { } delay ? MakeApiOnlyChangeAsync(fake, delay, options.Seed, cancellationToken) : Task.CompletedTask;
        var delivered = true;
        try
        {
            if (delivery is not null)
            {
                var report = await DeliveryArguments.DeliverAsync([.. events.Skip(expired)], delivery, cancellationToken);
                delivered = report.AllAcknowledged;
            }
            RunSummary.Line("serving", "until Ctrl-C");
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: the way serving ends.
        }
        try
        {
            await apiOnlyChange;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            RunSummary.Line("api-only", "stopped before the change was due");
        }

        var requests = fake.Traffic.Requests;
        RunSummary.Line("requests", $"{requests.Count:N0} answered: {requests.Count(r => r.Status < 400):N0} served, " +
            $"{fake.Traffic.Throttled:N0} with 429, {requests.Count(r => r.Status is >= 400 and not 429):N0} other errors");
        RunSummary.Line("result", delivered ? "OK" : "FAILED (webhooks not all acknowledged)");
        return delivered ? 0 : 1;
    }

    /// <summary>Refused requests and injected faults, one line each on stderr: stdout keeps the summary lines scripts read.</summary>
    private static void ConsoleLogging(ILoggingBuilder logging) => logging
        .AddSimpleConsole(options => options.SingleLine = true)
        .AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace)
        .SetMinimumLevel(LogLevel.Information)
        .AddFilter("Microsoft", LogLevel.Warning);

    /// <summary>
    /// After <paramref name="delay"/>, a seeded user's <c>first_name</c> changes through the APIs only: the event is
    /// published to the fake and never sent as a webhook, so only a client of <c>GET /events</c> (or a reconciliation)
    /// sees it.
    /// </summary>
    private static async Task MakeApiOnlyChangeAsync(FakeWorkOS fake, TimeSpan delay, int seed, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, cancellationToken);
        var random = new Random(seed);
        var users = fake.DirectoryIds().SelectMany(fake.UserIds).ToList();
        if (users.Count == 0)
        {
            RunSummary.Line("api-only", "no change made: no user is left to change");
            return;
        }
        var userId = users[random.Next(users.Count)];
        var current = fake.User(userId) is { } user ? PayloadFields.Text(user, "first_name") : null;
        string name;
        do name = SampleNames.FirstNames[random.Next(SampleNames.FirstNames.Length)]; while (name == current);
        var update = fake.BuildUserUpdate(userId, "first_name", name);
        fake.Publish(update);
        RunSummary.Line("api-only", $"{update.Id} at {update.CreatedAt:O}: dsync.user.updated of {userId}, first_name " +
            $"'{current}' -> '{name}', sent as no webhook (GET /events and the REST lists show it)");
    }
}
