using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orleans.Serialization;

namespace DirectorySync.Hosting;

public static class ServiceDefaultsExtensions
{
    /// <summary>What both hosts share: one-line logs with timestamps, health checks, the operations token, Postgres errors that cross grain calls, and a warm thread pool.</summary>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.AddHealthChecks();
        builder.Services.AddOperationsAccess(builder.Configuration);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter("DirectorySync", "DirectorySync.Gateway", "Microsoft.Orleans")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        // A failed write reaches the gateway as the Postgres error it was (logged with its SqlState): Orleans serializes
        // only exception types it knows, and answered CodecNotFoundException for every Npgsql error instead.
        builder.Services.Configure<ExceptionSerializationOptions>(o => {
            o.SupportedNamespacePrefixes.Add("Npgsql");
            o.SupportedNamespacePrefixes.Add("DirectorySync");
        });

        // An initial sync arrives as an unthrottled burst the moment the process starts; the pool's slow ramp-up
        // from #cores threads would queue it for seconds (measured: ~400 events/s on the first burst otherwise).
        var minThreads = builder.Configuration.GetValue("Performance:MinThreads", 64);
        ThreadPool.GetMinThreads(out _, out var ioThreads);
        ThreadPool.SetMinThreads(minThreads, Math.Max(ioThreads, minThreads));
        return builder;
    }
}
