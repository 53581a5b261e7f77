using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace DirectorySync.Testing;

/// <summary>
/// A private PostgreSQL server started from the installed binaries: its own data directory under
/// <c>/tmp/directorysync-postgres</c>, a free port on 127.0.0.1, trust authentication, durability off.
/// Tests of outages can stop it and start it again on the same port.
/// </summary>
public sealed class ThrowawayPostgres : IDisposable
{
    private const string RunsRoot = "/tmp/directorysync-postgres";
    private const string ServerUser = "postgres";

    private readonly PostgresBinaries binaries;
    private readonly string runDirectory;
    private bool stopped;

    private ThrowawayPostgres(PostgresBinaries binaries, string runDirectory, int port)
    {
        this.binaries = binaries;
        this.runDirectory = runDirectory;
        AdminConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = port,
            Username = ServerUser,
            Database = "postgres",
            Pooling = false,
        }.ConnectionString;
    }

    public string AdminConnectionString { get; }

    private string DataDirectory => DataDirectoryOf(runDirectory);

    private static string DataDirectoryOf(string runDirectory) => Path.Combine(runDirectory, "data");

    public static async Task<ThrowawayPostgres> StartAsync()
    {
        var binaries = PostgresBinaries.Locate();
        Directory.CreateDirectory(RunsRoot);
        RemoveAbandonedRuns(binaries);

        // The directory name is the sentinel: while process <pid> lives the run is its own, after that any run may
        // remove it.
        var runDirectory = Directory.CreateDirectory(Path.Combine(RunsRoot, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}")).FullName;
        if (RunningAsRoot)
        {
            // initdb refuses root, so the server runs as the postgres account and must own its directory.
            await RunAsync("chown", [ServerUser, runDirectory], runDirectory);
        }

        await RunAsync(binaries.InitDb, ["-D", DataDirectoryOf(runDirectory), "-U", ServerUser, "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync"], runDirectory, asServerUser: true);

        // Another process may take the free port between our probe and the server's bind: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var server = new ThrowawayPostgres(binaries, runDirectory, FreeLoopbackPort());
            try
            {
                await server.StartServerAsync();
                await StartWatchdogAsync(runDirectory);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    public void Dispose()
    {
        if (stopped)
        {
            return;
        }
        stopped = true;
        Stop(binaries, DataDirectory);
        Directory.Delete(runDirectory, recursive: true);
    }

    /// <summary>Stops the server as an operator would (<c>pg_ctl stop -m fast</c>): sessions end, committed data stays.</summary>
    public Task StopServerAsync() =>
        RunAsync(binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", "fast", "-w"], "/", asServerUser: true);

    /// <summary>Starts the server (again), on its port, and returns once it accepts connections.</summary>
    public async Task StartServerAsync()
    {
        var port = new NpgsqlConnectionStringBuilder(AdminConnectionString).Port;
        var serverOptions = string.Join(' ',
            $"-p {port}",
            "-c listen_addresses=127.0.0.1",
            $"-c unix_socket_directories={runDirectory}",
            "-c max_connections=400",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off");
        try
        {
            await RunAsync(binaries.PgCtl, ["start", "-D", DataDirectory, "-l", Path.Combine(runDirectory, "server.log"),
                "-w", "-t", "60", "-o", serverOptions], runDirectory, asServerUser: true);
        }
        catch (InvalidOperationException failure)
        {
            throw new InvalidOperationException($"{failure.Message}\nServer log:\n{ServerLogTail()}", failure);
        }
    }

    /// <summary>
    /// Starts a detached shell that waits for this process to end, however it ends, then stops the server and
    /// deletes the run: the safety net for a test process that crashed or was killed.
    /// </summary>
    private static async Task StartWatchdogAsync(string runDirectory)
    {
        const string watchdog = """
            exec </dev/null >/dev/null 2>&1
            while kill -0 "$1"; do sleep 1; done
            server=$(head -n 1 "$2/data/postmaster.pid") && kill -QUIT "$server"
            while [ -n "$server" ] && kill -0 "$server"; do sleep 0.2; done
            rm -rf "$2"
            """;
        // setsid --fork detaches the shell from this process tree, so killing the tree does not kill it.
        await RunAsync("setsid", ["--fork", "bash", "-c", watchdog, "postgres-watchdog",
            Environment.ProcessId.ToString(), runDirectory], "/");
    }

    private string ServerLogTail()
    {
        var log = Path.Combine(runDirectory, "server.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no server log)";
    }

    private static void RemoveAbandonedRuns(PostgresBinaries binaries)
    {
        foreach (var run in Directory.EnumerateDirectories(RunsRoot, "run-*"))
        {
            var owner = Path.GetFileName(run).Split('-')[1];
            if (int.TryParse(owner, out var pid) && IsAlive(pid))
            {
                continue;
            }
            try
            {
                Stop(binaries, DataDirectoryOf(run));
                Directory.Delete(run, recursive: true);
            }
            catch (Exception failure) when (failure is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // Left for its owner (another account) or a later run: it does not stand in this run's way.
            }
        }
    }

    private static void Stop(PostgresBinaries binaries, string dataDirectory)
    {
        if (!File.Exists(Path.Combine(dataDirectory, "postmaster.pid")))
        {
            return;
        }
        // Immediate: nothing on a throwaway server needs a clean shutdown.
        RunAsync(binaries.PgCtl, ["stop", "-D", dataDirectory, "-m", "immediate", "-w"], "/", asServerUser: true)
            .GetAwaiter().GetResult();
    }

    internal static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool RunningAsRoot => Environment.UserName == "root";

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, string workingDirectory, bool asServerUser = false)
    {
        var start = new ProcessStartInfo
        {
            FileName = asServerUser && RunningAsRoot ? "runuser" : program,
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asServerUser && RunningAsRoot)
        {
            foreach (var argument in new[] { "-u", ServerUser, "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}{await errors}");
        }
    }
}

/// <summary>Where the PostgreSQL server programs are installed.</summary>
internal sealed record PostgresBinaries(string InitDb, string PgCtl)
{
    public static PostgresBinaries Locate()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        // Debian installs the server outside PATH, one directory per major version: prefer the newest.
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
                .Select(d => Path.Combine(d, "bin"))
            : [];

        var directory = onPath.Concat(debian).FirstOrDefault(d =>
            File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        return directory is null
            ? throw new InvalidOperationException(
                "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin. " +
                "Install the `postgresql` Debian package (apt-get install -y postgresql), or point the tests at a " +
                "running server with the ConnectionStrings__Postgres environment variable.")
            : new PostgresBinaries(Path.Combine(directory, "initdb"), Path.Combine(directory, "pg_ctl"));
    }
}
