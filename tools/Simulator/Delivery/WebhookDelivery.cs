using System.Diagnostics;
using System.Net;

namespace DirectorySync.Simulator.Delivery;

/// <summary>
/// Plays WorkOS's webhook sender: signs each body at send time, POSTs it with a fixed number of requests in flight,
/// and retries any non-2xx answer, transport error or timeout with exponential backoff (re-signing each attempt)
/// until it is acknowledged or out of attempts. With several endpoints, senders are spread over them and fail over to
/// the next one when theirs cannot be reached. Reuse one instance for several deliveries to keep its connections.
/// </summary>
public sealed class WebhookDelivery : IDisposable
{
    private readonly WebhookDeliveryOptions _options;
    // The bare handler pipeline: HttpClient would add a linked cancellation source and timer per request.
    private readonly HttpMessageInvoker _client;
    private readonly Uri[] _endpoints;

    public WebhookDelivery(WebhookDeliveryOptions options)
    {
        options.Validate();
        _options = options;
        _endpoints = [options.Endpoint, .. options.AlternateEndpoints];
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            ConnectTimeout = options.RequestTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        _client = new HttpMessageInvoker(handler);
    }

    /// <summary>Delivers <paramref name="events"/> with a client made for the purpose and disposed afterwards.</summary>
    public static async Task<DeliveryReport> DeliverAsync(
        IReadOnlyList<WebhookEvent> events,
        WebhookDeliveryOptions options,
        IProgress<DeliveryProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var delivery = new WebhookDelivery(options);
        return await delivery.DeliverAsync(events, progress, cancellationToken);
    }

    /// <summary>Sends every event (and the scheduled duplicates) and returns once each is acknowledged or failed.</summary>
    public async Task<DeliveryReport> DeliverAsync(
        IReadOnlyList<WebhookEvent> events,
        IProgress<DeliveryProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var run = new DeliveryRun(
            events,
            DeliverySchedule.Build(events.Count, _options.Order, _options.DuplicateFraction, _options.Seed),
            _options.RatePerSecond is { } rate ? new RequestPacer(rate) : null,
            _options.Window);
        using var stopReporting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reporting = progress is null ? Task.CompletedTask : ReportProgressAsync(run, progress, stopReporting.Token);

        var senders = Enumerable.Range(0, Math.Min(_options.Concurrency, Math.Max(1, run.Schedule.Length)))
            .Select(sender => Task.Run(() => SendScheduledAsync(run, sender, cancellationToken), cancellationToken));
        try
        {
            await Task.WhenAll(senders);
        }
        finally
        {
            await stopReporting.CancelAsync();
            await reporting;
        }
        progress?.Report(run.Progress());
        return run.Report();
    }

    /// <summary>One of the senders: takes the next scheduled request until none are left.</summary>
    private async Task SendScheduledAsync(DeliveryRun run, int sender, CancellationToken cancellationToken)
    {
        using var signature = new WebhookSignature(_options.Secret);
        using var attemptTimeout = new AttemptTimeout(_options.RequestTimeout, cancellationToken);
        var endpoint = new EndpointCursor(_endpoints, sender);
        int slot;
        while ((slot = run.TakeNextSlot()) >= 0)
        {
            await SendWithRetriesAsync(run, slot, signature, attemptTimeout, endpoint, cancellationToken);
        }
    }

