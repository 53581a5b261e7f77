namespace DirectorySync.UnitTests;

/// <summary>Reads the copies of the shared WorkOS examples that the build puts beside the test assembly.</summary>
internal static class Fixture
{
    public static byte[] Bytes(string relativePath) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", relativePath));

    public static IEnumerable<string> EventExamples() =>
        Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "events"), "*.json")
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal);
}

/// <summary>A clock that reads one fixed instant, so years-old signature vectors can be checked as if just sent.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public static FixedClock AtUnixMs(long unixMs) => new(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));

    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>A clock a test moves by hand.</summary>
internal sealed class SteppedClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;
}
