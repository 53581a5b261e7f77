using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Npgsql;

namespace DirectorySync.FaultTests;

/// <summary>
/// The product deployed on loopback: three silo processes and two gateway processes of the built hosts, one fresh
/// database on the tests' private Postgres, each process with its own Orleans and HTTP ports.
/// </summary>
public sealed class LoopbackCluster : IAsyncDisposable
{
    public const string Secret = "whsec_fault_tests";
    private const int SiloCount = 3;
    private const int GatewayCount = 2;
    /// <summary>How long a process may take to start on a busy two-core machine (measured: 10 s idle, 90 s under load).</summary>
    public static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(180);

    /// <summary>How long a gateway waits for an event to be applied before answering 503 (production: 20 s).</summary>
    public static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What the scenarios tune for quick recovery (production keeps the defaults, see README): a killed silo is
    /// suspected after 2 missed probes of 2 s instead of 3 of 5 s, and a request caught inside it is answered 503
    /// after <see cref="ApplyTimeout"/>.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> RecoveryTuning = new Dictionary<string, string>
    {
        ["Orleans__Membership__ProbeTimeout"] = "00:00:02",
        ["Orleans__Membership__NumMissedProbesLimit"] = "2",
        ["Webhooks__ApplyTimeoutSeconds"] = ApplyTimeout.TotalSeconds.ToString(),
    };

    private readonly List<HostProcess> _silos = [];
    private readonly List<HostProcess> _gateways = [];

    private LoopbackCluster(string connectionString, string logDirectory)
    {
        ConnectionString = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        LogDirectory = logDirectory;
    }

    /// <summary>The database, for the test's own reads: unpooled, so a Postgres restart leaves no broken connection behind.</summary>
    public string ConnectionString { get; }

    /// <summary>Where each process's output is written, one file per process.</summary>
    public string LogDirectory { get; }

    public IReadOnlyList<HostProcess> Silos => _silos;

    public IReadOnlyList<HostProcess> Gateways => _gateways;

    public IReadOnlyList<Uri> WebhookUrls => _gateways.Select(g => new Uri(g.Url, "/webhooks/workos")).ToList();

    /// <summary>
    /// Starts every process at once and returns when all are ready. <paramref name="settings"/> are extra
    /// environment variables for every process, on top of <see cref="RecoveryTuning"/>.
    /// </summary>
    public static async Task<LoopbackCluster> StartAsync(
        PrivatePostgres postgres, string name, IReadOnlyDictionary<string, string>? settings = null)
    {
        var connectionString = await postgres.CreateDatabaseAsync(name);
        var logDirectory = Directory.CreateDirectory(
            Path.Combine(Path.GetTempPath(), "directorysync-faults", $"{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}")).FullName;
        var cluster = new LoopbackCluster(connectionString, logDirectory);

        var shared = new Dictionary<string, string>(RecoveryTuning)
        {
            ["Orleans__ClusterId"] = name,
            ["Orleans__ServiceId"] = name,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) shared[key] = value;

        for (var i = 1; i <= SiloCount; i++)
        {
            var silo = $"silo-{i}";
            cluster._silos.Add(new HostProcess(silo, HostBinaries.Silo, LoopbackUrl(), new Dictionary<string, string>(shared)
            {
                ["ConnectionStrings__Postgres"] = NamedConnection(connectionString, silo),
                ["Orleans__SiloPort"] = FreeLoopbackPort().ToString(),
                ["Orleans__GatewayPort"] = FreeLoopbackPort().ToString(),
            }, logDirectory));
        }
        for (var i = 1; i <= GatewayCount; i++)
        {
            var gateway = $"gateway-{i}";
            cluster._gateways.Add(new HostProcess(gateway, HostBinaries.Gateway, LoopbackUrl(), new Dictionary<string, string>(shared)
            {
                ["ConnectionStrings__Postgres"] = NamedConnection(connectionString, gateway),
                ["WORKOS_WEBHOOK_SECRET"] = Secret,
            }, logDirectory));
        }

        try
        {
            await Task.WhenAll(cluster._silos.Concat(cluster._gateways).Select(host => host.StartAsync(ReadyWithin)));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts again every process an earlier scenario left stopped; returns their names.</summary>
    public async Task<IReadOnlyList<string>> RestoreAsync()
    {
        var stopped = _silos.Concat(_gateways).Where(host => !host.IsRunning).ToList();
        await Task.WhenAll(stopped.Select(host => host.StartAsync(ReadyWithin)));
        return stopped.Select(host => host.Name).ToList();
    }

    /// <summary>The silo whose Postgres session last ran <paramref name="sqlFragment"/>, if any has.</summary>
    public async Task<HostProcess?> SiloThatRanAsync(string sqlFragment)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
            connection) { Parameters = { new() { Value = sqlFragment } } };
        var name = await command.ExecuteScalarAsync() as string;
        return _silos.FirstOrDefault(silo => silo.Name == name);
    }

    public string LogTails(int lines) => string.Join("\n", _silos.Concat(_gateways).Select(host => host.LogTail(lines)));

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _gateways.Concat(_silos)) await host.DisposeAsync();
    }

    /// <summary>Each process names its sessions, so the test can see in pg_stat_activity which silo does what.</summary>
    private static string NamedConnection(string connectionString, string processName) =>
        new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = processName }.ConnectionString;

    private static Uri LoopbackUrl() => new($"http://127.0.0.1:{FreeLoopbackPort()}");

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The built silo and gateway, found beside this test assembly's build: same configuration, same framework.</summary>
internal static class HostBinaries
{
    public static string Silo { get; } = Locate("Silo", "DirectorySync.Silo.dll");

    public static string Gateway { get; } = Locate("Gateway", "DirectorySync.Gateway.dll");

    private static string Locate(string project, string dll)
    {
        // This assembly runs from tests/DirectorySync.FaultTests/bin/<Configuration>/<framework>/.
        var output = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var framework = output.Name;
        var configuration = Assembly.GetExecutingAssembly().GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
            ?? output.Parent!.Name;
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "DirectorySync.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException($"No DirectorySync.sln above {output.FullName}.");

        var path = Path.Combine(root.FullName, "src", project, "bin", configuration, framework, dll);
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing: build the solution first (dotnet build -c {configuration}).");
    }
}
