namespace DirectorySync.Events;

/// <summary>
/// The order of changes to one object: the event's <c>created_at</c>, ties broken by the event id in UTF-8 byte order,
/// the order Postgres's guards use (<c>COLLATE "C"</c>). WorkOS does not deliver in order, so every "which change wins"
/// question compares these.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct EventVersion(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string EventId) : IComparable<EventVersion>
{
    public int CompareTo(EventVersion other)
    {
        var byTime = At.CompareTo(other.At);
        return byTime != 0 ? byTime : CompareUtf8(EventId, other.EventId);
    }

    /// <summary>
    /// UTF-8 byte order (which is code point order) without encoding: UTF-16 order differs from it only where a
    /// surrogate (a code point above U+FFFF) meets a unit from U+E000 to U+FFFF, so those two ranges swap places.
    /// </summary>
    public static int CompareUtf8(string a, string b)
    {
        var length = Math.Min(a.Length, b.Length);
        for (var i = 0; i < length; i++)
        {
            if (a[i] != b[i]) return CodePointRank(a[i]).CompareTo(CodePointRank(b[i]));
        }
        return a.Length.CompareTo(b.Length);
    }

    private static int CodePointRank(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;

    public static bool operator <(EventVersion a, EventVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(EventVersion a, EventVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(EventVersion a, EventVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(EventVersion a, EventVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{At:O}/{EventId}";
}
