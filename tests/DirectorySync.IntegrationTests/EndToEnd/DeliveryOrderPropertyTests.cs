using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.Mirror;
using Microsoft.AspNetCore.Http;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The product's promise, end to end: random realistic histories (all ten event types, several directories, both
/// payload generations, deactivations and reactivations, deletes, a directory deletion) delivered over real HTTP in
/// order, shuffled, shuffled with duplicates, and with injected 503s that the sender retries, end with the four
/// tables equal to in-order delivery's result, under both inactive-user policies. A failing seed is printed.
/// </summary>
public sealed class DeliveryOrderPropertyTests(ITestOutputHelper output)
{
    private const int SeedsPerMode = 3;

    public static TheoryData<string> Policies => ["retain", "delete"];

    [Theory]
    [MemberData(nameof(Policies))]
    public async Task Any_delivery_order_with_duplicates_and_retries_yields_the_in_order_mirror(string policyName)
    {
        var policy = policyName == "delete" ? InactivePolicy.Delete : InactivePolicy.Retain;
        var faults = new FaultInjection();
        await using var system = await SyncSystem.StartAsync($"property_{policyName}",
            new Dictionary<string, string?> { ["DirectorySync:InactiveUsers"] = policyName }, gatewayMiddleware: faults.InvokeAsync);

        var baseSeed = policy == InactivePolicy.Delete ? 1000 : 2000;
        var modes = new (string Name, DeliveryOrder Order, double Duplicates, double Faults)[]
        {
            ("in order", DeliveryOrder.InOrder, 0, 0),
            ("shuffled", DeliveryOrder.Shuffled, 0, 0),
            ("shuffled with duplicates", DeliveryOrder.Shuffled, 0.2, 0),
            ("shuffled with duplicates and injected 503s", DeliveryOrder.Shuffled, 0.1, 0.15),
        };
        for (var m = 0; m < modes.Length; m++)
        for (var s = 0; s < SeedsPerMode; s++)
        {
            var (name, order, duplicates, faultRate) = modes[m];
            var seed = baseSeed + m * 100 + s;
            var history = HistoryGenerator.Generate(new HistoryOptions
            {
                Seed = seed,
                Directories = 3,
                UsersPerDirectory = 25,
                GroupsPerDirectory = 5,
                MembershipsPerUser = 2,
                ChurnPerDirectory = 120,
                DeleteDirectoryAtEnd = s % 2 == 0,
                Generation = PayloadGeneration.Mixed,
            });
            faults.Rate = faultRate;
            var report = await WebhookDelivery.DeliverAsync(history.Events, new WebhookDeliveryOptions
            {
                Endpoint = system.WebhookUrl,
                Secret = SyncSystem.Secret,
                Concurrency = 16,
                Order = order,
                DuplicateFraction = duplicates,
                Seed = seed,
                MaxAttempts = 30,
                InitialBackoff = TimeSpan.FromMilliseconds(5),
                MaxBackoff = TimeSpan.FromMilliseconds(200),
            });
            var replay = $"seed {seed}, policy {policyName}, {name}: {history.Events.Count} events";
            Assert.True(report.AllAcknowledged, $"{replay}: not every event was acknowledged ({report.Failures.Count} failed)");

            var differences = await MirrorVerifier.WaitForMatchAsync(system.ConnectionString, history.Expected(policy),
                TimeSpan.FromSeconds(20), history.DirectoryIds);
            Assert.True(differences.Count == 0,
                $"{replay}: the mirror differs from in-order delivery:\n{string.Join("\n", differences.Take(15))}");
            output.WriteLine($"{replay}: matched ({report.Retries} retries)");
        }
        Assert.True(faults.Injected > 0, "no 503 was injected: the retry mode tested nothing");
    }

    /// <summary>Answers 503 to a share of requests, half before the gateway sees them, half after it applied them (a lost acknowledgement).</summary>
    private sealed class FaultInjection
    {
        private int _injected;

        public double Rate { get; set; }

        public int Injected => _injected;

        public async Task InvokeAsync(HttpContext context, Func<Task> next)
        {
            var roll = Random.Shared.NextDouble();
            if (roll >= Rate)
            {
                await next();
                return;
            }
            Interlocked.Increment(ref _injected);
            if (roll < Rate / 2)
            {
                var real = context.Response.Body;
                context.Response.Body = Stream.Null;
                await next();
                context.Response.Body = real;
                context.Response.Headers.ContentLength = null;
            }
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("injected");
        }
    }
}
