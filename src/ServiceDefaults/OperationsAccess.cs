using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Hosting;

/// <summary>
/// Guards operational pages (the silo's dashboard, console and /admin, both hosts' metrics) with the token in
/// <c>Operations:Token</c>, when one is set. A caller shows it as <c>Authorization: Bearer &lt;token&gt;</c>, or once as
/// <c>?token=</c>, which sets an HttpOnly cookie holding a value derived from the token (never the token) so the pages'
/// own XHR calls carry it.
/// Failed attempts are throttled per client address. Health endpoints are not marked: load balancers need them open.
/// </summary>
public sealed partial class OperationsAccess
{
    public const string TokenSetting = "Operations:Token";
    public const string TrustedProxiesSetting = "Operations:TrustedProxies";
    public const string CookieName = "directorysync_operations";
    public const string QueryName = "token";
    public const int MinimumTokenLength = 32;

    // The cookie is an HMAC of this label keyed with the token: it proves the token was shown, and a stolen cookie does not reveal it.
    private static readonly byte[] CookieLabel = "DirectorySync operations cookie v1"u8.ToArray();

    // Hashes are compared, not the tokens: equal lengths for FixedTimeEquals, and a wrong guess's length leaks nothing.
    private readonly byte[]? _tokenHash;
    private readonly byte[]? _cookieValue;
    private readonly TrustedProxies _proxies;
    private readonly FailedAttemptThrottle _throttle;

