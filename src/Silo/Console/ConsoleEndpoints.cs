using System.Collections.Frozen;
using DirectorySync.Hosting;

namespace DirectorySync.Silo;

/// <summary>
/// The operator console: <c>/console</c> on the silo, one static page whose script reads the operations API under
/// <c>/console/api</c>. Behind <c>Operations__Token</c> like the dashboard: a browser without the sign-in cookie gets a
/// form asking for the token. The page's files are embedded in the silo's assembly (Console/Assets).
/// </summary>
public static class ConsoleEndpoints
{
    public const string Prefix = "/console";

    /// <summary>
    /// Sent by the page's script with every action. A page of another site can make a browser post a form here (with the
    /// cookie, when no token is set), but cannot add a header without the silo's consent (CORS), which it never gives.
    /// </summary>
    public const string ActionHeader = "X-DirectorySync-Console";

    private const string Page = "index.html";
    private const string SignInPage = "sign-in.html";
    private const string RejectedMarker = "<!--rejected-->";

    // Scripts and styles of the silo only; nothing may frame the console.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    // The sign-in form cannot load the console's stylesheet (it is behind the token too): its style is inline.
    private const string SignInContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (byte[] Content, string ContentType)> Assets = LoadAssets();

    public static void MapConsole(this WebApplication app)
    {
        var console = app.MapGroup(Prefix).RequireOperationsToken(Prefix);
        console.MapGet("", ServePage).WithMetadata(new OperationsSignIn(WriteSignInAsync));
        console.MapGet("/{file}", ServeAsset);
        var api = console.MapGroup("/api").MapOperationsApi();
        api.AddEndpointFilter((context, next) =>
            HttpMethods.IsGet(context.HttpContext.Request.Method) || context.HttpContext.Request.Headers.ContainsKey(ActionHeader)
                ? next(context)
                : ValueTask.FromResult<object?>(Results.Json(new AdminError($"Console actions are sent by the console page (header {ActionHeader})"),
                    AdminJson.Default.AdminError, statusCode: StatusCodes.Status403Forbidden)));
    }

    private static IResult ServePage(HttpContext context)
    {
        // The page's links are relative to /console: /console/ would resolve them under /console/console/.
        if (context.Request.Path.Value!.EndsWith('/')) return Results.Redirect(context.Request.PathBase + Prefix + context.Request.QueryString);
        return Asset(context, Page);
    }

    private static IResult ServeAsset(string file, HttpContext context) =>
        file != Page && file != SignInPage && Assets.ContainsKey(file) ? Asset(context, file) : Results.NotFound();

    private static IResult Asset(HttpContext context, string name)
    {
        var (content, contentType) = Assets[name];
        Secure(context.Response, ContentSecurityPolicy);
        return Results.Bytes(content, contentType);
    }

    private static async Task WriteSignInAsync(HttpContext context, bool rejected)
    {
        var form = System.Text.Encoding.UTF8.GetString(Assets[SignInPage].Content);
        if (rejected) form = form.Replace(RejectedMarker, """<p class="rejected" role="alert">That token was not accepted.</p>""");
        Secure(context.Response, SignInContentSecurityPolicy);
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(form);
    }

    private static void Secure(HttpResponse response, string contentSecurityPolicy)
    {
        response.Headers.ContentSecurityPolicy = contentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        // The page changes with each release and its data is read live: never served from a cache without asking.
        response.Headers.CacheControl = "no-cache";
    }

    private static FrozenDictionary<string, (byte[], string)> LoadAssets()
    {
        var assembly = typeof(ConsoleEndpoints).Assembly;
        const string prefix = "console/";
        return assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToFrozenDictionary(
            n => n[prefix.Length..],
            n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return (copy.ToArray(), Path.GetExtension(n) switch
                {
                    ".html" => "text/html; charset=utf-8",
                    ".js" => "text/javascript; charset=utf-8",
                    ".css" => "text/css; charset=utf-8",
                    var other => throw new InvalidOperationException($"Console asset {n}: no content type for {other}"),
                });
            });
    }
}
