using System.Data.Common;
using System.Net;
using DirectorySync.Feed;
using DirectorySync.Hosting;
using DirectorySync.Storage;
using DirectorySync.Webhooks;
using DirectorySync.WorkOS;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Storage;

namespace DirectorySync.Silo;

public static class SiloExtensions
{
    public const string AdoNetInvariant = "Npgsql";

    public const string DashboardPath = "/dashboard";
    private const int DashboardSampleMilliseconds = 5_000;

    /// <summary>The silo: the sync engine, Orleans on Postgres (clustering, reminders, grain state), the dashboard, the console, health.</summary>
    public static WebApplicationBuilder AddDirectorySyncSilo(this WebApplicationBuilder builder, ClusterSettings settings)
    {
        var configuration = builder.Configuration;
        var siloPort = ClusterSettings.Port(configuration, "Orleans:SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
        var gatewayPort = ClusterSettings.Port(configuration, "Orleans:GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
        var advertisedAddress = AdvertisedAddress(configuration);
        var tls = ClusterTls.From(configuration);
        var allowInsecureNetwork = ClusterTls.AllowInsecureNetwork(configuration);
        ClusterTls.EnsureNetworkProtected(advertisedAddress, tls, allowInsecureNetwork);
        var listensBeyondLoopback = ClusterTls.ListensBeyondLoopback(advertisedAddress);

        DbProviderFactories.RegisterFactory(AdoNetInvariant, NpgsqlFactory.Instance);
        builder.AddServiceDefaults();
        builder.Services.AddDirectorySync(configuration, settings.ConnectionString);
        builder.Services.AddWorkOSApi(configuration);
        if (configuration.GetValue("Webhooks:ServeInSilo", false)) builder.AddWebhookApi();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.ConfigureEndpoints(advertisedAddress, siloPort, gatewayPort, listenOnAnyHostAddress: listensBeyondLoopback);
            if (tls is not null) silo.UseTls(tls.Configure);
            else if (listensBeyondLoopback)
                silo.AddStartupTask((services, _) =>
                {
                    services.GetRequiredService<ILoggerFactory>().CreateLogger("DirectorySync.Silo").LogWarning(
                        "Orleans ports {SiloPort} and {GatewayPort} listen on every interface without TLS "
                        + "(Orleans__AllowInsecureNetwork=true): only trusted hosts must be able to reach them",
                        siloPort, gatewayPort);
                    return Task.CompletedTask;
                });
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = settings.ConnectionString;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = settings.ConnectionString;
            });
            silo.AddSyncGrainStorage(settings.ConnectionString);
            silo.Services.Configure<ReminderOptions>(configuration.GetSection("Reminders"));
            // How soon a crashed silo is declared dead, so its grains and reminders move (Orleans's defaults unless set).
            silo.Services.Configure<ClusterMembershipOptions>(configuration.GetSection("Orleans:Membership"));
            if (DashboardEnabled(configuration))
            {
                silo.AddDashboard(o =>
                {
                    // Every sample reads all of Orleans's instruments, and one of them counts the grain directory cache
                    // entry by entry: with tens of thousands of grains, sampling every second (the dashboard's default)
                    // was a fifth of the silo's managed CPU in a profile. Dashboard__CounterUpdateIntervalMs overrides it.
                    o.CounterUpdateIntervalMs = DashboardSampleMilliseconds;
                    configuration.GetSection("Dashboard").Bind(o);
                    // The live log stream shows every log line of the silo to whoever has the dashboard: off unless asked for.
                    o.HideTrace = !configuration.GetValue("Dashboard:LogStream", false);
                });
            }
            silo.AddStartupTask((services, _) =>
                services.GetRequiredService<IGrainFactory>().GetGrain<IMaintenanceGrain>(0).EnsureScheduledAsync());
            // Each silo's last hour of events, which the console adds up over the cluster.
            silo.AddGrainService<SyncActivityService>();
            silo.Services.AddSingleton<SyncActivityClient>();
            silo.AddWorkOSSource();
            silo.AddStartupTask(async (services, _) =>
            {
                var grains = services.GetRequiredService<IGrainFactory>();
                foreach (var endpoint in services.GetRequiredService<IOptions<ChangeFeedOptions>>().Value.Endpoints.Keys)
                    await grains.GetGrain<IWebhookEndpointGrain>(endpoint).EnsureRunningAsync();
            });
        });
        builder.Services.AddHealthChecks()
            .AddPostgresCheck(settings.ConnectionString)
            .Add(new HealthCheckRegistration("cluster-membership",
                services => ActivatorUtilities.CreateInstance<SiloMembershipHealthCheck>(services),
                HealthStatus.Unhealthy, [HealthEndpoints.ReadyTag]));
        return builder;
    }

    /// <summary>
    /// With an API key, WorkOS is asked too (backfill, Events API, reconciliation) from the silo's start; without one,
    /// the silo says at start what running on webhooks alone cannot do. The test clusters add it the same way.
    /// </summary>
    public static ISiloBuilder AddWorkOSSource(this ISiloBuilder silo) =>
        silo.AddStartupTask((services, _) => StartWorkOSSourceAsync(services));

    private static Task StartWorkOSSourceAsync(IServiceProvider services)
    {
        if (services.GetRequiredService<WorkOSOptions>().IsConfigured)
            return services.GetRequiredService<IGrainFactory>().GetGrain<IWorkOSSourceGrain>(0).EnsureStartedAsync();
        services.GetRequiredService<ILoggerFactory>().CreateLogger("DirectorySync.Silo").LogWarning(
            "WorkOS__ApiKey (or WORKOS_API_KEY) is not set: running on webhooks alone. Directories connected before this "
            + "service ran are not backfilled (their events wait in sync_pending), a webhook lost beyond WorkOS's retries is "
            + "never repaired, and there is no Events API tail or reconciliation");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The grain storage named <see cref="GrainStorage.Name"/>: grain state in Postgres (sql/010) through the ADO.NET
    /// provider, behind <see cref="FullGrainIdStorage"/>. The test clusters register it the same way.
    /// </summary>
    public static ISiloBuilder AddSyncGrainStorage(this ISiloBuilder silo, string connectionString)
    {
        silo.AddAdoNetGrainStorage(GrainStorage.Name, o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = connectionString;
        });
        // Takes the name over from the provider's own registration (the last one wins); the lifecycle participant that
        // registration added resolves the name too, so the provider still initialises, through the wrapper.
        silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorage.Name,
            (services, _) => new FullGrainIdStorage(AdoNetGrainStorageFactory.Create(services, GrainStorage.Name)));
        return silo;
    }

    /// <summary>The address other silos and gateways reach this silo at (loopback unless configured).</summary>
    private static IPAddress AdvertisedAddress(IConfiguration configuration)
    {
        var value = configuration["Orleans:AdvertisedIP"];
        if (string.IsNullOrEmpty(value)) return IPAddress.Loopback;
        return IPAddress.TryParse(value, out var address)
            ? address
            : throw new InvalidOperationException($"Setting Orleans__AdvertisedIP must be an IP address, not '{value}'.");
    }

    /// <summary>Applies pending sql/ scripts (unless <c>Database__Migrate=false</c>), before Orleans needs its tables.</summary>
    public static async Task MigrateDatabaseAsync(ClusterSettings settings, IConfiguration configuration, bool force)
    {
        if (!force && !configuration.GetValue("Database:Migrate", true)) return;
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true));
        var applied = await new SchemaMigrator(loggers.CreateLogger<SchemaMigrator>())
            .MigrateAsync(settings.ConnectionString, CancellationToken.None);
        loggers.CreateLogger("DirectorySync.Silo").LogInformation("Schema up to date ({Applied} script(s) applied)", applied);
    }

    /// <summary>The dashboard profiles every grain call; <c>Dashboard__Enabled=false</c> saves that work.</summary>
    private static bool DashboardEnabled(IConfiguration configuration) => configuration.GetValue("Dashboard:Enabled", true);

    public static WebApplication MapSiloEndpoints(this WebApplication app)
    {
        // The console and /admin are always there: open to the network without a token, the silo says so at start.
        app.UseOperationsAccess(hasOpenPages: true);
        app.MapHealthEndpoints();
        if (app.Services.GetService<WebhookOptions>() is not null) app.MapWebhookApi();
        app.MapAdminEndpoints();
        app.MapConsole();
        if (DashboardEnabled(app.Configuration))
            app.MapOrleansDashboard(routePrefix: DashboardPath).RequireOperationsToken(DashboardPath);
        return app;
    }
}

/// <summary>Ready only while this silo is an active member of the cluster.</summary>
internal sealed class SiloMembershipHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"Silo is {status} in the cluster"));
    }
}
