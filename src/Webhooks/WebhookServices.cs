using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace DirectorySync.Webhooks;

public static class WebhookServices
{
    /// <summary>
    /// What <c>POST /webhooks/workos</c> needs besides an <see cref="IGrainFactory"/>: its settings, the signature
    /// check, the sender allow-list, and Kestrel limits against oversized or trickling requests. The gateway hosts it;
    /// a silo can host it too (<c>Webhooks__ServeInSilo</c>), saving a network hop per event.
    /// </summary>
    public static WebApplicationBuilder AddWebhookApi(this WebApplicationBuilder builder)
    {
        var webhooks = WebhookOptions.From(builder.Configuration);
        builder.Services.AddSingleton(webhooks);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new SourceAddressPolicy(webhooks.AllowedSourceIps, webhooks.TrustedProxies));
        builder.Services.AddSingleton(new PendingBodies(webhooks.MaxPendingBodies));
        builder.Services.AddSingleton(sp => new WebhookSignature(webhooks.Secrets, sp.GetRequiredService<TimeProvider>(), webhooks.Tolerance));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = webhooks.MaxBodyBytes;
            // Kestrel accepts any number of connections unless told: a flood would exhaust memory and sockets instead.
            kestrel.Limits.MaxConcurrentConnections = webhooks.MaxConnections;
            kestrel.Limits.MaxRequestHeadersTotalSize = webhooks.MaxHeaderBytes;
            // A sender that trickles its headers or body is cut off instead of holding a connection for ever.
            kestrel.Limits.RequestHeadersTimeout = webhooks.HeadersTimeout;
            kestrel.Limits.MinRequestBodyDataRate = new(bytesPerSecond: webhooks.MinBodyBytesPerSecond, gracePeriod: TimeSpan.FromSeconds(5));
        });
        return builder;
    }
}
