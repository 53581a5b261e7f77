using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using DirectorySync.Hosting;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// The operations surface over real HTTP: the silo's dashboard and console behind <c>Operations:Token</c> (a derived cookie, Secure
/// behind an HTTPS proxy, throttled guessing, no live log stream), <c>/metrics</c> on both hosts for this machine or the
/// token; health stays open. 127.0.0.1 is a trusted proxy here: its X-Forwarded-For plays callers from elsewhere.
/// </summary>
public sealed class OperationsAccessTests(OperationsAccessTests.Fixture fixture) : IClassFixture<OperationsAccessTests.Fixture>
{
    private const string Token = "ops-token-for-tests-0123456789-abcdefghij";

    public sealed class Fixture : IAsyncLifetime
    {
        public CapturedLogs Logs { get; } = new();

        public SyncSystem System { get; private set; } = null!;

        public Uri SiloUrl => new(System.Silos.Single().Urls.Single());

        public async Task InitializeAsync() => System = await SyncSystem.StartAsync("operations",
            new Dictionary<string, string?> { [OperationsAccess.TokenSetting] = Token, [OperationsAccess.TrustedProxiesSetting] = "127.0.0.1" },
            Logs);

        public async Task DisposeAsync() => await System.DisposeAsync();
    }

    private Uri Silo(string path) => new(fixture.SiloUrl, path);

