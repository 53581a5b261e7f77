using System.Data.Common;
using DirectorySync.Gateway.Webhooks;
using DirectorySync.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Orleans.Configuration;

namespace DirectorySync.Gateway;

public static class GatewayExtensions
{
    /// <summary>The gateway: an Orleans client of the cluster on Postgres and the webhook endpoint's services.</summary>
    public static WebApplicationBuilder AddDirectorySyncGateway(this WebApplicationBuilder builder, ClusterSettings settings)
    {
        var webhooks = WebhookOptions.From(builder.Configuration);
        builder.AddServiceDefaults();
        builder.Services.AddSingleton(webhooks);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new SourceAddressPolicy(webhooks.AllowedSourceIps, webhooks.TrustedProxies));
        builder.Services.AddSingleton(sp => new WebhookSignature(webhooks.Secrets, sp.GetRequiredService<TimeProvider>(), webhooks.Tolerance));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = webhooks.MaxBodyBytes;
            // A sender that trickles its headers or body is cut off instead of holding a connection for ever.
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.MinRequestBodyDataRate = new(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(5));
        });

        DbProviderFactories.RegisterFactory("Npgsql", NpgsqlFactory.Instance);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = settings.ConnectionString;
            });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = webhooks.ApplyTimeout);
            // Start before the silos are up (or while they restart): keep trying instead of exiting.
            client.UseConnectionRetryFilter(async (_, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                return true;
            });
        });
        builder.Services.AddHealthChecks()
            .AddPostgresCheck(settings.ConnectionString)
            .Add(new HealthCheckRegistration("cluster",
                services => ActivatorUtilities.CreateInstance<ClusterHealthCheck>(services),
                HealthStatus.Unhealthy, [HealthEndpoints.ReadyTag], TimeSpan.FromSeconds(5)));
        return builder;
    }

    public static WebApplication MapGatewayEndpoints(this WebApplication app)
    {
        app.MapHealthEndpoints();
        app.MapWebhookApi();
        return app;
    }
}

/// <summary>Ready while some silo answers.</summary>
internal sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.GetGrain<IPingGrain>(0).PingAsync().WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("No silo answers", e);
        }
    }
}
