namespace DirectorySync.Events;

/// <summary>
/// The order of changes to one object: the event's <c>created_at</c>, ties broken by the event id.
/// WorkOS does not deliver in order, so every "which change wins" question compares these.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct EventVersion(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string EventId) : IComparable<EventVersion>
{
    public int CompareTo(EventVersion other)
    {
        var byTime = At.CompareTo(other.At);
        return byTime != 0 ? byTime : string.CompareOrdinal(EventId, other.EventId);
    }

    public static bool operator <(EventVersion a, EventVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(EventVersion a, EventVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(EventVersion a, EventVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(EventVersion a, EventVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{At:O}/{EventId}";
}
