using System.Net;
using System.Net.Http.Headers;
using DirectorySync.Hosting;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>The silo's dashboard behind <c>Operations:Token</c>, over real HTTP; health stays open.</summary>
public sealed class OperationsAccessTests(OperationsAccessTests.Fixture fixture) : IClassFixture<OperationsAccessTests.Fixture>
{
    private const string Token = "ops-token-for-tests";

    public sealed class Fixture : IAsyncLifetime
    {
        public SyncSystem System { get; private set; } = null!;

        public Uri SiloUrl => new(System.Silos.Single().Urls.Single());

        public async Task InitializeAsync() => System = await SyncSystem.StartAsync("operations",
            new Dictionary<string, string?> { [OperationsAccess.TokenSetting] = Token });

        public async Task DisposeAsync() => await System.DisposeAsync();
    }

    private Uri Silo(string path) => new(fixture.SiloUrl, path);

    private static async Task<HttpStatusCode> GetAsync(HttpClient http, Uri url, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

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
}
