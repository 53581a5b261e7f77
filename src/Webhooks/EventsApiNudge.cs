namespace DirectorySync.Webhooks;

/// <summary>
/// A webhook says WorkOS has news: the Events API tail polls soon instead of at its next interval. At most one nudge a
/// second leaves this process (a burst of 10,000 webhooks is one), and it is one-way: the webhook never waits for it.
/// </summary>
internal static class EventsApiNudge
{
    private static long _lastTicks;

    public static void Nudge(IGrainFactory grains)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastTicks);
        if (now - last < 1000 || Interlocked.CompareExchange(ref _lastTicks, now, last) != last) return;
        _ = grains.GetGrain<IWorkOSSourceGrain>(0).NudgeAsync();
    }
}
