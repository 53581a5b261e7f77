namespace DirectorySync.Grains;

/// <summary>
/// An outbound endpoint's delivery progress, persisted as grain state (<see cref="Storage.GrainStorage.Name"/>). Positions are kept as the feed
/// writes them (<see cref="Feed.FeedPosition"/> text).
/// </summary>
[GenerateSerializer]
public sealed class WebhookEndpointState
{
    /// <summary>Every directory with entries of transactions below this id has a lane: the next look for new directories starts here.</summary>
    [Id(0)] public long ScannedBelow { get; set; }

    [Id(1)] public Dictionary<string, DeliveryLane> Lanes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Set when the endpoint answered 410: nothing is sent until a replay.</summary>
    [Id(2)] public string? DisabledReason { get; set; }

    /// <summary>Batches given up on, newest last (at most <see cref="WebhookEndpointGrain.MaxFailuresKept"/>).</summary>
    [Id(3)] public List<DeliveryFailure> Failures { get; set; } = [];
}

/// <summary>
/// One directory's delivery: acknowledged through <see cref="Delivered"/>; the batch after it through
/// <see cref="InFlight"/> is fixed once first sent, so every retry is the same message.
/// </summary>
[GenerateSerializer]
public sealed class DeliveryLane
{
    [Id(0)] public string Delivered { get; set; } = Feed.FeedPosition.Start.ToString();

    [Id(1)] public string? InFlight { get; set; }

    [Id(2)] public int Attempts { get; set; }

    [Id(3)] public DateTimeOffset? NextAttemptAt { get; set; }

    [Id(4)] public string? LastError { get; set; }
}
