using DirectorySync.Gateway.ReadApi;
using DirectorySync.Hosting;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class ConnectionBudgetTests
{
    private static ClusterSettings Settings(string connectionString) => ClusterSettings.From(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString }).Build());

    [Fact]
    public void By_default_two_silos_and_a_gateway_stay_within_postgres_default_connections()
    {
        var pool = new NpgsqlConnectionStringBuilder(Settings("Host=db;Username=u").ConnectionString).MaxPoolSize;
        // A silo has two pools (its directory grains' data source and the Orleans providers'), a gateway one and the read
        // API's own; Postgres allows 100 connections by default, 3 of them kept for superusers.
        const int SilosPools = 2 * 2, GatewayPools = 1;
        var readApi = new ReadApiOptions { KeyHashes = [] }.MaxConnections;
        Assert.InRange((SilosPools + GatewayPools) * pool + readApi, 1, 97);
    }

    [Fact]
    public void A_pool_size_given_in_the_connection_string_is_kept() =>
        Assert.Equal(40, new NpgsqlConnectionStringBuilder(Settings("Host=db;Username=u;Maximum Pool Size=40").ConnectionString).MaxPoolSize);
}
