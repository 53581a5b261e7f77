using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Hosting;

/// <summary>
/// The bearer keys of the read APIs (<c>ReadApi:Keys</c>, comma-separated, so one can be rolled without downtime).
/// A caller shows one as <c>Authorization: Bearer &lt;key&gt;</c>. Compared as SHA-256 hashes in constant time, against
/// every key whatever matched; a key is never logged.
/// </summary>
public sealed partial class ReadApiKeys
{
    public const string Setting = "ReadApi:Keys";
    public const int MinimumKeyLength = 32;

    private readonly byte[][] _hashes;

    public ReadApiKeys(IEnumerable<string> keys) => _hashes = keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();

    /// <summary>Reads <c>ReadApi:Keys</c>; a key shorter than <see cref="MinimumKeyLength"/> stops the host.</summary>
    public static ReadApiKeys From(IConfiguration configuration)
    {
        var keys = (configuration[Setting] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keys.FirstOrDefault(k => k.Length < MinimumKeyLength) is { } shortKey)
            throw new InvalidOperationException(
                $"Setting ReadApi__Keys holds a key of {shortKey.Length} characters; each must be at least {MinimumKeyLength} (a long random value, e.g. `openssl rand -base64 32`).");
        return new ReadApiKeys(keys);
    }

    public bool IsConfigured => _hashes.Length > 0;

    public bool Admits(string? presented)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var admitted = false;
        foreach (var key in _hashes) admitted |= CryptographicOperations.FixedTimeEquals(key, hash);
        return admitted;
    }

    /// <summary>The bearer key of a request, or null.</summary>
    public static string? Presented(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Read API {Path} refused to {Client}: {Reason}")]
    internal static partial void LogRefused(ILogger logger, string path, string? client, string reason);
}

public static class ReadApiKeysExtensions
{
    public static IServiceCollection AddReadApiKeys(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton(ReadApiKeys.From(configuration));

    /// <summary>
    /// The endpoints answer only requests bearing a key of <c>ReadApi:Keys</c>; others get 401 with a WorkOS-style
    /// error body (<c>{message, code}</c>).
    /// </summary>
    public static TBuilder RequireReadApiKey<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder =>
        endpoints.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var keys = http.RequestServices.GetRequiredService<ReadApiKeys>();
            var presented = ReadApiKeys.Presented(http.Request);
            if (keys.Admits(presented)) return await next(context);
            var reason = !keys.IsConfigured ? "no read API key is configured (ReadApi__Keys)"
                : presented is null ? "no bearer key given"
                : "wrong key";
            ReadApiKeys.LogRefused(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger<ReadApiKeys>(),
                http.Request.Path, http.Connection.RemoteIpAddress?.ToString(), reason);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Json(new { message = $"Unauthorized: {reason}. Send Authorization: Bearer <a key of ReadApi__Keys>.", code = "unauthorized" },
                statusCode: StatusCodes.Status401Unauthorized);
        });
}
