using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.RateLimiting;
using Polly.Retry;
using Polly.Timeout;

namespace DirectorySync.WorkOS;

public static class WorkOSApiServices
{
    /// <summary>A <c>Retry-After</c> longer than this is not waited out in one call (the official SDKs cap it the same).</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>Added to what <c>Retry-After</c> asks, so an early timer still waits it out.</summary>
    private static readonly TimeSpan RetryAfterMargin = TimeSpan.FromMilliseconds(20);

    /// <summary>A page of 100 users with their attributes is well under a megabyte; anything near this is not a page.</summary>
    private const long MaxResponseBytes = 64L * 1024 * 1024;

    /// <summary>
    /// Registers <see cref="WorkOSOptions"/> (validated now: a bad setting stops the start with its name), the rate limits,
    /// and <see cref="WorkOSClient"/> as a typed HttpClient whose every request goes through, outermost first: the call's
    /// overall timeout, retries (408, 429, 5xx, transport failures and timed-out tries), the rate limits, and the try's
    /// own timeout. Registered with or without a key; callers check <see cref="WorkOSOptions.IsConfigured"/>.
    /// </summary>
    public static IServiceCollection AddWorkOSApi(this IServiceCollection services, IConfiguration configuration)
    {
        var options = WorkOSOptions.From(configuration);
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WorkOSRateLimits>();
        services.AddHttpClient<WorkOSClient>(http =>
            {
                http.BaseAddress = options.BaseUrl;
                // The pipeline times each try and the whole call; HttpClient's own 100 s would cut across both.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.MaxResponseContentBufferSize = MaxResponseBytes;
            })
            // The factory's own request logs go: at Trace they hand a sink every header, the API key included, as a
            // structured value (only their text is redacted). The pipeline's telemetry still logs each try and retry.
            .RemoveAllLoggers()
            .AddResilienceHandler("workos", (pipeline, context) =>
            {
                var clock = context.ServiceProvider.GetRequiredService<TimeProvider>();
                var limits = context.ServiceProvider.GetRequiredService<WorkOSRateLimits>();
                pipeline
                    .AddTimeout(options.RequestTimeout)
                    .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                    {
                        MaxRetryAttempts = options.MaxAttempts - 1,
                        ShouldHandle = args => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                        DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                            RetryDelay(args.Outcome.Result?.Headers.RetryAfter, args.AttemptNumber, options, clock.GetUtcNow())),
                    })
                    .AddRateLimiter(new RateLimiterStrategyOptions
                    {
                        RateLimiter = args => limits.AcquireAsync(
                            args.Context.GetRequestMessage() ?? throw new InvalidOperationException("A WorkOS call without its request"),
                            args.Context.CancellationToken),
                    })
                    .AddTimeout(options.AttemptTimeout);
            });
        return services;
    }

    /// <summary>
    /// How long to wait before retry <paramref name="attempt"/> (0 for the first): what <c>Retry-After</c> asks (seconds or
    /// a date, at most <see cref="MaxRetryAfter"/>), else the base delay times 1.5 to the attempt, capped, minus up to a
    /// quarter at random so that clients refused together do not come back together.
    /// </summary>
    internal static TimeSpan RetryDelay(RetryConditionHeaderValue? retryAfter, int attempt, WorkOSOptions options, DateTimeOffset now)
    {
        if ((retryAfter?.Delta ?? retryAfter?.Date - now) is { } asked)
        {
            // A timer can fire early by about a tick of the system's timer (a millisecond or two here, 15.6 ms on Windows;
            // CI saw 1.2 ms past a 1 ms margin): the retry must not come back before the server asked.
            var rounded = TimeSpan.FromMilliseconds(Math.Ceiling(asked.TotalMilliseconds) + RetryAfterMargin.TotalMilliseconds);
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > MaxRetryAfter ? MaxRetryAfter : rounded;
        }

        var backoff = options.RetryBaseDelay * Math.Pow(1.5, attempt);
        var capped = backoff < options.RetryMaxDelay ? backoff : options.RetryMaxDelay;
        return capped * (1 - (Random.Shared.NextDouble() / 4));
    }
}
