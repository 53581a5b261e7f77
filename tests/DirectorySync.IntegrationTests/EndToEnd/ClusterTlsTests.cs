using System.Net;
using DirectorySync.Hosting;
using DirectorySync.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The Orleans ports with <c>Orleans__Tls__*</c> set: the gateway, holding the cluster certificate, reaches grains; an
/// Orleans client without it, or with a certificate of its own making, gets nowhere.
/// </summary>
public sealed class ClusterTlsTests(ClusterTlsTests.Fixture fixture) : IClassFixture<ClusterTlsTests.Fixture>
{
    // The client keeps retrying a refused gateway; a grain call that has not happened by then never will.
    private static readonly TimeSpan RefusalPatience = TimeSpan.FromSeconds(10);

    public sealed class Fixture : IAsyncLifetime
    {
        public const string Name = "cluster_tls";

        public CapturedLogs Logs { get; } = new();

        public SyncSystem System { get; private set; } = null!;

        public string CertificatePath { get; } = TestCertificates.WritePfx(TestCertificates.SelfSigned("directorysync-cluster"), "cluster");

        public async Task InitializeAsync() => System = await SyncSystem.StartAsync(Name, new Dictionary<string, string?>
        {
            [ClusterTls.CertificatePathSetting] = CertificatePath,
            [ClusterTls.CertificatePasswordSetting] = TestCertificates.Password,
            ["Dashboard:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:Console:LogLevel:Default"] = "Warning",
        }, Logs);

        public async Task DisposeAsync() => await System.DisposeAsync();
    }

    /// <summary>A plain Orleans client of the fixture's cluster, impatient so a refusal shows in seconds.</summary>
    private async Task PingAsClientAsync(Action<IClientBuilder>? tls)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = Fixture.Name;
                cluster.ServiceId = Fixture.Name;
            });
            client.UseAdoNetClustering(clustering =>
            {
                clustering.Invariant = TestSilo.Invariant;
                clustering.ConnectionString = fixture.System.ConnectionString;
            });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5));
            client.Configure<ConnectionOptions>(o => o.OpenConnectionTimeout = TimeSpan.FromSeconds(5));
            tls?.Invoke(client);
        });
        using var host = builder.Build();
        using var patience = new CancellationTokenSource(RefusalPatience);
        try
        {
            await host.StartAsync(patience.Token);
            await host.Services.GetRequiredService<IClusterClient>().GetGrain<IPingGrain>(0).PingAsync().WaitAsync(patience.Token);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static ClusterTls TlsFrom(string certificatePath) => ClusterTls.From(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ClusterTls.CertificatePathSetting] = certificatePath,
            [ClusterTls.CertificatePasswordSetting] = TestCertificates.Password,
        })
        .Build())!;

    [Fact]
    public async Task The_gateway_with_the_cluster_certificate_reaches_grains()
    {
        using var ready = await fixture.System.Http.GetAsync(new Uri(fixture.System.GatewayUrl, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        var activated = Payloads.Activated("event_tls_1", "directory_tls", 0);
        Assert.Equal(HttpStatusCode.OK, (await fixture.System.SendAsync(activated)).Status);
    }

    [Fact]
    public async Task A_second_silo_with_the_cluster_certificate_joins_over_tls()
    {
        var second = await fixture.System.StartSiloAsync();
        try
        {
            // The joining silo checks it can reach every active member before it starts, so both see two here.
            var membership = fixture.System.Silos[0].Services.GetRequiredService<IClusterMembershipService>();
            var deadline = DateTime.UtcNow + RefusalPatience;
            while (membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active) < 2 && DateTime.UtcNow < deadline)
                await Task.Delay(200);
            Assert.Equal(2, membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active));
        }
        finally
        {
            await fixture.System.StopSiloAsync(second);
        }
    }

    [Fact]
    public async Task A_client_with_the_cluster_certificate_calls_a_grain()
    {
        var tls = TlsFrom(fixture.CertificatePath);

        await PingAsClientAsync(client => client.UseTls(tls.Configure));
    }

    [Fact]
    public async Task A_client_without_a_certificate_cannot_call_a_grain()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => PingAsClientAsync(tls: null));
    }

    [Fact]
    public async Task A_client_with_a_certificate_of_its_own_cannot_call_a_grain()
    {
        var impostor = TlsFrom(TestCertificates.WritePfx(TestCertificates.SelfSigned("directorysync-cluster"), "impostor"));

        await Assert.ThrowsAnyAsync<Exception>(() => PingAsClientAsync(client => client.UseTls(impostor.Configure)));
    }

    [Fact]
    public void The_certificate_password_is_in_no_log_line()
    {
        Assert.NotEmpty(fixture.Logs.Entries);
        Assert.DoesNotContain(fixture.Logs.Entries, entry => entry.Contains(TestCertificates.Password, StringComparison.Ordinal));
    }
}
