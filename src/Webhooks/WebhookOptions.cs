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
        var allowedSourceIps = section["AllowedSourceIps"];
        return new WebhookOptions
        {
            Secrets = secrets,
            Tolerance = TimeSpan.FromSeconds(Positive(section, "ToleranceSeconds", 180)),
            MaxBodyBytes = Positive(section, "MaxBodyBytes", 1024 * 1024),
            ApplyTimeout = TimeSpan.FromSeconds(Positive(section, "ApplyTimeoutSeconds", 20)),
            NullEndpoint = section.GetValue("NullEndpoint", false),
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