    private static async Task<HttpStatusCode> GetAsync(HttpClient http, Uri url, string? bearer = null, string? forwardedFor = null)
    {
        using var response = await SendAsync(http, url, bearer, forwardedFor);
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> SendAsync(
        HttpClient http, Uri url, string? bearer = null, string? forwardedFor = null, string? forwardedProto = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        if (forwardedProto is not null) request.Headers.Add("X-Forwarded-Proto", forwardedProto);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>A client whose connections come from <paramref name="local"/> (any 127.x.y.z is this machine).</summary>
    private static HttpClient ClientFrom(IPAddress local) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/index.min.js")]
    [InlineData("/dashboard/ClusterStats")]
    [InlineData("/DASHBOARD/DashboardCounters")]
    public async Task Dashboard_refuses_a_caller_without_the_token(string path)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, Silo(path)));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, Silo(path), bearer: "wrong-token"));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, Silo(path + "?token=wrong-token")));
    }

    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/ClusterStats")]
    [InlineData("/dashboard/DashboardCounters")]
    public async Task Dashboard_answers_a_caller_with_the_bearer_token(string path)
    {
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, Silo(path), bearer: Token));
    }

    [Fact]
    public async Task Token_in_the_query_once_lets_the_browser_and_the_dashboards_own_calls_in()
    {
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false });

        using var first = await browser.GetAsync(Silo($"/dashboard/?token={Token}"));
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("/dashboard/", first.Headers.Location?.OriginalString);
        var setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/dashboard", setCookie, StringComparison.OrdinalIgnoreCase);

        // The page, then the XHR calls its script makes (relative URLs, no Authorization header).
        Assert.Equal(HttpStatusCode.OK, await GetAsync(browser, Silo("/dashboard/")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(browser, Silo("/dashboard/DashboardCounters")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(browser, Silo("/dashboard/ClusterStats")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(browser, Silo("/dashboard/Reminders")));
    }

    [Fact]
    public async Task The_console_asks_a_browser_for_the_token_and_its_api_and_files_need_it_too()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        using (var page = await http.GetAsync(Silo("/console")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            var form = await page.Content.ReadAsStringAsync();
            Assert.Contains("name=\"token\"", form, StringComparison.Ordinal);
            Assert.DoesNotContain("not accepted", form, StringComparison.Ordinal);
        }
        using (var wrong = await http.GetAsync(Silo("/console?token=wrong-token")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("That token was not accepted.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        foreach (var path in new[] { "/console/api/directories", "/console/console.js", "/admin/directories", "/admin/activity" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, Silo(path)));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(http, Silo(path), bearer: Token));
        }

        using var signIn = await http.GetAsync(Silo($"/console?token={Token}"));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/console", signIn.Headers.Location?.OriginalString);
        Assert.Contains("path=/console", Assert.Single(signIn.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_cookie_holds_a_value_derived_from_the_token_and_the_token_itself_is_no_cookie()
    {
        using var http = ClientFrom(IPAddress.Loopback);
        using var first = await SendAsync(http, Silo($"/dashboard/?token={Token}"));
        var cookie = Assert.Single(first.Headers.GetValues("Set-Cookie")).Split(';')[0];
        var value = cookie[(OperationsAccess.CookieName.Length + 1)..];

        Assert.DoesNotContain(Token, cookie);
        Assert.Equal(new OperationsAccess(Token).CookieValue, value);
        Assert.Equal(HttpStatusCode.OK, await CookieGetAsync(http, value));
        Assert.Equal(HttpStatusCode.Unauthorized, await CookieGetAsync(http, Token));
        Assert.Equal(HttpStatusCode.Unauthorized, await CookieGetAsync(http, value[..^1]));
    }

    private async Task<HttpStatusCode> CookieGetAsync(HttpClient http, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Silo("/dashboard/ClusterStats"));
        request.Headers.Add("Cookie", $"{OperationsAccess.CookieName}={value}");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task The_cookie_is_Secure_when_a_trusted_proxy_reports_https_and_only_then()
    {
        using var proxy = ClientFrom(IPAddress.Loopback);
        using var stranger = ClientFrom(IPAddress.Parse("127.0.0.2"));

        Assert.Contains("secure", await SetCookieAsync(proxy, "https"), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", await SetCookieAsync(proxy, "http"), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", await SetCookieAsync(proxy, null), StringComparison.OrdinalIgnoreCase);
        // 127.0.0.2 is not a trusted proxy: what it says about the scheme is not believed.
        Assert.DoesNotContain("secure", await SetCookieAsync(stranger, "https"), StringComparison.OrdinalIgnoreCase);
    }

    private async Task<string> SetCookieAsync(HttpClient http, string? forwardedProto)
    {
        using var response = await SendAsync(http, Silo($"/dashboard/?token={Token}"), forwardedProto: forwardedProto);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return Assert.Single(response.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task After_five_wrong_tokens_in_a_minute_a_client_is_answered_429_even_with_the_right_one()
    {
        using var http = ClientFrom(IPAddress.Loopback);
        const string guesser = "203.0.113.50";

        for (var attempt = 1; attempt <= 5; attempt++)
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, Silo("/dashboard/ClusterStats"), bearer: $"guess-{attempt}", forwardedFor: guesser));
        using var blocked = await SendAsync(http, Silo("/dashboard/ClusterStats"), bearer: Token, forwardedFor: guesser);

        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.InRange(blocked.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        // Others are not held up by one client's guessing.
        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, Silo("/dashboard/ClusterStats"), bearer: Token, forwardedFor: "203.0.113.51"));
        Assert.Contains(fixture.Logs.Entries, entry => entry.Contains($"refused to {guesser} for a minute"));
        Assert.DoesNotContain(fixture.Logs.Entries, entry => entry.Contains(Token));
    }

    [Fact]
    public async Task The_dashboards_live_log_stream_is_off_by_default()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await SendAsync(http, Silo("/dashboard/Trace"), bearer: Token);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Contains("disabled", text);
    }

    [Fact]
    public async Task Metrics_are_served_to_this_machine_and_elsewhere_only_with_the_token()
    {
        using var http = ClientFrom(IPAddress.Loopback);
        foreach (var host in new[] { fixture.SiloUrl, fixture.System.GatewayUrl })
        {
            var metrics = new Uri(host, HealthEndpoints.MetricsPath);
            Assert.Equal(HttpStatusCode.OK, await GetAsync(http, metrics));
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, metrics, forwardedFor: "203.0.113.60"));
            Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(http, metrics, bearer: "wrong", forwardedFor: "203.0.113.60"));
            Assert.Equal(HttpStatusCode.OK, await GetAsync(http, metrics, bearer: Token, forwardedFor: "203.0.113.60"));
        }
    }

    [Fact]
    public async Task Health_endpoints_stay_open_without_the_token()
    {
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, Silo("/health/live")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, Silo("/health/ready")));
    }

    [Fact]
    public async Task Without_a_configured_token_the_dashboard_is_open()
    {
        await using var open = await SyncSystem.StartAsync("operations_open");
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, new Uri(new Uri(open.Silos.Single().Urls.Single()), "/dashboard/")));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(http, new Uri(new Uri(open.Silos.Single().Urls.Single()), "/dashboard/ClusterStats")));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_that_rewrites_Host_the_forwarded_host_is_this_site()
    {
        using var http = new HttpClient();
        async Task<HttpStatusCode> PostAsync(params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Silo("/admin/directories/directory_01PROXIED/reconcile"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            request.Headers.Add("X-Forwarded-For", "203.0.113.62");
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        // The console at https://ops.example.com through a proxy (127.0.0.1, trusted here) that sends Host as it reaches the silo.
        // Reached: the action answers 409 here (no WorkOS API key).
        Assert.Equal(HttpStatusCode.Conflict, await PostAsync(("Origin", "https://ops.example.com"), ("X-Forwarded-Host", "ops.example.com")));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(("Origin", "https://ops.example.com")));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(("Origin", "https://attacker.example"), ("X-Forwarded-Host", "ops.example.com")));
    }

    [Fact]
    public async Task Without_a_configured_token_a_browser_on_another_site_cannot_post_to_the_operations_actions()
    {
        var logs = new CapturedLogs();
        await using var open = await SyncSystem.StartAsync("operations_cross_site", logs: logs);
        var silo = new Uri(open.Silos.Single().Urls.Single());
        var reconcile = new Uri(silo, "/admin/directories/directory_01CROSSSITE/reconcile?force=true");
        using var http = new HttpClient();

        async Task<(HttpStatusCode, string)> PostAsync(params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, reconcile) { Content = new FormUrlEncodedContent([]) };
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        // A form on another site, as browsers send it: refused before the action runs, and said why.
        var (status, body) = await PostAsync(("Origin", "https://attacker.example"), ("Sec-Fetch-Site", "cross-site"));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("another site", body);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(("Origin", "https://attacker.example"))).Item1);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(("Origin", "null"))).Item1);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(("Sec-Fetch-Site", "same-site"))).Item1);
        Assert.Contains(logs.Entries, e => e.Contains("POST /admin/directories/directory_01CROSSSITE/reconcile refused (403)")
                                           && e.Contains("https://attacker.example"));

        // The console's own pages, curl and scripts reach the action (which answers 409 here: no WorkOS API key).
        var reached = HttpStatusCode.Conflict;
        Assert.Equal(reached, (await PostAsync()).Item1);
        Assert.Equal(reached, (await PostAsync(("Origin", silo.GetLeftPart(UriPartial.Authority)), ("Sec-Fetch-Site", "same-origin"))).Item1);
        Assert.Equal(reached, (await PostAsync(("Origin", silo.GetLeftPart(UriPartial.Authority)))).Item1);
        // Reading stays open to links from anywhere.
        using var read = new HttpRequestMessage(HttpMethod.Get, new Uri(silo, "/dashboard/"));
        read.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
        using var answer = await http.SendAsync(read);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Fact]
    public async Task Without_a_configured_token_metrics_are_served_to_this_machine_only()
    {
        await using var open = await SyncSystem.StartAsync("operations_metrics",
            new Dictionary<string, string?> { [OperationsAccess.TrustedProxiesSetting] = "127.0.0.1" });
        using var http = ClientFrom(IPAddress.Loopback);

        foreach (var host in new[] { new Uri(open.Silos.Single().Urls.Single()), open.GatewayUrl })
        {
            var metrics = new Uri(host, HealthEndpoints.MetricsPath);
            Assert.Equal(HttpStatusCode.OK, await GetAsync(http, metrics));
            Assert.Equal(HttpStatusCode.Forbidden, await GetAsync(http, metrics, forwardedFor: "203.0.113.61"));
        }
    }
}
