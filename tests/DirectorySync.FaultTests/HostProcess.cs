using System.Diagnostics;

namespace DirectorySync.FaultTests;

/// <summary>
/// One silo or gateway as it runs in production: <c>dotnet &lt;dll&gt;</c> in its own process, configured only through
/// the environment variables the README names, its output appended to a log file. It can be killed, stopped
/// gracefully and started again with the same settings and ports.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private static readonly HttpClient Health = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string _logPath;
    private readonly Lock _logLock = new();
    private Process? _process;
    private StreamWriter? _log;

    public HostProcess(string name, string dll, Uri url, IReadOnlyDictionary<string, string> environment, string logDirectory)
    {
        Name = name;
        Url = url;
        _dll = dll;
        _environment = environment;
        _logPath = Path.Combine(logDirectory, $"{name}.log");
    }

    public string Name { get; }

    /// <summary>The HTTP address (<c>--urls</c>): health endpoints, and the webhook on a gateway.</summary>
    public Uri Url { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running process's id (for reading its memory in /proc).</summary>
    public int ProcessId => _process is { HasExited: false } process ? process.Id : throw new InvalidOperationException($"{Name} is not running.");

    /// <summary>Starts the process and returns once <c>/health/ready</c> answers 200.</summary>
    public async Task StartAsync(TimeSpan readyWithin)
    {
        if (IsRunning) throw new InvalidOperationException($"{Name} is already running.");
        var start = new ProcessStartInfo("dotnet")
        {
            // The content root is the working directory: the host's appsettings.json (log levels) sits beside its dll.
            WorkingDirectory = Path.GetDirectoryName(_dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(_dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(Url.ToString().TrimEnd('/'));
        foreach (var (key, value) in _environment) start.Environment[key] = value;

        _log ??= new StreamWriter(_logPath, append: true) { AutoFlush = true };
        WriteLog($"---- {DateTime.UtcNow:O} starting {Name}");
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) WriteLog(line.Data); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) WriteLog(line.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;
        await KillWhenTestProcessEndsAsync(process.Id);
        await WaitUntilReadyAsync(readyWithin);
    }

    /// <summary>SIGKILL: the process vanishes mid-work, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"{Name} was never started.");
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
        WriteLog($"---- {DateTime.UtcNow:O} killed");
    }

    /// <summary>SIGTERM, as an orchestrator stops a host in a rolling deploy; returns once it has exited.</summary>
    public async Task StopGracefullyAsync(TimeSpan exitWithin)
    {
        var process = _process ?? throw new InvalidOperationException($"{Name} was never started.");
        using (var signal = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await signal.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(exitWithin);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"{Name} did not exit within {exitWithin.TotalSeconds:0} s of SIGTERM.\n{LogTail(30)}");
        }
        WriteLog($"---- {DateTime.UtcNow:O} exited after SIGTERM with code {process.ExitCode}");
    }

    /// <summary>Whether the process (in any of its runs) wrote <paramref name="text"/>.</summary>
    public bool LogContains(string text)
    {
        lock (_logLock)
        {
            _log?.Flush();
            return File.Exists(_logPath) && File.ReadLines(_logPath).Any(line => line.Contains(text, StringComparison.Ordinal));
        }
    }

    /// <summary>The last lines of the process's output, for a failure message.</summary>
    public string LogTail(int lines)
    {
        lock (_logLock)
        {
            _log?.Flush();
            var all = File.Exists(_logPath) ? File.ReadAllLines(_logPath) : [];
            return $"== last {lines} lines of {_logPath}:\n" + string.Join('\n', all.TakeLast(lines));
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan within)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(within.TotalSeconds * Stopwatch.Frequency);
        var ready = new Uri(Url, "/health/ready");
        while (true)
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} while starting.\n{LogTail(40)}");
            try
            {
                using var answer = await Health.GetAsync(ready);
                if (answer.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (Stopwatch.GetTimestamp() > deadline)
                throw new InvalidOperationException($"{Name} was not ready within {within.TotalSeconds:0} s.\n{LogTail(40)}");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// A detached shell that SIGKILLs the host if this test process ends first (a crash, a killed test run), so no
    /// silo outlives its run and keeps knocking at a stopped database.
    /// </summary>
    private static async Task KillWhenTestProcessEndsAsync(int hostId)
    {
        const string watchdog = """
            exec </dev/null >/dev/null 2>&1
            while kill -0 "$2"; do
              kill -0 "$1" || { kill -KILL "$2"; exit; }
              sleep 1
            done
            """;
        using var detach = Process.Start("setsid", ["--fork", "bash", "-c", watchdog, "host-watchdog",
            Environment.ProcessId.ToString(), hostId.ToString()]);
        await detach.WaitForExitAsync();
    }

    private void WriteLog(string line)
    {
        lock (_logLock) _log?.WriteLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        if (IsRunning) await KillAsync();
        _process?.Dispose();
        lock (_logLock)
        {
            _log?.Dispose();
            _log = null;
        }
    }
}
