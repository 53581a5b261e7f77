using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace DirectorySync.WorkOS;

/// <summary>How the events list is put in the query string: the spec joins it with commas, other clients repeat it.</summary>
public enum EventsQueryStyle
{
    /// <summary><c>events=a,b</c> (the API's spec).</summary>
    Comma,
    /// <summary><c>events=a&amp;events=b</c> (the Go SDK).</summary>
    Repeat,
    /// <summary><c>events[]=a&amp;events[]=b</c> (the .NET SDK, WorkOS's local emulator).</summary>
    Brackets,
}

/// <summary>
/// The WorkOS API settings (section <c>WorkOS</c>; the key also from <c>WORKOS_API_KEY</c>). Without a key the service
/// runs on webhooks alone. The key is internal so that the record's <c>ToString</c>, and so any log of the options,
/// leaves it out.
/// </summary>
public sealed record WorkOSOptions
{
    public const string Section = "WorkOS";

    internal string? ApiKey { get; init; }

    /// <summary>Whether an API key is set, and so whether the service can ask WorkOS (backfill, Events API, reconciliation).</summary>
    public bool IsConfigured => ApiKey is not null;

    public Uri BaseUrl { get; init; } = new("https://api.workos.com/");

    /// <summary>How often the Events API is polled; zero: not at all.</summary>
    public TimeSpan EventsPollInterval { get; init; } = TimeSpan.FromMinutes(1);

    public EventsQueryStyle EventsQueryStyle { get; init; } = EventsQueryStyle.Comma;

    /// <summary>How far back the first poll without a cursor starts.</summary>
    public TimeSpan EventsLookback { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How often every directory is reconciled against WorkOS; zero: only on demand.</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromHours(6);

    /// <summary>The most of a directory's rows a reconciliation deletes without an operator's go-ahead, in percent.</summary>
    public double MaxDeletionPercent { get; init; } = 10;

    /// <summary>Tries per call, the first included: 408, 429, 5xx and transport failures are tried again.</summary>
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The wait before the first retry; each next one waits half as long again, up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>How long one try may take, its wait for the rate limiter excluded.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a call may take with all its tries and waits (a <c>Retry-After</c> may ask for up to a minute).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>WorkOS allows 6,000 requests a minute per API key.</summary>
    public int RequestsPerMinute { get; init; } = 6000;

    /// <summary>WorkOS allows 4 requests a second per directory on <c>/directory_users</c>.</summary>
    public int DirectoryUsersPerSecond { get; init; } = 4;

    public static WorkOSOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var options = new WorkOSOptions
        {
            ApiKey = ReadApiKey(string.IsNullOrWhiteSpace(section["ApiKey"]) ? configuration["WORKOS_API_KEY"] : section["ApiKey"]),
            BaseUrl = ReadBaseUrl(section["BaseUrl"]),
            EventsPollInterval = Duration(
                section, "EventsPollInterval", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), zeroTurnsOff: true),
            EventsQueryStyle = ReadQueryStyle(section["EventsQueryStyle"]),
            EventsLookback = Duration(section, "EventsLookback", TimeSpan.FromHours(1), TimeSpan.Zero, TimeSpan.FromDays(30)),
            ReconcileInterval = Duration(
                section, "ReconcileInterval", TimeSpan.FromHours(6), TimeSpan.FromMinutes(1), TimeSpan.FromDays(30), zeroTurnsOff: true),
            MaxDeletionPercent = Percent(section, "MaxDeletionPercent", 10),
            MaxAttempts = Whole(section, "MaxAttempts", 6, 2, 20),
            RetryBaseDelay = Duration(section, "RetryBaseDelay", TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1)),
            RetryMaxDelay = Duration(section, "RetryMaxDelay", TimeSpan.FromSeconds(8), TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(5)),
            AttemptTimeout = Duration(section, "AttemptTimeout", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)),
            RequestTimeout = Duration(section, "RequestTimeout", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
            RequestsPerMinute = Whole(section, "RequestsPerMinute", 6000, 1, 1_000_000),
            DirectoryUsersPerSecond = Whole(section, "DirectoryUsersPerSecond", 4, 1, 1000),
        };
        if (options.RetryMaxDelay < options.RetryBaseDelay)
            throw new InvalidOperationException(
                $"Setting WorkOS__RetryMaxDelay ({options.RetryMaxDelay}) must not be shorter than WorkOS__RetryBaseDelay ({options.RetryBaseDelay}).");
        if (options.RequestTimeout < options.AttemptTimeout)
            throw new InvalidOperationException(
                $"Setting WorkOS__RequestTimeout ({options.RequestTimeout}) must not be shorter than WorkOS__AttemptTimeout ({options.AttemptTimeout}).");
        return options;
    }

    /// <summary>The key goes into a header: refused if a header cannot carry it, in words that never repeat it.</summary>
    private static string? ReadApiKey(string? value)
    {
        var key = value?.Trim();
        if (string.IsNullOrEmpty(key)) return null;
        return key.All(c => c is > ' ' and < '\u007f')
            ? key
            : throw new InvalidOperationException(
                "Setting WorkOS__ApiKey (or WORKOS_API_KEY) holds a space, a control or a non-ASCII character: give the secret key from the WorkOS dashboard as it is shown there.");
    }

    private static Uri ReadBaseUrl(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return new("https://api.workos.com/");
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http")
            || url.Query.Length > 0 || url.Fragment.Length > 0)
            throw new InvalidOperationException(
                $"Setting WorkOS__BaseUrl must be an http or https URL without a query, such as https://api.workos.com, not '{value}'.");
        // A base with a path (a proxy's prefix) keeps it only if it ends in a slash: request paths are relative to it.
        return url.AbsolutePath.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
    }

    private static EventsQueryStyle ReadQueryStyle(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "comma" => EventsQueryStyle.Comma,
        "repeat" => EventsQueryStyle.Repeat,
        "brackets" => EventsQueryStyle.Brackets,
        _ => throw new InvalidOperationException(
            $"Setting WorkOS__EventsQueryStyle must be comma (events=a,b), repeat (events=a&events=b) or brackets (events[]=a&events[]=b), not '{value}'."),
    };

    private static TimeSpan Duration(
        IConfigurationSection section, string key, TimeSpan defaultValue, TimeSpan min, TimeSpan max, bool zeroTurnsOff = false)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value)) return defaultValue;
        // "0" reads as zero days; a bare "60" would read as 60 days, which the upper bounds catch.
        if (TimeSpan.TryParse(value.Trim(), CultureInfo.InvariantCulture, out var duration)
            && ((zeroTurnsOff && duration == TimeSpan.Zero) || (duration >= min && duration <= max)))
            return duration;
        throw new InvalidOperationException(
            $"Setting WorkOS__{key} must be a duration (hh:mm:ss, or d.hh:mm:ss) from {min} to {max}{(zeroTurnsOff ? ", or 0 to turn it off" : "")}, not '{value}'.");
    }

    private static int Whole(IConfigurationSection section, string key, int defaultValue, int min, int max)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value)) return defaultValue;
        return int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new InvalidOperationException($"Setting WorkOS__{key} must be a whole number from {min} to {max}, not '{value}'.");
    }

    private static double Percent(IConfigurationSection section, string key, double defaultValue)
    {
        var value = section[key];
        if (string.IsNullOrWhiteSpace(value)) return defaultValue;
        return double.TryParse(value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent) && percent <= 100
            ? percent
            : throw new InvalidOperationException($"Setting WorkOS__{key} must be a percentage from 0 to 100, not '{value}'.");
    }
}
