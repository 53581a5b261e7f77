namespace DirectorySync.Simulator.Delivery;

/// <summary>
/// The order requests go out in, as indexes into the events: in order or shuffled, with a seeded fraction of events
/// sent twice. In order, a duplicate goes out at a random point after its original, like a redelivery.
/// </summary>
internal static class DeliverySchedule
{
    public static int[] Build(int eventCount, DeliveryOrder order, double duplicateFraction, int seed)
    {
        var random = new Random(seed);
        var duplicated = PickDistinct(eventCount, (int)Math.Round(eventCount * duplicateFraction), random);

        if (order == DeliveryOrder.Shuffled)
        {
            var shuffled = new int[eventCount + duplicated.Length];
            for (var i = 0; i < eventCount; i++) shuffled[i] = i;
            duplicated.CopyTo(shuffled, eventCount);
            random.Shuffle(shuffled);
            return shuffled;
        }

        // Originals sit at their own index; each duplicate gets a random key after its original's.
        var keys = new double[eventCount + duplicated.Length];
        var schedule = new int[keys.Length];
        for (var i = 0; i < eventCount; i++)
        {
            keys[i] = i;
            schedule[i] = i;
        }
        for (var d = 0; d < duplicated.Length; d++)
        {
            var original = duplicated[d];
            keys[eventCount + d] = original + 0.5 + random.NextDouble() * (eventCount - original - 1);
            schedule[eventCount + d] = original;
        }
        Array.Sort(keys, schedule);
        return schedule;
    }

    /// <summary><paramref name="count"/> distinct indexes below <paramref name="bound"/> (a partial Fisher-Yates).</summary>
    private static int[] PickDistinct(int bound, int count, Random random)
    {
        var indexes = new int[bound];
        for (var i = 0; i < bound; i++) indexes[i] = i;
        for (var i = 0; i < count; i++)
        {
            var j = random.Next(i, bound);
            (indexes[i], indexes[j]) = (indexes[j], indexes[i]);
        }
        return indexes[..count];
    }
}
