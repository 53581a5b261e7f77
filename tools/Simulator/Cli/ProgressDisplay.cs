using System.Globalization;
using DirectorySync.Simulator.Delivery;

namespace DirectorySync.Simulator.Cli;

/// <summary>
/// Delivery progress on stderr: a bar redrawn in place on a terminal; in CI (stderr redirected) a plain line every
/// few seconds, since carriage returns make logs unreadable.
/// </summary>
internal sealed class ProgressDisplay : IProgress<DeliveryProgress>
{
    private const int BarWidth = 30;
    private static readonly TimeSpan PlainLineInterval = TimeSpan.FromSeconds(5);

    private readonly bool _onTerminal = !Console.IsErrorRedirected;
    private readonly Lock _gate = new();
    private TimeSpan? _lastPlainLine;
    private bool _drawn;

    public void Report(DeliveryProgress progress)
    {
        lock (_gate)
        {
            if (_onTerminal)
            {
                Console.Error.Write($"\r{Bar(progress)} {Describe(progress)}\u001b[K");
                _drawn = true;
            }
            else if (_lastPlainLine is not { } last || progress.Elapsed - last >= PlainLineInterval || progress.Done == progress.Total)
            {
                Console.Error.WriteLine($"delivery: {Describe(progress)}");
                _lastPlainLine = progress.Elapsed;
            }
        }
    }

    /// <summary>Leaves the bar's line so what follows starts on its own.</summary>
    public void Finish()
    {
        lock (_gate)
        {
            if (_drawn) Console.Error.WriteLine();
            _drawn = false;
        }
    }

    private static string Bar(DeliveryProgress progress)
    {
        var filled = progress.Total == 0 ? BarWidth : (int)((long)progress.Done * BarWidth / progress.Total);
        return $"[{new string('#', filled)}{new string('-', BarWidth - filled)}]";
    }

    private static string Describe(DeliveryProgress progress)
    {
        var seconds = progress.Elapsed.TotalSeconds;
        var rate = seconds > 0 ? progress.Acknowledged / seconds : 0;
        var percent = progress.Total == 0 ? 100 : 100.0 * progress.Done / progress.Total;
        return string.Create(CultureInfo.InvariantCulture,
            $"{progress.Acknowledged:N0}/{progress.Total:N0} acked ({percent:0}%), {rate:N0} events/s, " +
            $"{progress.Retries:N0} retries, {progress.Failed:N0} failed, {seconds:0.0} s");
    }
}
