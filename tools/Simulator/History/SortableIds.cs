namespace DirectorySync.Simulator.History;

/// <summary>
/// WorkOS-style identifiers: a prefix and a ULID (48-bit millisecond time, 80 random bits, Crockford base32), so ids
/// sort by creation time. The randomness comes from the history's seeded generator, which makes a history repeatable.
/// </summary>
internal sealed class SortableIds(Random random)
{
    private const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public string Next(string prefix, long unixMilliseconds)
    {
        Span<byte> entropy = stackalloc byte[10];
        random.NextBytes(entropy);
        Span<char> id = stackalloc char[prefix.Length + 26];
        prefix.CopyTo(id);
        var ulid = id[prefix.Length..];

        // Time: 48 bits in 10 characters (the first carries only 3 bits).
        var time = unixMilliseconds;
        for (var i = 9; i >= 0; i--)
        {
            ulid[i] = Crockford[(int)(time & 31)];
            time >>= 5;
        }

        // Randomness: 80 bits in 16 characters, 5 bits at a time, most significant first.
        var bitBuffer = 0;
        var bitCount = 0;
        var next = 0;
        for (var i = 10; i < 26; i++)
        {
            if (bitCount < 5)
            {
                bitBuffer = (bitBuffer << 8) | entropy[next++];
                bitCount += 8;
            }
            bitCount -= 5;
            ulid[i] = Crockford[(bitBuffer >> bitCount) & 31];
            bitBuffer &= (1 << bitCount) - 1;
        }
        return new string(id);
    }
}