    public OperationsAccess(string? token, TrustedProxies? proxies = null, TimeProvider? clock = null)
    {
        if (!string.IsNullOrWhiteSpace(token))
        {
            var key = Encoding.UTF8.GetBytes(token);
            _tokenHash = SHA256.HashData(key);
            _cookieValue = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(HMACSHA256.HashData(key, CookieLabel)));
        }
        _proxies = proxies ?? TrustedProxies.None;
        _throttle = new FailedAttemptThrottle(clock ?? TimeProvider.System);
    }

    /// <summary>
    /// Reads <c>Operations:Token</c> and the proxies whose forwarded headers are believed (<c>Operations:TrustedProxies</c>,
    /// else <c>Webhooks:TrustedProxies</c>); a token shorter than <see cref="MinimumTokenLength"/> stops the host.
    /// </summary>
    public static OperationsAccess From(IConfiguration configuration)
    {
        var token = configuration[TokenSetting];
        if (!string.IsNullOrWhiteSpace(token) && token.Length < MinimumTokenLength)
            throw new InvalidOperationException(
                $"Setting Operations__Token is {token.Length} characters long; it must be at least {MinimumTokenLength} (a long random value, e.g. `openssl rand -base64 32`).");
        var (setting, proxies) = configuration[TrustedProxiesSetting] is { } own
            ? ("Operations__TrustedProxies", own)
            : ("Webhooks__TrustedProxies", configuration["Webhooks:TrustedProxies"] ?? "");
        return new OperationsAccess(token, new TrustedProxies(TrustedProxies.ParseRanges(proxies, setting)));
    }

    public bool IsTokenRequired => _tokenHash is not null;

    public bool Admits(string? presented) =>
        _tokenHash is null
        || (!string.IsNullOrEmpty(presented)
            && CryptographicOperations.FixedTimeEquals(_tokenHash, SHA256.HashData(Encoding.UTF8.GetBytes(presented))));

    /// <summary>Whether <paramref name="cookie"/> is the value <see cref="CookieValue"/> derives from the token (constant time).</summary>
    public bool AdmitsCookie(string? cookie) =>
        _cookieValue is null
        || (!string.IsNullOrEmpty(cookie) && CryptographicOperations.FixedTimeEquals(_cookieValue, Encoding.ASCII.GetBytes(cookie)));

    /// <summary>What the cookie holds: HMAC-SHA256 of a fixed label keyed with the token, base64url.</summary>
    public string? CookieValue => _cookieValue is null ? null : Encoding.ASCII.GetString(_cookieValue);

    /// <summary>True when a listening address (as Kestrel reports it) can be reached from other machines.</summary>
    public static bool ListensBeyondLoopback(IEnumerable<string> urls) => urls.Any(url =>
    {
        var authority = url.Split("://", 2)[^1].Split('/', 2)[0];
        var host = authority.StartsWith('[') ? authority[1..authority.IndexOf(']')] : authority.Split(':')[0];
        // Wildcards (*, +, 0.0.0.0, [::]) and host names other than localhost all listen beyond this machine.
        return !host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            && (!IPAddress.TryParse(host, out var address) || !IPAddress.IsLoopback(address));
    });

    internal async Task GuardAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<OperationsPage>() is not { } page)
        {
            await next(context);
            return;
        }

        var viaProxy = context.Connection.RemoteIpAddress is { } direct && _proxies.Contains(direct);
        if (CrossSiteWrite(context.Request, viaProxy) is { } from)
        {
            LogCrossSite(logger, context.Request.Method, context.Request.Path, from);
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"a browser sent this from another site ({from}); operations requests come from this host's own pages, curl or scripts");
            return;
        }

        var peer = context.Connection.RemoteIpAddress;
        if (peer is null || !_proxies.TryFindClient(peer, context.Request.Headers["X-Forwarded-For"], out var client))
        {
            LogUnknownClient(logger, context.Request.Path, peer?.ToString());
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "client address unknown (unreadable X-Forwarded-For)");
            return;
        }

        var local = IPAddress.IsLoopback(client);
        if ((page.OpenToLocalCallers && local) || (!IsTokenRequired && !page.OpenToLocalCallers))
        {
            await next(context);
            return;
        }
        if (!IsTokenRequired)
        {
            LogLocalOnly(logger, context.Request.Path, client.ToString());
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "served to this machine only; set Operations__Token to read it from elsewhere");
            return;
        }
        // Callers on this machine are not throttled: the limit is against guessing over the network (behind a proxy on
        // this machine, list it in Operations__TrustedProxies so its clients are told apart).
        if (!local && _throttle.IsBlocked(client, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await RefuseAsync(context, StatusCodes.Status429TooManyRequests, "too many failed attempts; retry later");
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var cookie = context.Request.Cookies[CookieName];
        if ((bearer is not null && Admits(bearer)) || (cookie is not null && AdmitsCookie(cookie)))
        {
            await next(context);
            return;
        }

        var query = context.Request.Query[QueryName].ToString();
        if (query.Length > 0 && Admits(query))
        {
            var path = context.Request.PathBase.Add(page.Prefix).Value;
            context.Response.Cookies.Append(CookieName, CookieValue!, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = _proxies.IsOriginallyHttps(context),
                Path = path,
            });
            // The same page again without the token, so it stays out of the address bar, history and Referer headers.
            var rest = QueryString.Create(context.Request.Query
                .Where(p => p.Key != QueryName)
                .SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v))));
            context.Response.Redirect(context.Request.PathBase.Add(context.Request.Path).Add(rest).ToString());
            return;
        }

        if (bearer is not null || cookie is not null || query.Length > 0)
        {
            // A stale cookie (the token was changed) is dropped, so the dashboard's polling does not use up the attempts.
            if (cookie is not null) context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = context.Request.PathBase.Add(page.Prefix).Value });
            LogWrongToken(logger, context.Request.Path, client.ToString());
            if (!local && _throttle.RecordFailure(client)) LogThrottled(logger, client.ToString(), FailedAttemptThrottle.DefaultLimit);
        }
        context.Response.Headers.WWWAuthenticate = "Bearer";
        if (context.GetEndpoint()?.Metadata.GetMetadata<OperationsSignIn>() is { } signIn)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await signIn.WriteAsync(context, rejected: query.Length > 0);
            return;
        }
        await RefuseAsync(context, StatusCodes.Status401Unauthorized, $"operations token required (Authorization: Bearer, or ?{QueryName}= once)");
    }

    /// <summary>
    /// The site a browser says sent a request that changes something (anything but GET, HEAD, OPTIONS), when it is not
    /// this host: a page elsewhere posting a form to the console's actions while the operator's browser may reach them
    /// (with no token set there is nothing else to stop it). Browsers name it in <c>Sec-Fetch-Site</c> (sent to https
    /// and localhost addresses), or in <c>Origin</c>, compared with <c>Host</c>, or behind a trusted proxy that rewrites
    /// Host, with its <c>X-Forwarded-Host</c>. curl and scripts send neither and are judged by the token alone.
    /// </summary>
    internal static string? CrossSiteWrite(HttpRequest request, bool viaTrustedProxy)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)) return null;
        var origin = request.Headers.Origin.ToString();
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0)
            return fetchSite is "same-origin" or "none" ? null : $"{(origin.Length > 0 ? origin : "another site")}, Sec-Fetch-Site: {fetchSite}";
        if (origin.Length == 0) return null;
        var forwardedHost = viaTrustedProxy ? request.Headers["X-Forwarded-Host"].ToString().Split(',')[0].Trim() : "";
        return Uri.TryCreate(origin, UriKind.Absolute, out var from)
               && (string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
                   || (forwardedHost.Length > 0 && string.Equals(from.Authority, forwardedHost, StringComparison.OrdinalIgnoreCase)))
            ? null
            : $"Origin {origin}, not Host {request.Host.Value}{(forwardedHost.Length > 0 ? $" or X-Forwarded-Host {forwardedHost}" : "")}";
    }

    private static async Task RefuseAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsync(text);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The operations pages (console, /admin, dashboard) are reachable from the network ({Addresses}) without a token: set Operations__Token, or listen on 127.0.0.1 only")]
    internal static partial void LogOpenToNetwork(ILogger logger, string addresses);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operations request {Method} {Path} refused (403): sent by a browser from another site ({Origin})")]
    private static partial void LogCrossSite(ILogger logger, string method, string path, string origin);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operations page {Path} refused: wrong operations token from {Client}")]
    private static partial void LogWrongToken(ILogger logger, string path, string client);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Operations pages refused to {Client} for a minute (answered 429): {Limit} failed token attempts within a minute")]
    private static partial void LogThrottled(ILogger logger, string client, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operations page {Path} refused to {Client}: served to this machine only while Operations__Token is not set")]
    private static partial void LogLocalOnly(ILogger logger, string path, string client);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operations page {Path} refused: unreadable X-Forwarded-For from proxy {Peer}")]
    private static partial void LogUnknownClient(ILogger logger, string path, string? peer);
}

