using System.Net;
using DirectorySync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;
using Xunit;

namespace DirectorySync.IntegrationTests;

/// <summary>The membership contract our SQL gives Orleans' ADO.NET provider, exercised through the provider itself.</summary>
public sealed class MembershipTableTests
{
    private static readonly DateTime Now = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Fact]
    public async Task A_new_cluster_reads_as_no_members_at_version_zero()
    {
        var table = await MembershipTableAsync("membership_new");

        var snapshot = await table.ReadAllAsync();

        Assert.Empty(snapshot.Members);
        Assert.Equal(0, snapshot.Version.Version);
    }

    [Fact]
    public async Task Of_silos_racing_to_join_against_the_same_version_exactly_one_is_written()
    {
        var table = await MembershipTableAsync("membership_race");
        var seen = (await table.ReadAllAsync()).Version;

        var written = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            table.InsertRowAsync(Member(11_000 + i), seen.Next()))));

        Assert.Single(written, true);
        var snapshot = await table.ReadAllAsync();
        Assert.Single(snapshot.Members);
        Assert.Equal(1, snapshot.Version.Version);
    }

    [Fact]
    public async Task A_silo_already_in_the_table_is_not_inserted_again()
    {
        var table = await MembershipTableAsync("membership_duplicate");
        Assert.True(await table.InsertRowAsync(Member(11_000), (await table.ReadAllAsync()).Version.Next()));

        var again = await table.InsertRowAsync(Member(11_000), (await table.ReadAllAsync()).Version.Next());

        Assert.False(again);
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task An_update_from_a_stale_view_is_refused_and_changes_nothing()
    {
        var table = await MembershipTableAsync("membership_stale");
        var silo = Member(11_000);
        Assert.True(await table.InsertRowAsync(silo, (await table.ReadAllAsync()).Version.Next()));
        var stale = await table.ReadAllAsync();
        var (_, staleEtag) = stale.Members.Single();

        silo.Status = SiloStatus.ShuttingDown;
        Assert.True(await table.UpdateRowAsync(silo, staleEtag, stale.Version.Next()));
        silo.Status = SiloStatus.Dead;
        var refused = await table.UpdateRowAsync(silo, staleEtag, stale.Version.Next());

        Assert.False(refused);
        var current = await table.ReadRowAsync(silo.SiloAddress);
        Assert.Equal(SiloStatus.ShuttingDown, current.Members.Single().Item1.Status);
        Assert.Equal(2, current.Version.Version);
    }

    [Fact]
    public async Task Suspicions_and_status_round_trip_through_an_update()
    {
        var table = await MembershipTableAsync("membership_suspect");
        var silo = Member(11_000);
        var suspecter = Member(12_000).SiloAddress;
        Assert.True(await table.InsertRowAsync(silo, (await table.ReadAllAsync()).Version.Next()));
        var seen = await table.ReadAllAsync();

        silo.AddOrUpdateSuspector(suspecter, Now.AddSeconds(7), 5);
        Assert.True(await table.UpdateRowAsync(silo, seen.Members.Single().Item2, seen.Version.Next()));

        var read = (await table.ReadRowAsync(silo.SiloAddress)).Members.Single().Item1;
        Assert.NotNull(read.SuspectTimes);
        var suspicion = Assert.Single(read.SuspectTimes);
        Assert.Equal(suspecter, suspicion.Item1);
        Assert.Equal(Now.AddSeconds(7), suspicion.Item2);
        Assert.Equal(silo.SiloName, read.SiloName);
        Assert.Equal(silo.ProxyPort, read.ProxyPort);
        Assert.Equal(silo.StartTime, read.StartTime);
    }

    [Fact]
    public async Task A_heartbeat_moves_the_alive_time_without_changing_the_version()
    {
        var table = await MembershipTableAsync("membership_heartbeat");
        var silo = Member(11_000);
        Assert.True(await table.InsertRowAsync(silo, (await table.ReadAllAsync()).Version.Next()));

        silo.IAmAliveTime = Now.AddMinutes(1);
        await table.UpdateIAmAliveAsync(silo);

        var read = await table.ReadRowAsync(silo.SiloAddress);
        Assert.Equal(Now.AddMinutes(1), read.Members.Single().Item1.IAmAliveTime);
        Assert.Equal(1, read.Version.Version);
    }

    [Fact]
    public async Task Cleanup_removes_dead_silos_older_than_the_cutoff_and_nothing_else()
    {
        var table = await MembershipTableAsync("membership_cleanup");
        var longDead = Member(11_000, SiloStatus.Dead, Now.AddDays(-2));
        var recentlyDead = Member(12_000, SiloStatus.Dead, Now);
        var oldButActive = Member(13_000, SiloStatus.Active, Now.AddDays(-2));
        foreach (var silo in new[] { longDead, recentlyDead, oldButActive })
        {
            Assert.True(await table.InsertRowAsync(silo, (await table.ReadAllAsync()).Version.Next()));
        }

        await table.CleanupDefunctSiloEntriesAsync(Now.AddDays(-1));

        Assert.Equal(
            new[] { recentlyDead.SiloAddress, oldButActive.SiloAddress }.Order(),
            (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress).Order());
    }

    [Fact]
    public async Task Clients_are_offered_the_gateways_of_active_silos_only()
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync("membership_gateways");
        var table = await OpenMembershipTableAsync(database);
        var active = Member(11_000);
        foreach (var silo in new[] { active, Member(12_000, SiloStatus.Dead), Member(13_000, SiloStatus.Joining) })
        {
            Assert.True(await table.InsertRowAsync(silo, (await table.ReadAllAsync()).Version.Next()));
        }
        var gateways = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = TestSilo.Invariant, ConnectionString = database }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = ClusterId, ServiceId = ClusterId }));
        await gateways.InitializeGatewayListProvider();

        var offered = Assert.Single(await gateways.GetGateways());

        Assert.Equal(active.ProxyPort, offered.Port);
    }

    [Fact]
    public async Task Deleting_the_cluster_removes_its_members()
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync("membership_delete");
        var table = await OpenMembershipTableAsync(database);
        Assert.True(await table.InsertRowAsync(Member(11_000), (await table.ReadAllAsync()).Version.Next()));

        await table.DeleteMembershipTableEntriesAsync(ClusterId);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);

        var snapshot = await table.ReadAllAsync();
        Assert.Empty(snapshot.Members);
        Assert.Equal(0, snapshot.Version.Version);
    }

    private const string ClusterId = "contract";

    private static async Task<AdoNetClusteringTable> MembershipTableAsync(string databasePrefix) =>
        await OpenMembershipTableAsync(await PostgresServer.Shared.CreateDatabaseAsync(databasePrefix));

    private static async Task<AdoNetClusteringTable> OpenMembershipTableAsync(string database)
    {
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = ClusterId, ServiceId = ClusterId }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = TestSilo.Invariant, ConnectionString = database }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    private static MembershipEntry Member(int port, SiloStatus status = SiloStatus.Active, DateTime? lastSeen = null) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, generation: 7),
        SiloName = $"silo-{port}",
        HostName = "test-host",
        Status = status,
        ProxyPort = port + 1,
        StartTime = lastSeen ?? Now,
        IAmAliveTime = lastSeen ?? Now,
    };
}
