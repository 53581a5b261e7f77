using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using DirectorySync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.FaultTests;

/// <summary>
/// Real processes, real faults: while WorkOS (the simulator) delivers a few thousand events to two gateway processes
/// in front of three silo processes, one thing breaks. Afterwards every event is acknowledged, the mirror equals
/// in-order delivery's result, and the event log holds every event once. The time until acknowledgements flow again
/// is printed.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FaultRecoveryTests(FaultCluster fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan RecoveryPatience = TimeSpan.FromSeconds(90);

    private LoopbackCluster Cluster => fixture.Cluster;

    public async Task InitializeAsync()
    {
        var restarted = await Cluster.RestoreAsync();
        if (restarted.Count > 0) output.WriteLine($"started again first: {string.Join(", ", restarted)}");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Two directories of all ten event types, ~3,200 events: seconds of delivery on either side of a fault.</summary>
    private static GeneratedHistory History(int seed) => HistoryGenerator.Generate(new HistoryOptions
    {
        Seed = seed,
        Directories = 2,
        UsersPerDirectory = 300,
        GroupsPerDirectory = 20,
        MembershipsPerUser = 2,
        ChurnPerDirectory = 700,
        Generation = PayloadGeneration.Mixed,
    });

    [Fact]
    public async Task A_silo_killed_mid_delivery_and_started_again_loses_and_repeats_nothing()
    {
        var history = History(seed: 101);
        var run = DeliveryUnderFault.Start(Cluster, history.Events, DeliveryOrder.Shuffled, duplicates: 0.1, seed: 101,
            ratePerSecond: DeliveryUnderFault.PacedPerSecond);
        var victim = Cluster.Silos[1];

        await run.WaitForShareAcknowledgedAsync(0.1);
        var killed = await StrikeAsync(run, victim.KillAsync, $"{victim.Name} killed (SIGKILL)");
        await WaitForSteadyFlowAsync(run, killed);
        // Requests that were inside the silo fail only when the gateway gives up on them: restart after that.
        var settling = killed + LoopbackCluster.ApplyTimeout + TimeSpan.FromSeconds(2) - run.Timeline.Now;
        if (settling > TimeSpan.Zero) await Task.Delay(settling);
        var restarting = await StartAgainAsync(run, victim);

        var report = await run.Delivery;
        var recovery = Recovered(run, killed, until: restarting, $"{victim.Name} killed");
        Recovered(run, restarting, until: run.Timeline.Now, $"{victim.Name} started again");
        await SummarizeAndVerifyAsync(report, history, recovery);
    }

    [Fact]
    public async Task A_rolling_restart_of_a_silo_loses_and_repeats_nothing()
    {
        var history = History(seed: 202);
        var run = DeliveryUnderFault.Start(Cluster, history.Events, DeliveryOrder.InOrder, duplicates: 0.1, seed: 202);
        var victim = Cluster.Silos[2];

        await run.WaitForShareAcknowledgedAsync(0.2);
        var stopping = await StrikeAsync(run, () => victim.StopGracefullyAsync(TimeSpan.FromSeconds(60)), $"{victim.Name} sent SIGTERM");
        output.WriteLine($"{victim.Name} exited {(run.Timeline.Now - stopping).TotalSeconds:0.0} s after SIGTERM");
        await StartAgainAsync(run, victim);

        var report = await run.Delivery;
        var recovery = Recovered(run, stopping, until: run.Timeline.Now, $"{victim.Name} stopped and started again");
        await SummarizeAndVerifyAsync(report, history, recovery);
    }

    [Fact]
    public async Task A_gateway_killed_mid_delivery_is_failed_over_and_loses_and_repeats_nothing()
    {
        var history = History(seed: 303);
        var run = DeliveryUnderFault.Start(Cluster, history.Events, DeliveryOrder.Shuffled, duplicates: 0.1, seed: 303);
        var victim = Cluster.Gateways[0];

        await run.WaitForShareAcknowledgedAsync(0.25);
        var killed = await StrikeAsync(run, victim.KillAsync, $"{victim.Name} killed (SIGKILL)");

        var report = await run.Delivery;
        var recovery = Recovered(run, killed, until: run.Timeline.Now, $"{victim.Name} killed");
        await SummarizeAndVerifyAsync(report, history, recovery);
    }

    [Fact]
    public async Task A_postgres_restart_mid_delivery_loses_and_repeats_nothing()
    {
        var history = History(seed: 404);
        var run = DeliveryUnderFault.Start(Cluster, history.Events, DeliveryOrder.Shuffled, duplicates: 0.1, seed: 404);

        await run.WaitForShareAcknowledgedAsync(0.25);
        var stopped = await StrikeAsync(run, fixture.Postgres.StopServerAsync, "Postgres stopped (pg_ctl stop -m fast)");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await fixture.Postgres.StartServerAsync();
        var started = run.Timeline.Now;
        output.WriteLine($"Postgres accepting connections again at {started.TotalSeconds:0.0} s, down {(started - stopped).TotalSeconds:0.0} s");

        var report = await run.Delivery;
        var recovery = Recovered(run, started, until: run.Timeline.Now, "Postgres back");
        await SummarizeAndVerifyAsync(report, history, recovery);
        Assert.All(Cluster.Gateways, gateway => Assert.False(gateway.LogContains("CodecNotFoundException"),
            $"{gateway.Name} got a serialization failure instead of the Postgres error"));
    }

    [Fact]
    public async Task A_silo_killed_while_it_cleans_up_a_deleted_directory_leaves_the_cleanup_to_another_silo()
    {
        var doomed = HistoryGenerator.Generate(new HistoryOptions
        {
            Seed = 505,
            Directories = 1,
            UsersPerDirectory = 1000,
            GroupsPerDirectory = 15,
            MembershipsPerUser = 2,
            ChurnPerDirectory = 0,
            DeleteDirectoryAtEnd = true,
        });
        var directoryId = doomed.DirectoryIds.Single();
        var deletion = doomed.Events[^1];
        Assert.Equal("dsync.deleted", deletion.Type);
        var buildUp = DeliveryUnderFault.Start(Cluster, doomed.Events.SkipLast(1).ToList(), DeliveryOrder.InOrder, duplicates: 0, seed: 505);
        Assert.True((await buildUp.Delivery).AllAcknowledged, "the directory to delete was not built up");
        var builtUp = await DirectoryRowsAsync(directoryId);
        output.WriteLine($"directory {directoryId} built up: {builtUp} rows, cleaned up {FaultCluster.CleanupChunkSize} at a time");

        // Other directories keep arriving during the cleanup, and through the silo's death.
        var ongoing = History(seed: 506);
        var run = DeliveryUnderFault.Start(Cluster, ongoing.Events, DeliveryOrder.Shuffled, duplicates: 0.1, seed: 506,
            ratePerSecond: DeliveryUnderFault.PacedPerSecond);
        await run.WaitForShareAcknowledgedAsync(0.1);
        var deleted = await WebhookDelivery.DeliverAsync([deletion], DeliveryUnderFault.Options(Cluster, DeliveryOrder.InOrder, 0, 507));
        Assert.True(deleted.AllAcknowledged, "dsync.deleted was not acknowledged");

        // Strike in the middle: once a fifth of the rows are gone.
        await WhenAsync(async () => await DirectoryRowsAsync(directoryId) <= builtUp * 4 / 5, TimeSpan.FromSeconds(60));
        var cleaner = await SiloCleaningUpAsync();
        var killed = await StrikeAsync(run, cleaner.KillAsync, $"{cleaner.Name}, which was cleaning up {directoryId}, killed (SIGKILL)");
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // lets a chunk committed as the silo died show in the count
        var rowsLeft = await DirectoryRowsAsync(directoryId);
        Assert.True(rowsLeft > 0, "the cleanup finished before the silo was killed: nothing was left to resume");

        var resumed = await WhenAsync(async () => await DirectoryRowsAsync(directoryId) < rowsLeft, TimeSpan.FromSeconds(90));
        output.WriteLine($"cleanup resumed on another silo {(resumed - killed).TotalSeconds:0.0} s after the kill ({rowsLeft} rows were left)");
        var finished = await WhenAsync(async () => await DirectoryRowsAsync(directoryId) == 0, TimeSpan.FromSeconds(120));
        output.WriteLine($"cleanup finished {(finished - killed).TotalSeconds:0.0} s after the kill");
        var restarting = await StartAgainAsync(run, cleaner);

        var report = await run.Delivery;
        var recovery = Recovered(run, killed, until: restarting, $"{cleaner.Name} killed");
        await SummarizeAndVerifyAsync(report, ongoing, recovery);
        await SyncedState.AssertMirrorAsync(Cluster, doomed);
        await SyncedState.AssertEventLogAsync(Cluster, doomed);

        // Times on the ongoing delivery's clock, the one the kill was timed on.
        async Task<TimeSpan> WhenAsync(Func<Task<bool>> condition, TimeSpan within)
        {
            var deadline = run.Timeline.Now + within;
            while (!await condition())
            {
                Assert.True(run.Timeline.Now < deadline, $"still waiting after {within.TotalSeconds:0} s\n{Cluster.LogTails(15)}");
                await Task.Delay(100);
            }
            return run.Timeline.Now;
        }
    }

    /// <summary>The silo running the directory cleanup, seen from Postgres: its session is the one running a chunk.</summary>
    private async Task<HostProcess> SiloCleaningUpAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (await Cluster.SiloThatRanAsync("/* directory cleanup */") is { } silo) return silo;
            Assert.True(DateTime.UtcNow < deadline, "no silo was seen running the cleanup within 30 s");
            await Task.Delay(20);
        }
    }

    private Task<long> DirectoryRowsAsync(string directoryId) =>
        MirrorQueries.DirectoryRowsAsync(Cluster.ConnectionString, directoryId);

    /// <summary>Breaks something while the delivery is in full flow; returns when, on the delivery's clock.</summary>
    private async Task<TimeSpan> StrikeAsync(DeliveryUnderFault run, Func<Task> fault, string what)
    {
        Assert.False(run.Delivery.IsCompleted, "the delivery was over before the fault: it would test nothing");
        var at = run.Timeline.Now;
        var acknowledged = run.Timeline.Acknowledged;
        await fault();
        output.WriteLine($"{what} at {at.TotalSeconds:0.0} s ({acknowledged} of {run.Requests} requests acknowledged)");
        return at;
    }

    /// <summary>Waits until acknowledgements flow again after <paramref name="fault"/>; fails with the processes' last words if they do not.</summary>
    private async Task WaitForSteadyFlowAsync(DeliveryUnderFault run, TimeSpan fault)
    {
        var flowing = await run.Timeline.WaitForSteadyFlowAsync(fault, run.Delivery, RecoveryPatience);
        Assert.True(flowing is not null || run.Delivery.IsCompleted,
            $"acknowledgements did not flow again within {RecoveryPatience.TotalSeconds:0} s\n{Cluster.LogTails(15)}");
    }

    /// <summary>Starts a stopped host again (the delivery goes on); returns when it was started.</summary>
    private async Task<TimeSpan> StartAgainAsync(DeliveryUnderFault run, HostProcess host)
    {
        var starting = run.Timeline.Now;
        var acknowledged = run.Timeline.Acknowledged;
        await host.StartAsync(LoopbackCluster.ReadyWithin);
        output.WriteLine($"{host.Name} started again at {starting.TotalSeconds:0.0} s ({acknowledged} of {run.Requests} requests acknowledged), " +
            $"ready {(run.Timeline.Now - starting).TotalSeconds:0.0} s later");
        return starting;
    }

    /// <summary>Prints how the delivery came back from <paramref name="fault"/>, and fails if it did not.</summary>
    private Recovery Recovered(DeliveryUnderFault run, TimeSpan fault, TimeSpan until, string what)
    {
        var recovery = run.Timeline.RecoveryFrom(fault, until);
        output.WriteLine($"{what}: {recovery}");
        Assert.True(recovery.FlowingAgainAt is not null && recovery.OverAt is not null,
            $"{what}: acknowledgements never flowed steadily again\n{Cluster.LogTails(15)}");
        return recovery;
    }

    private async Task SummarizeAndVerifyAsync(DeliveryReport report, GeneratedHistory history, Recovery recovery)
    {
        output.WriteLine($"delivered {report.Events} events as {report.Requests} requests in {report.Duration.TotalSeconds:0.0} s " +
            $"({report.RequestsPerSecond:0}/s, {report.Retries} retries, p99 {report.AckLatency.P99.TotalMilliseconds:0} ms); " +
            $"time to recover: {recovery.TimeToRecover!.Value.TotalSeconds:0.0} s, over after {(recovery.OverAt - recovery.Fault)!.Value.TotalSeconds:0.0} s");
        await SyncedState.AssertAsync(Cluster, history, report);
    }
}
