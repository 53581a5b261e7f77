using System.Text;
using DirectorySync.Events;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class EventVersionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Event_ids_at_the_same_time_are_ordered_as_their_utf8_bytes()
    {
        // U+FFFD sorts before U+1F600 in UTF-8 (and in Postgres's "C" collation), after its surrogates in UTF-16.
        var replacement = new EventVersion(T0, "event_\uFFFD");
        var emoji = new EventVersion(T0, "event_\U0001F600");
        Assert.True(emoji > replacement);
        Assert.True(replacement < emoji);
    }

    [Fact]
    public void Comparison_agrees_with_utf8_byte_order_on_random_ids()
    {
        var random = new Random(105);
        char[] alphabet = ['a', 'Z', '0', '_', '\u00E9', '\u4E2D', '\uE000', '\uFFFD', '\uD83D', '\uDE00', '\uD800', '\uDC00'];
        for (var i = 0; i < 20_000; i++)
        {
            var a = Id(random, alphabet);
            var b = Id(random, alphabet);
            var expected = Math.Sign(Utf8Order(a, b));
            Assert.Equal(expected, Math.Sign(new EventVersion(T0, a).CompareTo(new EventVersion(T0, b))));
        }
    }

    /// <summary>Well-formed ids only (a surrogate pair stays a pair), as JSON strings decode to.</summary>
    private static string Id(Random random, char[] alphabet)
    {
        var builder = new StringBuilder("event_");
        for (var n = random.Next(0, 4); n > 0; n--)
        {
            var c = alphabet[random.Next(alphabet.Length)];
            if (char.IsHighSurrogate(c)) builder.Append(c).Append('\uDE00');
            else if (!char.IsLowSurrogate(c)) builder.Append(c);
        }
        return builder.ToString();
    }

    private static int Utf8Order(string a, string b) => Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
}
