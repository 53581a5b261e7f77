using DirectorySync.Gateway;
using DirectorySync.Hosting;
using DirectorySync.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>Settings that must stop a host at start, built with the hosts' own wiring: the message names the setting.</summary>
public sealed class HostSettingsTests
{
    private static WebApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Database=never_contacted",
            ["WORKOS_WEBHOOK_SECRET"] = SyncSystem.Secret,
        }).AddInMemoryCollection(settings);
        return builder;
    }

    private static void StartGateway(Dictionary<string, string?> settings)
    {
        var builder = Builder(settings);
        builder.AddDirectorySyncGateway(ClusterSettings.From(builder.Configuration));
    }

    private static void StartSilo(Dictionary<string, string?> settings)
    {
        var builder = Builder(settings);
        builder.AddDirectorySyncSilo(ClusterSettings.From(builder.Configuration));
    }

    [Fact]
    public void The_null_endpoint_needs_the_benchmark_marker()
    {
        var error = Assert.Throws<InvalidOperationException>(() => StartGateway(new() { ["Webhooks:NullEndpoint"] = "true" }));

        Assert.Contains("Webhooks__NullEndpoint", error.Message);
        Assert.Contains("DirectorySync__BenchmarkMode=true", error.Message);
        StartGateway(new() { ["Webhooks:NullEndpoint"] = "true", ["DirectorySync:BenchmarkMode"] = "true" });
        StartGateway(new() { ["Webhooks:NullEndpoint"] = "false" });
    }

    [Fact]
    public void The_silo_serving_the_webhook_itself_needs_the_marker_for_the_null_endpoint_too() =>
        Assert.Contains("DirectorySync__BenchmarkMode", Assert.Throws<InvalidOperationException>(() =>
            StartSilo(new() { ["Webhooks:ServeInSilo"] = "true", ["Webhooks:NullEndpoint"] = "true" })).Message);

    [Fact]
    public void An_operations_token_shorter_than_32_characters_stops_either_host()
    {
        var shortToken = new Dictionary<string, string?> { [OperationsAccess.TokenSetting] = new string('k', 31) };

        foreach (var start in new Action<Dictionary<string, string?>>[] { StartSilo, StartGateway })
        {
            var error = Assert.Throws<InvalidOperationException>(() => start(shortToken));
            Assert.Contains("Operations__Token", error.Message);
            Assert.DoesNotContain(new string('k', 31), error.Message);
        }
        StartSilo(new() { [OperationsAccess.TokenSetting] = new string('k', 32) });
    }
}
