using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Hosting;

/// <summary>
/// Guards operational pages (the silo's dashboard) with the token in <c>Operations:Token</c>, when one is set. A caller
/// shows it as <c>Authorization: Bearer &lt;token&gt;</c>, or once as <c>?token=</c>, which sets an HttpOnly cookie so
/// the dashboard's own XHR calls (relative URLs, no headers of ours) carry it. Health endpoints are not marked: load
/// balancers need them open.
/// </summary>
public sealed partial class OperationsAccess
{
    public const string TokenSetting = "Operations:Token";
    public const string CookieName = "directorysync_operations";
    public const string QueryName = "token";

    // Hashes are compared, not the tokens: equal lengths for FixedTimeEquals, and a wrong guess's length leaks nothing.
    private readonly byte[]? _tokenHash;

    public OperationsAccess(string? token) =>
        _tokenHash = string.IsNullOrWhiteSpace(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public bool IsTokenRequired => _tokenHash is not null;

    public bool Admits(string? presented) =>
        _tokenHash is null
        || (!string.IsNullOrEmpty(presented)
            && CryptographicOperations.FixedTimeEquals(_tokenHash, SHA256.HashData(Encoding.UTF8.GetBytes(presented))));

    /// <summary>True when a listening address (as Kestrel reports it) can be reached from other machines.</summary>
    public static bool ListensBeyondLoopback(IEnumerable<string> urls) => urls.Any(url =>
    {
        var authority = url.Split("://", 2)[^1].Split('/', 2)[0];
        var host = authority.StartsWith('[') ? authority[1..authority.IndexOf(']')] : authority.Split(':')[0];
        // Wildcards (*, +, 0.0.0.0, [::]) and host names other than localhost all listen beyond this machine.
        return !host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            && (!IPAddress.TryParse(host, out var address) || !IPAddress.IsLoopback(address));
    });

    internal async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsTokenRequired || context.GetEndpoint()?.Metadata.GetMetadata<OperationsPage>() is not { } page)
        {
            await next(context);
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if ((header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && Admits(header["Bearer ".Length..].Trim()))
            || Admits(context.Request.Cookies[CookieName]))
        {
            await next(context);
            return;
        }

        if (context.Request.Query[QueryName].ToString() is { Length: > 0 } token && Admits(token))
        {
            context.Response.Cookies.Append(CookieName, token, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = context.Request.PathBase.Add(page.Prefix).Value,
            });
            // The same page again without the token, so it stays out of the address bar, history and Referer headers.
            var query = QueryString.Create(context.Request.Query
                .Where(p => p.Key != QueryName)
                .SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v))));
            context.Response.Redirect(context.Request.PathBase.Add(context.Request.Path).Add(query).ToString());
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await context.Response.WriteAsync($"operations token required (Authorization: Bearer, or ?{QueryName}= once)");
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The dashboard is reachable from the network ({Addresses}) without a token: set Operations__Token, or listen on 127.0.0.1 only")]
    internal static partial void LogOpenToNetwork(ILogger logger, string addresses);
}

/// <summary>Marks an endpoint as an operational page: it needs the operations token when one is set.</summary>
public sealed class OperationsPage
{
    internal OperationsPage(PathString prefix) => Prefix = prefix;

    /// <summary>Where the pages live: the cookie is scoped to it.</summary>
    public PathString Prefix { get; }
}

public static class OperationsAccessExtensions
{
    /// <summary>Every endpoint of <paramref name="pages"/> (all under <paramref name="prefix"/>) needs the operations token.</summary>
    public static TBuilder RequireOperationsToken<TBuilder>(this TBuilder pages, PathString prefix) where TBuilder : IEndpointConventionBuilder =>
        pages.WithMetadata(new OperationsPage(prefix));

    /// <summary>Enforces <see cref="OperationsAccess"/> on marked endpoints; at start, warns when they are open to the network.</summary>
    public static WebApplication UseOperationsAccess(this WebApplication app)
    {
        var access = new OperationsAccess(app.Configuration[OperationsAccess.TokenSetting]);
        app.Use((context, next) => access.GuardAsync(context, next));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            if (!access.IsTokenRequired && OperationsAccess.ListensBeyondLoopback(urls))
                OperationsAccess.LogOpenToNetwork(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<OperationsAccess>(), string.Join(", ", urls));
        });
        return app;
    }
}
