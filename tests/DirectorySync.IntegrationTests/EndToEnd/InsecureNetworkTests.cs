using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using DirectorySync.Hosting;
using DirectorySync.Silo;
using DirectorySync.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// A silo told to advertise a network address listens on every interface: it refuses to start unless the Orleans ports
/// are protected by TLS or declared to be on a private network. Nothing here connects to that address: listening only.
/// </summary>
public sealed class InsecureNetworkTests
{
    private static readonly IPAddress NetworkAddress = ThisMachinesNetworkAddress();

    /// <summary>
    /// One of this machine's own addresses beyond loopback; without one, TEST-NET-1 (never routed), which is only
    /// advertised, never bound or called, since the silo then listens on the any-address.
    /// </summary>
    private static IPAddress ThisMachinesNetworkAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(a => a.Address))
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? IPAddress.Parse("192.0.2.1");

    private static async Task<WebApplicationBuilder> SiloBuilderAsync(string name, CapturedLogs logs, Dictionary<string, string?> settings)
    {
        var all = SyncSystem.BaseSettings(name, await PostgresServer.Shared.CreateDatabaseAsync(name));
        all["Orleans:AdvertisedIP"] = NetworkAddress.ToString();
        all["Dashboard:Enabled"] = "false";
        foreach (var (key, value) in settings) all[key] = value;
        return SyncSystem.HostBuilder(all, SyncSystem.SiloPorts(), logs);
    }

    private static async Task<int> StartAndStopAsync(WebApplicationBuilder builder)
    {
        builder.AddDirectorySyncSilo(ClusterSettings.From(builder.Configuration));
        await using var silo = builder.Build();
        silo.MapSiloEndpoints();
        await silo.StartAsync();
        try
        {
            var gateway = silo.Services.GetRequiredService<ILocalSiloDetails>().GatewayAddress!.Endpoint;
            Assert.Equal(NetworkAddress, gateway.Address);
            // Bound on the any-address (so on every interface): a second listener there is refused.
            var probe = new TcpListener(IPAddress.Any, gateway.Port);
            Assert.Throws<SocketException>(() => probe.Start());
            probe.Dispose();
            return gateway.Port;
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    [Fact]
    public async Task A_silo_advertising_a_network_address_without_tls_refuses_to_start()
    {
        var builder = await SiloBuilderAsync("insecure_refused", new CapturedLogs(), []);

        var refusal = Assert.Throws<InvalidOperationException>(() => builder.AddDirectorySyncSilo(ClusterSettings.From(builder.Configuration)));

        Assert.Contains("Orleans__Tls__CertificatePath", refusal.Message);
        Assert.Contains("Orleans__AllowInsecureNetwork=true", refusal.Message);
    }

    [Fact]
    public async Task A_silo_on_a_private_network_starts_with_allow_insecure_network_and_says_so()
    {
        var logs = new CapturedLogs();
        var builder = await SiloBuilderAsync("insecure_allowed", logs, new() { [ClusterTls.AllowInsecureNetworkSetting] = "true" });

        var gatewayPort = await StartAndStopAsync(builder);

        Assert.Contains(logs.Entries, e => e.StartsWith("Warning", StringComparison.Ordinal)
            && e.Contains($"{gatewayPort} listen on every interface without TLS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_silo_advertising_a_network_address_with_tls_starts()
    {
        var logs = new CapturedLogs();
        var builder = await SiloBuilderAsync("insecure_tls", logs, new()
        {
            [ClusterTls.CertificatePathSetting] = TestCertificates.WritePfx(TestCertificates.SelfSigned("network-silo"), "network-silo"),
            [ClusterTls.CertificatePasswordSetting] = TestCertificates.Password,
        });

        await StartAndStopAsync(builder);

        Assert.DoesNotContain(logs.Entries, e => e.Contains("without TLS", StringComparison.Ordinal));
    }
}
