using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>When Postgres stops committing, senders hear it at once, the silo holds a bounded number of events, and
/// everything retried afterwards lands.</summary>
public sealed class BackpressureTests(ITestOutputHelper output)
{
    private const int InFlight = 32;

    [Fact]
    public async Task While_the_event_log_is_locked_answers_turn_503_quickly_and_everything_lands_afterwards()
    {
        await using var system = await SyncSystem.StartAsync("backpressure", new Dictionary<string, string?>
        {
            ["DirectorySync:FlushStallLimit"] = "00:00:02",
        });
        Assert.Equal("applied", (await system.SendAsync(Payloads.Activated("event_bp0", "directory_bp", 0))).Text);
        var queued = system.Silos[0].Services.GetRequiredService<QueuedEvents>();

        await using var locker = new NpgsqlConnection(system.ConnectionString);
        await locker.OpenAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockCommand = new NpgsqlCommand("LOCK TABLE event_log IN ACCESS EXCLUSIVE MODE", locker, transaction))
            await lockCommand.ExecuteNonQueryAsync();
        var clock = Stopwatch.StartNew();
        var lockHeld = TimeSpan.FromSeconds(30);

        var answers = new ConcurrentBag<(TimeSpan At, TimeSpan Took, HttpStatusCode Status)>();
        var next = 0;
        var maxQueued = 0;
        async Task SendUntilAppliedAsync()
        {
            while (clock.Elapsed < lockHeld + TimeSpan.FromSeconds(2))
            {
                var n = Interlocked.Increment(ref next);
                var body = Payloads.UserCreated($"event_bp{n}", $"user_bp{n}", "directory_bp", 1);
                // Like WorkOS: the same event again until it is acknowledged (bounded: the test would fail, not hang).
                for (var attempt = 0; attempt < 200; attempt++)
                {
                    var started = clock.Elapsed;
                    var (status, _) = await system.SendAsync(body);
                    answers.Add((started, clock.Elapsed - started, status));
                    maxQueued = Math.Max(maxQueued, queued.Count);
                    if (status == HttpStatusCode.OK) break;
                    await Task.Delay(200);
                }
            }
        }
        var senders = Enumerable.Range(0, InFlight).Select(_ => Task.Run(SendUntilAppliedAsync)).ToList();

        await Task.Delay(lockHeld);
        await transaction.RollbackAsync();
        await Task.WhenAll(senders);

        var duringLock = answers.Where(a => a.At > TimeSpan.FromSeconds(5) && a.At + a.Took < lockHeld).ToList();
        var refused = duringLock.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).ToList();
        output.WriteLine($"{answers.Count} answers; during the lock {duringLock.Count}, of which {refused.Count} 503, slowest {duringLock.Max(a => a.Took).TotalMilliseconds:0} ms; most queued {maxQueued}");
        Assert.NotEmpty(refused);
        Assert.All(duringLock, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        Assert.All(duringLock, a => Assert.True(a.Took < TimeSpan.FromSeconds(1), $"a refusal took {a.Took.TotalMilliseconds:0} ms"));
        Assert.InRange(maxQueued, 0, 2 * InFlight);

        // Every event sent was acknowledged in the end, and every one of them is in the mirror.
        var sent = Volatile.Read(ref next);
        await using var reader = new NpgsqlConnection(system.ConnectionString);
        await reader.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM directory_users WHERE workos_user_id LIKE 'user_bp%'", reader);
        Assert.Equal((long)sent, (long)(await count.ExecuteScalarAsync())!);
        Assert.Equal(0, queued.Count);
    }
}
