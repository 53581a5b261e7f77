using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>
/// A <see cref="FakeWorkOS"/> served over HTTP by Kestrel in this process, at <see cref="BaseAddress"/>, until disposed.
/// A client configured with that base URL and one of the fake's API keys talks to it as to https://api.workos.com.
/// </summary>
public sealed class FakeWorkOSServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeWorkOSServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Where it listens, with the port chosen when asked for port 0.</summary>
    public Uri BaseAddress { get; }

    /// <summary>
    /// Starts serving <paramref name="fake"/> at <paramref name="url"/> (an IP address; port 0 picks a free port).
    /// Without <paramref name="logging"/>, warnings (refused requests) go to stderr.
    /// </summary>
    public static async Task<FakeWorkOSServer> StartAsync(
        FakeWorkOS fake, string url = "http://127.0.0.1:0", Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        // A test's server stops with requests still parked in slow mode: they are cancelled, not waited for.
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(5));
        // A guest in someone else's process: Ctrl-C and SIGTERM belong to the host program, not to this server.
        builder.Services.AddSingleton<IHostLifetime, GuestLifetime>();
        var app = builder.Build();
        new FakeWorkOSApi(fake, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<FakeWorkOSServer>()).Map(app);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new FakeWorkOSServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Starts and stops when told to, and leaves the process's signals alone (unlike the console lifetime).</summary>
    private sealed class GuestLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
