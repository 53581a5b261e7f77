using DirectorySync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Xunit;

namespace DirectorySync.IntegrationTests;

public sealed class ClusterMembershipTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Two_silos_join_through_postgres_and_a_grain_of_a_stopped_silo_comes_back_on_the_survivor()
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync("cluster");
        const string clusterId = "two-silos";
        await using var first = await TestSilo.StartAsync(database, clusterId);
        await using var second = await TestSilo.StartAsync(database, clusterId);

        await Eventually(async () => Assert.Equal(
            new[] { first.Address.ToParsableString(), second.Address.ToParsableString() }.Order(),
            (await MembershipRow.ReadAsync(database, clusterId)).Where(r => r.Status == MembershipRow.Active).Select(r => r.Silo).Order()));

        var grainOnFirst = await first.Grains.GetGrain<ILocatedGrain>("wanderer").SiloAsync();
        Assert.Equal(first.Address.ToString(), grainOnFirst);

        // The client knows no silo: it finds both gateways in Postgres.
        using var client = await StartClientAsync(database, clusterId);
        var wanderer = client.Services.GetRequiredService<IClusterClient>().GetGrain<ILocatedGrain>("wanderer");
        Assert.Equal(first.Address.ToString(), await wanderer.SiloAsync());

        await first.StopAsync();

        await Eventually(async () => Assert.Contains(
            new MembershipRow(first.Address.ToParsableString(), MembershipRow.Dead),
            await MembershipRow.ReadAsync(database, clusterId)));
        await Eventually(async () => Assert.Equal(second.Address.ToString(), await wanderer.SiloAsync()));
        Assert.Contains(
            new MembershipRow(second.Address.ToParsableString(), MembershipRow.Active),
            await MembershipRow.ReadAsync(database, clusterId));
    }

    private static async Task<IHost> StartClientAsync(string database, string clusterId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = clusterId;
                cluster.ServiceId = clusterId;
            });
            client.UseAdoNetClustering(clustering =>
            {
                clustering.Invariant = TestSilo.Invariant;
                clustering.ConnectionString = database;
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    // Membership and routing settle asynchronously: retry the check until it holds or patience runs out.
    private static async Task Eventually(Func<Task> check)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                await check();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
        }
    }
}
