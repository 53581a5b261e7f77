using System.Net;
using Microsoft.Extensions.Configuration;

namespace DirectorySync.Webhooks;

/// <summary>The webhook endpoint's settings (section <c>Webhooks</c>, secrets from <c>WORKOS_WEBHOOK_SECRET</c>).</summary>
public sealed record WebhookOptions
{
    public required IReadOnlyList<string> Secrets { get; init; }

    /// <summary>How far a signature's timestamp may be from now, either way.</summary>
    public TimeSpan Tolerance { get; init; } = TimeSpan.FromSeconds(180);

    public long MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Most requests whose body is being read before its signature can be checked; past it, 503 at once.</summary>
    public int MaxPendingBodies { get; init; } = 64;

    /// <summary>Kestrel's limit on open connections (it has none of its own).</summary>
    public long MaxConnections { get; init; } = 1000;

    /// <summary>Kestrel's limit on the size of a request's headers.</summary>
    public int MaxHeaderBytes { get; init; } = 32 * 1024;

    /// <summary>How long a sender may take to send its headers.</summary>
    public TimeSpan HeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The slowest a body may arrive (after a 5 s grace) before the connection is cut off.</summary>
    public double MinBodyBytesPerSecond { get; init; } = 1024;

    /// <summary>How long an event may take to apply before the answer is 503 (WorkOS gives up at about 30 s).</summary>
    public TimeSpan ApplyTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Who may post webhooks (<c>Webhooks:AllowedSourceIps</c>, <c>workos</c> for WorkOS's senders); null: anyone.</summary>
    public IReadOnlyList<IPNetwork>? AllowedSourceIps { get; init; }

    /// <summary>Proxies in front of the gateway whose X-Forwarded-For names the sender (<c>Webhooks:TrustedProxies</c>).</summary>
    public IReadOnlyList<IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>Benchmark only: answer 200 right after the signature check (the request path's ceiling).</summary>
    public bool NullEndpoint { get; init; }

    public static WebhookOptions From(IConfiguration configuration)
    {
        var secrets = (configuration["WORKOS_WEBHOOK_SECRET"] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (secrets.Length == 0)
            throw new InvalidOperationException(
                "Setting WORKOS_WEBHOOK_SECRET is missing: give the endpoint's signing secret from the WorkOS dashboard (several, comma-separated, while rotating).");
        var section = configuration.GetSection("Webhooks");
        var nullEndpoint = section.GetValue("NullEndpoint", false);
        // Acknowledging without applying loses every event: only where a benchmark says that is what it wants.
        if (nullEndpoint && !configuration.GetValue("DirectorySync:BenchmarkMode", false))
            throw new InvalidOperationException(
                "Setting Webhooks__NullEndpoint=true acknowledges webhooks without applying them, for benchmarks only: it needs DirectorySync__BenchmarkMode=true as well.");
        var allowedSourceIps = section["AllowedSourceIps"];
        return new WebhookOptions
        {
            Secrets = secrets,
            Tolerance = TimeSpan.FromSeconds(Positive(section, "ToleranceSeconds", 180)),
            MaxBodyBytes = Positive(section, "MaxBodyBytes", 1024 * 1024),
            MaxPendingBodies = (int)Math.Min(Positive(section, "MaxPendingBodies", 64), int.MaxValue),
            MaxConnections = Positive(section, "MaxConnections", 1000),
            MaxHeaderBytes = (int)Math.Min(Positive(section, "MaxHeaderBytes", 32 * 1024), int.MaxValue),
            HeadersTimeout = TimeSpan.FromSeconds(Positive(section, "HeadersTimeoutSeconds", 10)),
            MinBodyBytesPerSecond = Positive(section, "MinBodyBytesPerSecond", 1024),
            ApplyTimeout = TimeSpan.FromSeconds(Positive(section, "ApplyTimeoutSeconds", 20)),
            NullEndpoint = nullEndpoint,
            AllowedSourceIps = string.IsNullOrWhiteSpace(allowedSourceIps)
                ? null
                : SourceAddressPolicy.ParseRanges(allowedSourceIps, "Webhooks__AllowedSourceIps", workOSKeyword: true),
            TrustedProxies = SourceAddressPolicy.ParseRanges(section["TrustedProxies"] ?? "", "Webhooks__TrustedProxies", workOSKeyword: false),
        };
    }

    private static long Positive(IConfigurationSection section, string key, long defaultValue)
    {
        var value = section[key];
        if (string.IsNullOrEmpty(value)) return defaultValue;
        return long.TryParse(value, out var number) && number > 0
            ? number
            : throw new InvalidOperationException($"Setting Webhooks__{key} must be a positive whole number, not '{value}'.");
    }
}