/// <summary>Marks an endpoint as an operational page: it needs the operations token when one is set.</summary>
public sealed class OperationsPage
{
    internal OperationsPage(PathString prefix, bool openToLocalCallers)
    {
        Prefix = prefix;
        OpenToLocalCallers = openToLocalCallers;
    }

    /// <summary>Where the pages live: the cookie is scoped to it.</summary>
    public PathString Prefix { get; }

    /// <summary>
    /// Served to callers on this machine without a token, and to no one else without one (metrics); otherwise the
    /// token decides for everyone, and no token set means open (the dashboard, which warns at start when exposed).
    /// </summary>
    public bool OpenToLocalCallers { get; }
}

/// <summary>
/// Marks a page a person opens in a browser: refused for want of the token, it is answered (still 401) with a form that
/// sends the token as <c>?token=</c>, which signs the browser in, rather than with a line of text.
/// </summary>
public sealed class OperationsSignIn(Func<HttpContext, bool, Task> writeForm)
{
    /// <summary>Writes the form; <paramref name="rejected"/> when a token was just shown and refused.</summary>
    public Task WriteAsync(HttpContext context, bool rejected) => writeForm(context, rejected);
}

public static class OperationsAccessExtensions
{
    /// <summary>Every endpoint of <paramref name="pages"/> (all under <paramref name="prefix"/>) needs the operations token.</summary>
    public static TBuilder RequireOperationsToken<TBuilder>(this TBuilder pages, PathString prefix) where TBuilder : IEndpointConventionBuilder =>
        pages.WithMetadata(new OperationsPage(prefix, openToLocalCallers: false));

    /// <summary>Served to callers on this machine, and to others only with the operations token.</summary>
    public static TBuilder RequireLocalCallerOrOperationsToken<TBuilder>(this TBuilder pages, PathString prefix) where TBuilder : IEndpointConventionBuilder =>
        pages.WithMetadata(new OperationsPage(prefix, openToLocalCallers: true));

    /// <summary>Checks the operations settings while the host is built, so a bad one stops it before it serves anything.</summary>
    public static IServiceCollection AddOperationsAccess(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSingleton(OperationsAccess.From(configuration));

    /// <summary>
    /// Enforces <see cref="OperationsAccess"/> on marked endpoints; at start, when <paramref name="hasOpenPages"/> (the
    /// silo's console, /admin and dashboard), warns if they are open to the network.
    /// </summary>
    public static WebApplication UseOperationsAccess(this WebApplication app, bool hasOpenPages)
    {
        var access = app.Services.GetRequiredService<OperationsAccess>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<OperationsAccess>();
        app.Use((context, next) => access.GuardAsync(context, next, logger));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var urls = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            if (hasOpenPages && !access.IsTokenRequired && OperationsAccess.ListensBeyondLoopback(urls))
                OperationsAccess.LogOpenToNetwork(logger, string.Join(", ", urls));
        });
        return app;
    }
}
