namespace DirectorySync.Feed;

/// <summary>Configuration section <c>ChangeFeed</c>: retention, outbound webhook endpoints and their delivery.</summary>
public sealed class ChangeFeedOptions
{
    public const string Section = "ChangeFeed";

    /// <summary>How long entries are kept; a reader resuming from before that is answered 410.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Most entries in one outbound webhook.</summary>
    public int MaxBatch { get; set; } = 500;

    /// <summary>
    /// How long an endpoint's lane waits for more entries before it sends a batch that is not full (0: at once). During
    /// a burst it fills batches (an initial sync at 3,000 events/s goes in batches of <see cref="MaxBatch"/>, not of the
    /// few dozen that came in since the last message); a single change waits this much longer.
    /// </summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a long-poll and each endpoint's delivery look for new entries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long an endpoint may take to answer before the attempt counts as failed.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Batches of different directories one endpoint receives at once (each directory's stay one at a time).</summary>
    public int MaxConcurrentDeliveries { get; set; } = 4;

    /// <summary>Multiplies every wait of the retry schedule (tests make it small; 1 in production).</summary>
    public double RetryScale { get; set; } = 1;

    /// <summary>Outbound webhook endpoints by name (<c>ChangeFeed__Endpoints__&lt;name&gt;__Url</c>; a number is a name too).</summary>
    public Dictionary<string, WebhookEndpointOptions> Endpoints { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Standard Webhooks' schedule (FACTS §10): a failed batch is tried again after each of these waits in turn, about
    /// three days in all; then it is kept as a failure and the next one is sent.
    /// </summary>
    public static readonly IReadOnlyList<TimeSpan> RetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24),
    ];

    /// <summary>Why these options cannot run, or null.</summary>
    public string? Problem()
    {
        if (Retention <= TimeSpan.Zero) return "ChangeFeed__Retention must be positive";
        if (MaxBatch is < 1 or > 10_000) return "ChangeFeed__MaxBatch must be from 1 to 10000";
        if (PollInterval <= TimeSpan.Zero || RequestTimeout <= TimeSpan.Zero) return "ChangeFeed__PollInterval and ChangeFeed__RequestTimeout must be positive";
        if (BatchDelay < TimeSpan.Zero || BatchDelay > TimeSpan.FromMinutes(1)) return "ChangeFeed__BatchDelay must be from 0 to 00:01:00";
        if (MaxConcurrentDeliveries < 1) return "ChangeFeed__MaxConcurrentDeliveries must be at least 1";
        if (RetryScale <= 0) return "ChangeFeed__RetryScale must be positive";
        foreach (var (name, endpoint) in Endpoints)
        {
            if (!Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
                return $"ChangeFeed__Endpoints__{name}__Url must be an http(s) URL, not '{endpoint.Url}'";
            if (!WebhookSecret.TryParse(endpoint.Secret, out _))
                return $"ChangeFeed__Endpoints__{name}__Secret must be a Standard Webhooks secret: whsec_ followed by base64 of at least 24 bytes";
        }
        return null;
    }
}

/// <summary>One outbound webhook endpoint.</summary>
public sealed class WebhookEndpointOptions
{
    public string Url { get; set; } = "";

    /// <summary><c>whsec_</c> and the base64 of the signing key, as Standard Webhooks writes it. Never logged.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Comma-separated directory ids this endpoint hears about; empty: every directory.</summary>
    public string? Directories { get; set; }

    public IReadOnlySet<string>? DirectoryFilter =>
        string.IsNullOrWhiteSpace(Directories)
            ? null
            : Directories.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
}
