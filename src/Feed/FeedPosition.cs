using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace DirectorySync.Feed;

/// <summary>
/// Where an entry is in the change feed: the id of the transaction that wrote it and its place in that transaction
/// (sql/014). Written as 24 hexadecimal digits, so positions compare as strings in feed order; opaque to consumers.
/// </summary>
public readonly record struct FeedPosition(long Xact, int Ordinal) : IComparable<FeedPosition>
{
    public const int TextLength = 24;

    /// <summary>Before every entry.</summary>
    public static readonly FeedPosition Start = new(0, 0);

    public int CompareTo(FeedPosition other) =>
        Xact != other.Xact ? Xact.CompareTo(other.Xact) : Ordinal.CompareTo(other.Ordinal);

    public static bool operator <(FeedPosition a, FeedPosition b) => a.CompareTo(b) < 0;
    public static bool operator >(FeedPosition a, FeedPosition b) => a.CompareTo(b) > 0;
    public static bool operator <=(FeedPosition a, FeedPosition b) => a.CompareTo(b) <= 0;
    public static bool operator >=(FeedPosition a, FeedPosition b) => a.CompareTo(b) >= 0;

    public override string ToString() =>
        Xact.ToString("x16", CultureInfo.InvariantCulture) + Ordinal.ToString("x8", CultureInfo.InvariantCulture);

    public static bool TryParse([NotNullWhen(true)] string? text, out FeedPosition position)
    {
        position = default;
        // Digits and a-f only: the number parsers would also take upper case, which no position is written in.
        if (text is not { Length: TextLength } || !text.All(char.IsAsciiHexDigitLower)) return false;
        if (!long.TryParse(text.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var xact)
            || !int.TryParse(text.AsSpan(16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var ordinal)
            || xact < 0 || ordinal < 0)
            return false;
        position = new FeedPosition(xact, ordinal);
        return true;
    }
}