    private async Task SendWithRetriesAsync(
        DeliveryRun run, int slot, WebhookSignature signature, AttemptTimeout attemptTimeout, EndpointCursor endpoint,
        CancellationToken cancellationToken)
    {
        var webhook = run.Events[run.Schedule[slot]];
        var backoff = _options.InitialBackoff;
        for (var attempt = 1; ; attempt++)
        {
            if (run.Pacer is not null) await run.Pacer.WaitTurnAsync(cancellationToken);
            var started = Stopwatch.GetTimestamp();
            string error;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Current)
                {
                    Version = HttpVersion.Version11,
                    VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                    Content = new ReadOnlyMemoryContent(webhook.Body),
                };
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                request.Headers.TryAddWithoutValidation(
                    WebhookSignature.HeaderName,
                    signature.HeaderValue(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), webhook.Body.Span));
                // The status line is the answer; disposing the response lets the handler drain it and reuse the connection.
                using var response = await _client.SendAsync(request, attemptTimeout.Start());
                if (response.IsSuccessStatusCode)
                {
                    run.Acknowledged(slot, Stopwatch.GetTimestamp() - started);
                    return;
                }
                error = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested
                && exception is HttpRequestException or OperationCanceledException or IOException)
            {
                error = exception is OperationCanceledException
                    ? $"no response within {_options.RequestTimeout.TotalSeconds:0.#} s"
                    : exception.Message;
                // Unreachable or silent, unlike an HTTP answer: the next attempt goes to another address.
                endpoint.MoveNext();
            }
            finally
            {
                attemptTimeout.Stop();
            }

            if (attempt >= _options.MaxAttempts)
            {
                run.Failed(new DeliveryFailure(webhook.Id, webhook.Type, attempt, error));
                return;
            }
            run.Retrying();
            await Task.Delay(Jittered(backoff), cancellationToken);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
        }
    }

    // Jitter keeps a burst of failures from retrying in lockstep.
    private static TimeSpan Jittered(TimeSpan backoff) => backoff * (0.8 + Random.Shared.NextDouble() * 0.4);

    private async Task ReportProgressAsync(DeliveryRun run, IProgress<DeliveryProgress> progress, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.ProgressInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                progress.Report(run.Progress());
            }
        }
        catch (OperationCanceledException)
        {
            // Delivery is over (or was cancelled): the caller reports the final state.
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// One sender's per-attempt timeout, also cancelled with the delivery. The source is reset and reused between
    /// attempts instead of allocating a linked source and a timer for every request.
    /// </summary>
    private sealed class AttemptTimeout(TimeSpan timeout, CancellationToken deliveryCancelled) : IDisposable
    {
        private CancellationTokenSource _source = CancellationTokenSource.CreateLinkedTokenSource(deliveryCancelled);

        public CancellationToken Start()
        {
            _source.CancelAfter(timeout);
            return _source.Token;
        }

        public void Stop()
        {
            // A source that fired (timed out) cannot be reset: replace it.
            if (!_source.TryReset())
            {
                _source.Dispose();
                _source = CancellationTokenSource.CreateLinkedTokenSource(deliveryCancelled);
            }
        }

        public void Dispose() => _source.Dispose();
    }

    /// <summary>One sender's current endpoint: starts at the sender's share of the list, moves on when unreachable.</summary>
    private sealed class EndpointCursor(Uri[] endpoints, int sender)
    {
        private int _index = sender % endpoints.Length;

        public Uri Current => endpoints[_index];

        public void MoveNext() => _index = (_index + 1) % endpoints.Length;
    }

    /// <summary>The shared state of one delivery: a cursor into the schedule, the counters and the pacing, if any.</summary>
    private sealed class DeliveryRun(IReadOnlyList<WebhookEvent> events, int[] schedule, RequestPacer? pacer, TimeSpan? window)
    {
        private readonly long _startedAt = Stopwatch.GetTimestamp();
        // Latency of the acknowledged attempt per slot; -1 until (unless) acknowledged.
        private readonly long[] _latencies = Enumerable.Repeat(-1L, schedule.Length).ToArray();
        // When each slot was acknowledged, in ticks since the start.
        private readonly long[] _acknowledgedAt = new long[schedule.Length];
        private readonly System.Collections.Concurrent.ConcurrentQueue<DeliveryFailure> _failures = new();
        private int _nextSlot = -1;
        private int _acknowledged;
        private int _failed;
        private int _retries;

        public IReadOnlyList<WebhookEvent> Events { get; } = events;
        public int[] Schedule { get; } = schedule;
        public RequestPacer? Pacer { get; } = pacer;

        public int TakeNextSlot()
        {
            var slot = Interlocked.Increment(ref _nextSlot);
            return slot < Schedule.Length ? slot : -1;
        }

        public void Acknowledged(int slot, long latencyTicks)
        {
            _latencies[slot] = latencyTicks;
            _acknowledgedAt[slot] = Stopwatch.GetTimestamp() - _startedAt;
            Interlocked.Increment(ref _acknowledged);
        }

        public void Failed(DeliveryFailure failure)
        {
            _failures.Enqueue(failure);
            Interlocked.Increment(ref _failed);
        }

        public void Retrying() => Interlocked.Increment(ref _retries);

        public DeliveryProgress Progress() => new(
            Volatile.Read(ref _acknowledged), Volatile.Read(ref _failed), Schedule.Length, Volatile.Read(ref _retries),
            Stopwatch.GetElapsedTime(_startedAt));

        public DeliveryReport Report()
        {
            var duration = Stopwatch.GetElapsedTime(_startedAt);
            return new(
                Events.Count,
                Schedule.Length,
                _acknowledged,
                _retries,
                _failures.ToArray(),
                duration,
                LatencySummary.From(_latencies.Where(ticks => ticks >= 0).ToArray()),
                window is { } width ? Windows(width, duration) : []);
        }

        /// <summary>Acknowledgements grouped by the window they came in; windows without any are left out.</summary>
        private List<DeliveryWindow> Windows(TimeSpan width, TimeSpan duration)
        {
            var widthTicks = (long)(width.TotalSeconds * Stopwatch.Frequency);
            return Enumerable.Range(0, Schedule.Length)
                .Where(slot => _latencies[slot] >= 0)
                .GroupBy(slot => _acknowledgedAt[slot] / widthTicks)
                .OrderBy(group => group.Key)
                .Select(group =>
                {
                    var start = width * group.Key;
                    var length = duration - start < width ? duration - start : width;
                    return new DeliveryWindow(start, length, group.Count(), LatencySummary.From(group.Select(slot => _latencies[slot]).ToArray()));
                })
                .ToList();
        }
    }
}
