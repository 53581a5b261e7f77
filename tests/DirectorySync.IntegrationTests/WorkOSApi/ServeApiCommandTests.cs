using System.Diagnostics;
using System.Threading.Channels;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.Mirror;
using Xunit;

namespace DirectorySync.IntegrationTests.WorkOSApi;

/// <summary>
/// <c>serve-api</c> as scripts run it: its own process, the base URL read from stdout, stopped with SIGTERM. The
/// oldest half of the history is "long ago" (the REST lists show it, the Events API does not), and a change comes
/// later through the APIs alone.
/// </summary>
public sealed class ServeApiCommandTests
{
    private const string Key = "sk_test_serve_api";

    [Fact]
    public async Task Serve_api_shows_old_history_to_the_lists_only_adds_an_API_only_change_and_stops_on_SIGTERM()
    {
        var options = new HistoryOptions { UsersPerDirectory = 20, GroupsPerDirectory = 3, MembershipsPerUser = 2, ChurnPerDirectory = 10, Seed = 5 };
        var history = HistoryGenerator.Generate(options);
        var expired = (int)Math.Round(history.Events.Count * 0.5);
        var directoryId = history.DirectoryIds.Single();

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "DirectorySync.Simulator.dll"), "serve-api", "--api-key", Key,
            "--users", "20", "--groups", "3", "--memberships-per-user", "2", "--churn", "10", "--seed", "5",
            "--expired", "0.5", "--api-only-change-after-s", "2",
        })
        {
            start.ArgumentList.Add(argument);
        }
        var stdout = Channel.CreateUnbounded<string>();
        var output = new List<string>();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null) return;
            lock (output) output.Add(line.Data);
            stdout.Writer.TryWrite(line.Data);
        };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) lock (output) output.Add(line.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var baseUrl = (await LineStartingWithAsync(stdout, "api-url", output)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            using var client = new ApiClient(new Uri(baseUrl), Key);

            var users = await client.IdsOfEveryPageAsync($"/directory_users?directory={directoryId}&limit=100");
            // Up to the history's end: the API-only change may already have come.
            var historyEnd = Uri.EscapeDataString(history.Events[^1].CreatedAt!.Value.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            var events = await client.IdsOfEveryPageAsync($"/events?limit=100&range_end={historyEnd}");

            var expectedUsers = history.Expected(InactivePolicy.Retain).Users.Keys.Order(StringComparer.Ordinal);
            Assert.Equal(expectedUsers, users.Order(StringComparer.Ordinal));
            Assert.Equal(history.Events.Skip(expired).Select(e => e.Id), events);

            var change = await LineStartingWithAsync(stdout, "api-only", output);
            var tail = await client.GetAsync($"/events?after={history.Events[^1].Id}");
            var changeEvent = Assert.Single(tail.Body.GetProperty("data").EnumerateArray());
            Assert.Equal("dsync.user.updated", changeEvent.GetProperty("event").GetString());
            Assert.Contains(changeEvent.GetProperty("id").GetString()!, change);
            Assert.DoesNotContain(history.Events, e => e.Id == changeEvent.GetProperty("id").GetString());

            using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await signal.WaitForExitAsync();
            }
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exit.Token);
            Assert.Equal(0, process.ExitCode);
            lock (output)
            {
                Assert.Contains(output, line => line.StartsWith("requests", StringComparison.Ordinal) && line.Contains("0 with 429"));
                Assert.Contains(output, line => line.StartsWith("result", StringComparison.Ordinal) && line.Contains("OK"));
            }
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private static async Task<string> LineStartingWithAsync(Channel<string> stdout, string prefix, List<string> output)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (true)
            {
                var line = await stdout.Reader.ReadAsync(timeout.Token);
                if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
            }
        }
        catch (OperationCanceledException)
        {
            lock (output) Assert.Fail($"serve-api printed no '{prefix}' line within 60 s; its output:\n{string.Join('\n', output)}");
            throw;
        }
    }
}
