namespace DirectorySync.Simulator.Delivery;

/// <summary>In what order events go out.</summary>
public enum DeliveryOrder
{
    /// <summary>Generation order (with more than one request in flight, neighbours may still overtake each other).</summary>
    InOrder,
    /// <summary>A seeded random permutation: what WorkOS's lack of ordering can do at worst.</summary>
    Shuffled,
}

/// <summary>How to deliver: where, signed with what, how fast, in what order, and how to retry.</summary>
public sealed record WebhookDeliveryOptions
{
    public required Uri Endpoint { get; init; }
    /// <summary>
    /// The receiver's other addresses (more gateways behind WorkOS's one URL). Senders are spread over
    /// <see cref="Endpoint"/> and these; a sender that cannot reach its address (connection failure or no response in
    /// time) moves on to the next one, as a load balancer fails over.
    /// </summary>
    public IReadOnlyList<Uri> AlternateEndpoints { get; init; } = [];
    public required string Secret { get; init; }
    /// <summary>Requests in flight at once (and connections open).</summary>
    public int Concurrency { get; init; } = 32;
    /// <summary>Request starts per second (attempts, retries included) when set; otherwise as fast as the concurrency allows.</summary>
    public int? RatePerSecond { get; init; }
    public DeliveryOrder Order { get; init; } = DeliveryOrder.InOrder;
    /// <summary>Fraction of events (0..1) sent a second time at a random later position (anywhere, when shuffled).</summary>
    public double DuplicateFraction { get; init; }
    /// <summary>Seeds the shuffle and the choice and placement of duplicates.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Attempts per request before it counts as failed, the first one included.</summary>
    public int MaxAttempts { get; init; } = 8;
    /// <summary>Wait before the first retry; doubles each time up to <see cref="MaxBackoff"/>, with ±20% jitter.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>An attempt with no response by then counts as a transport failure (WorkOS publishes none; 30 s is usual).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How often progress is reported.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>When set, the report also breaks the acknowledgements down by when they came, in windows this long.</summary>
    public TimeSpan? Window { get; init; }

    internal void Validate()
    {
        if (Concurrency < 1) throw new ArgumentOutOfRangeException(nameof(Concurrency), Concurrency, "At least one.");
        if (RatePerSecond < 1) throw new ArgumentOutOfRangeException(nameof(RatePerSecond), RatePerSecond, "At least one, or none.");
        if (DuplicateFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(DuplicateFraction), DuplicateFraction, "Between 0 and 1.");
        if (Window <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Window), Window, "Longer than zero, or none.");
        if (MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "At least one.");
    }
}
