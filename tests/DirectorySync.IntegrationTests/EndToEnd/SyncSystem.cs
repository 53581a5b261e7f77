using DirectorySync.Gateway;
using DirectorySync.Hosting;
using DirectorySync.Silo;
using DirectorySync.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The product as it runs, in this process: silos and a gateway built by the hosts' own wiring, on their own loopback
/// ports, one fresh Postgres database, real HTTP in front.
/// </summary>
public sealed class SyncSystem : IAsyncDisposable
{
    public const string Secret = "whsec_end_to_end_test";

    private readonly List<WebApplication> _silos = [];
    private WebApplication? _gateway;
    private readonly Dictionary<string, string?> _settings;
    private readonly ILoggerProvider? _logs;

    private SyncSystem(string connectionString, Dictionary<string, string?> settings, ILoggerProvider? logs)
    {
        ConnectionString = connectionString;
        _settings = settings;
        _logs = logs;
    }

    public string ConnectionString { get; }

    public Task<object?> ScalarAsync(string sql) => MirrorQueries.ScalarAsync(ConnectionString, sql);

    public Uri WebhookUrl { get; private set; } = new("http://127.0.0.1/");

    public Uri GatewayUrl { get; private set; } = new("http://127.0.0.1/");

    public IReadOnlyList<WebApplication> Silos => _silos;

    public HttpClient Http { get; } = new();

    /// <summary>Posts a body signed as WorkOS signs it; returns the status code and the answer's text.</summary>
    public async Task<(System.Net.HttpStatusCode Status, string Text)> SendAsync(string json)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(json);
        using var request = new HttpRequestMessage(HttpMethod.Post, WebhookUrl) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation(Webhooks.WebhookSignature.HeaderName,
            Webhooks.WebhookSignature.Sign(Secret, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), body));
        using var response = await Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Starts one silo and the gateway. <paramref name="settings"/> adds or overrides configuration; <paramref name="logs"/>
    /// also receives every host's logs; <paramref name="connectionString"/> is a database to use instead of a new one;
    /// <paramref name="gatewayMiddleware"/> runs in front of the gateway's endpoints (fault injection).
    /// </summary>
    public static async Task<SyncSystem> StartAsync(
        string name, IDictionary<string, string?>? settings = null, ILoggerProvider? logs = null, string? connectionString = null,
        Func<Microsoft.AspNetCore.Http.HttpContext, Func<Task>, Task>? gatewayMiddleware = null)
    {
        connectionString ??= await PostgresServer.Shared.CreateDatabaseAsync(name);
        var all = BaseSettings(name, connectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var system = new SyncSystem(connectionString, all, logs);
        await system.StartSiloAsync();
        await system.StartGatewayAsync(gatewayMiddleware);
        return system;
    }

    /// <summary>What every host of a system named <paramref name="name"/> is configured with, before a test's own settings.</summary>
    public static Dictionary<string, string?> BaseSettings(string name, string connectionString) => new()
    {
        ["ConnectionStrings:Postgres"] = connectionString,
        ["Orleans:ClusterId"] = name,
        ["Orleans:ServiceId"] = name,
        ["WORKOS_WEBHOOK_SECRET"] = Secret,
        ["Webhooks:ApplyTimeoutSeconds"] = "10",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>A silo's own free ports, so several silos and test classes can run side by side.</summary>
    public static Dictionary<string, string?> SiloPorts() => new()
    {
        ["Orleans:SiloPort"] = TestSilo.FreeLoopbackPort().ToString(),
        ["Orleans:GatewayPort"] = TestSilo.FreeLoopbackPort().ToString(),
    };

    public async Task<WebApplication> StartSiloAsync()
    {
        var builder = Builder(SiloPorts());
        var settings = ClusterSettings.From(builder.Configuration);
        builder.AddDirectorySyncSilo(settings);
        var silo = builder.Build();
        silo.MapSiloEndpoints();
        await silo.StartAsync();
        _silos.Add(silo);
        return silo;
    }

    public async Task StopSiloAsync(WebApplication silo)
    {
        await silo.StopAsync();
        await silo.DisposeAsync();
        _silos.Remove(silo);
    }

    private async Task StartGatewayAsync(Func<Microsoft.AspNetCore.Http.HttpContext, Func<Task>, Task>? middleware)
    {
        var builder = Builder([]);
        builder.AddDirectorySyncGateway(ClusterSettings.From(builder.Configuration));
        _gateway = builder.Build();
        if (middleware is not null) _gateway.Use(middleware);
        _gateway.MapGatewayEndpoints();
        await _gateway.StartAsync();
        GatewayUrl = new Uri(_gateway.Urls.Single());
        WebhookUrl = new Uri(GatewayUrl, "/webhooks/workos");
    }

    private WebApplicationBuilder Builder(Dictionary<string, string?> extra) => HostBuilder(_settings, extra, _logs);

    /// <summary>A host's builder with exactly these settings (later ones win), HTTP on a free loopback port.</summary>
    public static WebApplicationBuilder HostBuilder(
        IDictionary<string, string?> settings, IDictionary<string, string?> extra, ILoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings).AddInMemoryCollection(extra);
        builder.WebHost.UseUrls($"http://127.0.0.1:{TestSilo.FreeLoopbackPort()}");
        builder.Logging.ClearProviders();
        if (logs is not null) builder.Logging.AddProvider(logs);
        return builder;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }
        foreach (var silo in _silos.ToArray()) await StopSiloAsync(silo);
    }
}
