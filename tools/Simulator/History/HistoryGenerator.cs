using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.Mirror;

namespace DirectorySync.Simulator.History;

/// <summary>
/// Generates what WorkOS would send about a set of directories, and what the mirror must hold once it has all
/// been applied in order. Directories run side by side: each step moves a random unfinished directory on.
/// </summary>
public static class HistoryGenerator
{
    public static GeneratedHistory Generate(HistoryOptions options)
    {
        options.Validate();
        var random = new Random(options.Seed);
        var recorder = new HistoryRecorder(random, options.Generation, options.StartAt.ToUnixTimeMilliseconds(), options.EstimatedEvents);
        var directories = Enumerable.Range(0, options.Directories)
            .Select(index => new DirectorySimulation(index, options, random, recorder))
            .ToList();

        var unfinished = directories.ToList();
        while (unfinished.Count > 0)
        {
            var index = random.Next(unfinished.Count);
            if (!unfinished[index].Step())
            {
                unfinished[index] = unfinished[^1];
                unfinished.RemoveAt(unfinished.Count - 1);
            }
        }
        if (options.DeleteDirectoryAtEnd)
        {
            directories[^1].Delete();
        }

        return new GeneratedHistory(
            options,
            recorder.Events,
            directories.Select(d => d.Profile.Id).ToList(),
            recorder.MirrorChanges);
    }
}

/// <summary>A generated history: the events in the order they happened, and the mirror each policy must end with.</summary>
public sealed class GeneratedHistory
{
    private readonly IReadOnlyList<MirrorChange> _mirrorChanges;
    private readonly Lazy<MirrorSnapshot>[] _expected;

    internal GeneratedHistory(
        HistoryOptions options,
        IReadOnlyList<WebhookEvent> events,
        IReadOnlyList<string> directoryIds,
        IReadOnlyList<MirrorChange> mirrorChanges)
    {
        Options = options;
        Events = events;
        DirectoryIds = directoryIds;
        _mirrorChanges = mirrorChanges;
        _expected = [.. Enum.GetValues<InactivePolicy>().Select(policy => new Lazy<MirrorSnapshot>(() => Fold(policy)))];
    }

    public HistoryOptions Options { get; }

    /// <summary>Every event, in generation order: <c>created_at</c> strictly increasing.</summary>
    public IReadOnlyList<WebhookEvent> Events { get; }

    /// <summary>The WorkOS ids of every directory in the history, including one deleted at the end.</summary>
    public IReadOnlyList<string> DirectoryIds { get; }

    /// <summary>What the four mirror tables must hold after in-order delivery, under the given policy.</summary>
    public MirrorSnapshot Expected(InactivePolicy policy) => _expected[(int)policy].Value;

    private MirrorSnapshot Fold(InactivePolicy policy)
    {
        var mirror = new ExpectedMirror(policy);
        foreach (var change in _mirrorChanges)
        {
            change.ApplyTo(mirror);
        }
        return mirror.Snapshot();
    }
}
