using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The soak's view over time (<c>--window-s</c>): a paced delivery to a real HTTP endpoint is broken down into
/// consecutive windows that account for every acknowledgement, at the pace asked for.
/// </summary>
/// <remarks>
/// Alone in its collection, run while no other test class runs: it checks a pace, which the other classes' silos,
/// browsers and fuzzing, sharing the same cores, would otherwise disturb.
/// </remarks>
[Collection(nameof(DeliveryWindowTests))]
public sealed class DeliveryWindowTests
{
    [Fact]
    public async Task A_paced_delivery_reports_each_window_at_the_pace_and_every_acknowledgement_once()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapPost("/webhooks/workos", () => Results.Ok());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        var history = HistoryGenerator.Generate(new HistoryOptions { UsersPerDirectory = 150, GroupsPerDirectory = 10, MembershipsPerUser = 1, ChurnPerDirectory = 0 });
        var report = await WebhookDelivery.DeliverAsync(history.Events, new WebhookDeliveryOptions
        {
            Endpoint = new Uri($"{address}/webhooks/workos"),
            Secret = "window-test",
            Concurrency = 4,
            RatePerSecond = 100,
            Window = TimeSpan.FromSeconds(1),
        });

        Assert.True(report.AllAcknowledged);
        Assert.Equal(report.Acknowledged, report.Windows.Sum(w => w.Acknowledged));
        Assert.Equal(report.Windows.OrderBy(w => w.Start), report.Windows);
        Assert.All(report.Windows, w => Assert.Equal(0, w.Start.Ticks % TimeSpan.TicksPerSecond));
        // 311 events at 100/s: three full windows at about the pace (the token bucket may start with a small burst).
        var full = report.Windows.Where(w => w.Length == TimeSpan.FromSeconds(1)).ToList();
        Assert.True(full.Count >= 2, $"only {full.Count} full windows");
        Assert.All(full.Skip(1), w => Assert.InRange(w.Acknowledged, 80, 120));
    }
}

[CollectionDefinition(nameof(DeliveryWindowTests), DisableParallelization = true)]
public sealed class DeliveryWindowCollection;
