using Xunit;

namespace DirectorySync.FaultTests;

/// <summary>
/// What every fault scenario runs against: a private Postgres and one loopback cluster on it (three silos, two
/// gateways). Started once, because five .NET processes take tens of seconds to start on a small machine; each
/// scenario first restarts whatever an earlier one left stopped, and works on directories of its own.
/// </summary>
public sealed class FaultCluster : IAsyncLifetime
{
    public const int CleanupChunkSize = 10;

    /// <summary>
    /// A deleted directory is cleaned up in chunks of 10 rows (a few thousand rows take seconds, so a silo can be
    /// killed in the middle), and an interrupted cleanup is retried by reminder every 2 s instead of every minute.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> CleanupTuning = new Dictionary<string, string>
    {
        ["DirectorySync__CleanupChunkSize"] = CleanupChunkSize.ToString(),
        ["DirectorySync__CleanupRetryPeriod"] = "00:00:02",
        ["Reminders__MinimumReminderPeriod"] = "00:00:01",
    };

    private PrivatePostgres? _postgres;
    private LoopbackCluster? _cluster;

    public PrivatePostgres Postgres => _postgres ?? throw new InvalidOperationException("Not started.");

    public LoopbackCluster Cluster => _cluster ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        _postgres = await PrivatePostgres.StartAsync();
        _cluster = await LoopbackCluster.StartAsync(_postgres, "faults", CleanupTuning);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        _postgres?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultCluster>
{
    /// <summary>One collection: the scenarios run one after another against the one cluster.</summary>
    public const string Name = "faults";
}
