using System.Diagnostics;
using DirectorySync.Simulator.Delivery;

namespace DirectorySync.FaultTests;

/// <summary>
/// What a delivery did over time (acknowledgements and failed attempts, sampled by the sender's progress reports) on
/// the same clock as the faults the test injects, so the time to recover can be read off it.
/// </summary>
public sealed class DeliveryTimeline : IProgress<DeliveryProgress>
{
    /// <summary>How long acknowledgements must flow, without a failed attempt, to count as flowing again.</summary>
    public static readonly TimeSpan SteadyWindow = TimeSpan.FromSeconds(1);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Sample> _samples = [new(TimeSpan.Zero, 0, 0)];
    private readonly Lock _lock = new();
    private bool _finished;

    public TimeSpan Now => _clock.Elapsed;

    public void Report(DeliveryProgress value)
    {
        lock (_lock)
        {
            _samples.Add(new Sample(_clock.Elapsed, value.Acknowledged, value.Retries + value.Failed));
            _finished = value.Done == value.Total;
        }
    }

    public int Acknowledged
    {
        get { lock (_lock) return _samples[^1].Acknowledged; }
    }

    /// <summary>Waits until <paramref name="count"/> requests are acknowledged (or the delivery ends).</summary>
    public async Task WaitForAcknowledgedAsync(int count, Task delivery, TimeSpan within)
    {
        var deadline = _clock.Elapsed + within;
        while (Acknowledged < count && !delivery.IsCompleted)
        {
            if (_clock.Elapsed > deadline) throw new TimeoutException($"Fewer than {count} acknowledgements after {within.TotalSeconds:0} s.");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits for the first <see cref="SteadyWindow"/> after <paramref name="moment"/> in which acknowledgements flow
    /// (see <see cref="RecoveryFrom"/>); null if the delivery ended or <paramref name="within"/> passed first.
    /// </summary>
    public async Task<TimeSpan?> WaitForSteadyFlowAsync(TimeSpan moment, Task delivery, TimeSpan within)
    {
        var deadline = _clock.Elapsed + within;
        while (true)
        {
            TimeSpan? steady;
            lock (_lock) steady = FirstSteadyWindow(moment, BaselineRate(moment));
            if (steady is not null || delivery.IsCompleted || _clock.Elapsed > deadline) return steady;
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// How the delivery came back from a fault at <paramref name="fault"/>, judged on what happened up to
    /// <paramref name="until"/> (the next deliberate change, or the end). Acknowledgements flow in a
    /// <see cref="SteadyWindow"/> with no failed attempt and at least half the acknowledgement rate of the seconds
    /// before the fault: the first such window after the fault is when they flow again, the first after the range's
    /// last failed attempt is when the fault is over (requests caught inside a killed process fail only at their timeout).
    /// </summary>
    public Recovery RecoveryFrom(TimeSpan fault, TimeSpan until)
    {
        lock (_lock)
        {
            var baseline = BaselineRate(fault);
            var failures = At(until).FailedAttempts - At(fault).FailedAttempts;
            // The first sample that shows the range's last failure.
            TimeSpan? lastFailure = failures == 0
                ? null
                : _samples.First(s => s.At > fault && s.FailedAttempts >= At(until).FailedAttempts).At;
            return new Recovery(fault, FirstSteadyWindow(fault, baseline), FirstSteadyWindow(lastFailure ?? fault, baseline),
                failures, lastFailure);
        }
    }

    private double BaselineRate(TimeSpan fault)
    {
        var before = At(fault - TimeSpan.FromSeconds(3));
        var atFault = At(fault);
        return (atFault.Acknowledged - before.Acknowledged) / Math.Max(0.1, (atFault.At - before.At).TotalSeconds);
    }

    private TimeSpan? FirstSteadyWindow(TimeSpan after, double baselineRate)
    {
        foreach (var start in _samples.Where(s => s.At >= after))
        {
            var end = _samples.FirstOrDefault(s => s.At >= start.At + SteadyWindow);
            // Less than a window left: a delivery that finished without another failure flowed to its end.
            if (end is null) return _finished && _samples[^1].FailedAttempts == start.FailedAttempts ? start.At : null;
            var rate = (end.Acknowledged - start.Acknowledged) / (end.At - start.At).TotalSeconds;
            if (end.FailedAttempts == start.FailedAttempts && end.Acknowledged > start.Acknowledged && rate >= baselineRate / 2)
                return start.At;
        }
        return null;
    }

    /// <summary>The last sample taken at or before <paramref name="moment"/>.</summary>
    private Sample At(TimeSpan moment) => _samples.LastOrDefault(s => s.At <= moment) ?? _samples[0];

    private sealed record Sample(TimeSpan At, int Acknowledged, int FailedAttempts);
}

/// <summary>
/// A delivery's way back from a fault: when acknowledgements flowed again, when the fault was over (no more failed
/// attempts after it), how many attempts failed meanwhile and when the last did. Null times: not before the end.
/// </summary>
public sealed record Recovery(TimeSpan Fault, TimeSpan? FlowingAgainAt, TimeSpan? OverAt, int FailedAttempts, TimeSpan? LastFailureAt)
{
    public TimeSpan? TimeToRecover => FlowingAgainAt - Fault;

    public override string ToString() =>
        $"acknowledgements flowing again after {Seconds(FlowingAgainAt)}, {FailedAttempts} failed attempts" +
        (LastFailureAt is { } last ? $", the last {Seconds(last)} after the fault, steady from {Seconds(OverAt)}" : "");

    private string Seconds(TimeSpan? moment) => moment is { } at ? $"{(at - Fault).TotalSeconds:0.0} s" : "never";
}
