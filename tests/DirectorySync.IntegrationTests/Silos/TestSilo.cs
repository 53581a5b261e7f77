using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace DirectorySync.IntegrationTests;

/// <summary>
/// A real silo in this process: its own loopback ports, membership and reminders in Postgres through the ADO.NET
/// providers and our sql/ scripts.
/// </summary>
public sealed class TestSilo : IAsyncDisposable
{
    public const string Invariant = "Npgsql";

    private readonly IHost host;

    private TestSilo(IHost host) => this.host = host;

    public IServiceProvider Services => host.Services;

    public IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

    public SiloAddress Address => host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public int GatewayPort => host.Services.GetRequiredService<ILocalSiloDetails>().GatewayAddress!.Endpoint.Port;

    public static async Task<TestSilo> StartAsync(string connectionString, string clusterId, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        services?.Invoke(builder.Services);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = clusterId;
                cluster.ServiceId = clusterId;
            });
            silo.ConfigureEndpoints(IPAddress.Loopback, FreeLoopbackPort(), FreeLoopbackPort());
            silo.UseAdoNetClustering(clustering =>
            {
                clustering.Invariant = Invariant;
                clustering.ConnectionString = connectionString;
            });
            silo.UseAdoNetReminderService(reminders =>
            {
                reminders.Invariant = Invariant;
                reminders.ConnectionString = connectionString;
            });
            // Lets a test watch a reminder fire several times in seconds rather than minutes.
            silo.Configure<ReminderOptions>(reminders => reminders.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });

        var host = builder.Build();
        await host.StartAsync();
        return new TestSilo(host);
    }

    public Task StopAsync() => host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
