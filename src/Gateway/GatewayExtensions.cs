using System.Data.Common;
using DirectorySync.Gateway.ReadApi;
using DirectorySync.Feed;
using DirectorySync.Hosting;
using DirectorySync.Webhooks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Orleans.Configuration;

namespace DirectorySync.Gateway;

public static class GatewayExtensions
{
    /// <summary>The gateway: an Orleans client of the cluster on Postgres, the webhook endpoint's services, the read API's and the change feed's.</summary>
    public static WebApplicationBuilder AddDirectorySyncGateway(this WebApplicationBuilder builder, ClusterSettings settings)
    {
        builder.AddServiceDefaults();
        builder.AddWebhookApi();
        builder.AddReadApi(settings.ConnectionString);
        // GET /changes reads the feed table itself: a read needs no grain. Its queries are single index ranges, which
        // JIT compilation would only slow down.
        builder.Services.AddSingleton(_ =>
        {
            var source = new NpgsqlDataSourceBuilder(settings.ConnectionString);
            source.ConnectionStringBuilder.Options = $"{source.ConnectionStringBuilder.Options} -c jit=off".Trim();
            return source.Build();
        });
        builder.Services.AddChangeFeed(builder.Configuration);

        DbProviderFactories.RegisterFactory("Npgsql", NpgsqlFactory.Instance);
        var tls = ClusterTls.From(builder.Configuration);
        builder.UseOrleansClient(client =>
        {
            if (tls is not null) client.UseTls(tls.Configure);
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
            // Start before the silos are up (or while they restart): keep trying instead of exiting.
            client.UseConnectionRetryFilter(async (_, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                return true;
            });
        });
        builder.Services.AddOptions<ClientMessagingOptions>()
            .Configure<WebhookOptions>((messaging, webhooks) => messaging.ResponseTimeout = webhooks.ApplyTimeout);
        builder.Services.AddHealthChecks()
            .AddPostgresCheck(settings.ConnectionString)
            .Add(new HealthCheckRegistration("cluster",
                services => ActivatorUtilities.CreateInstance<ClusterHealthCheck>(services),
                HealthStatus.Unhealthy, [HealthEndpoints.ReadyTag], TimeSpan.FromSeconds(5)));
        return builder;
    }

    public static WebApplication MapGatewayEndpoints(this WebApplication app)
    {
        app.UseOperationsAccess(hasOpenPages: false);
        app.MapHealthEndpoints();
        app.MapWebhookApi();
        app.MapReadApi();
        app.MapChangesApi();
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
