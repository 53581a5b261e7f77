using DirectorySync.Feed;
using DirectorySync.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DirectorySync.Grains;

/// <summary>
/// One outbound webhook endpoint. A timer looks for directories with new entries in the change feed; each
/// directory has a lane that sends its entries in feed order, one batch (at most <c>ChangeFeed:MaxBatch</c>) in flight
/// at a time, and tries a failed batch again on the Standard Webhooks schedule (or when <c>Retry-After</c> says). A 410
/// disables the endpoint; a batch still failing after the whole schedule is kept as a failure and the lane moves on.
/// </summary>
/// <remarks>
/// Delivery only reads the feed table: an endpoint that is down, slow or hangs delays its own lanes and nothing else.
/// Lanes run as tasks of this activation, so only one turn touches the state at a time; state writes are serialized.
/// The reminder brings the endpoint back on another silo after a crash.
/// </remarks>
public sealed partial class WebhookEndpointGrain(
    [PersistentState("webhook-endpoint", GrainStorage.Name)] IPersistentState<WebhookEndpointState> state,
    ChangeFeed feed, WebhookSender sender, IOptions<ChangeFeedOptions> options, TimeProvider clock,
    ILogger<WebhookEndpointGrain> logger)
    : Grain, IWebhookEndpointGrain, IRemindable
{
    public const int MaxFailuresKept = 1000;
    private const string KeepAliveReminder = "keep-alive";

    private readonly ChangeFeedOptions _options = options.Value;
    private readonly SemaphoreSlim _saving = new(1, 1);
    private readonly Dictionary<string, Task> _lanes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _due = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private SemaphoreSlim _sending = new(1, 1);
    // Cancelled by a replay: every lane drops what it was doing and looks at its state again.
    private CancellationTokenSource _wake = new();
    private Uri? _url;
    private WebhookSecret? _secret;
    private IReadOnlySet<string>? _directories;
    // Where the next look for new entries starts (null: at the persisted ScannedBelow).
    private (long From, long[] InProgress)? _scan;

    private string Name => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_options.Endpoints.TryGetValue(Name, out var endpoint) && WebhookSecret.TryParse(endpoint.Secret, out var secret))
        {
            (_url, _secret, _directories) = (new Uri(endpoint.Url), secret, endpoint.DirectoryFilter);
            _sending = new SemaphoreSlim(_options.MaxConcurrentDeliveries);
            _due.UnionWith(state.State.Lanes.Keys);
            this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(TimeSpan.Zero, _options.PollInterval) { KeepAlive = true });
        }
        return Task.CompletedTask;
    }

    public async Task EnsureRunningAsync()
    {
        if (_url is not null)
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            return;
        }
        // Removed from the configuration: its state stays (configured again, it resumes), its reminder goes.
        LogNotConfigured(Name);
        if (await this.GetReminder(KeepAliveReminder) is { } reminder) await this.UnregisterReminder(reminder);
        DeactivateOnIdle();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => EnsureRunningAsync();

    public Task<WebhookEndpointStatus> StatusAsync() => Task.FromResult(Status());

    public async Task<WebhookEndpointStatus> ReplayAsync(string from)
    {
        if (!FeedPosition.TryParse(from, out var position)) throw new ArgumentException($"'{from}' is not a feed position.", nameof(from));
        foreach (var lane in state.State.Lanes.Values.Where(l => Position(l.Delivered) > position))
        {
            (lane.Delivered, lane.InFlight, lane.Attempts, lane.NextAttemptAt, lane.LastError) = (from, null, 0, null, null);
        }
        state.State.ScannedBelow = Math.Min(state.State.ScannedBelow, position.Xact);
        _scan = null;
        state.State.DisabledReason = null;
        state.State.Failures.RemoveAll(f => Position(f.Through) > position);
        await SaveAsync();
        LogReplay(Name, from);
        await _wake.CancelAsync();
        _wake = new CancellationTokenSource();
        _due.UnionWith(state.State.Lanes.Keys);
        return Status();
    }

    private WebhookEndpointStatus Status() => new(Name, _url is not null, state.State.DisabledReason,
        state.State.Lanes.OrderBy(l => l.Key, StringComparer.Ordinal)
            .Select(l => new DirectoryDeliveryStatus(l.Key, l.Value.Delivered, l.Value.InFlight, l.Value.Attempts, l.Value.NextAttemptAt, l.Value.LastError))
            .ToList(),
        state.State.Failures.ToList());

    /// <summary>
    /// Finds directories with new entries and starts the lanes that have something to do. The next look reads what
    /// became visible since (a directory's first entry may commit after a larger position of another); after a restart
    /// the first look starts at the persisted settled bound.
    /// </summary>
    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (state.State.DisabledReason is not null) return;
        var (from, inProgress) = _scan ?? (state.State.ScannedBelow, []);
        var scan = await feed.DirectoriesWithNewEntriesAsync(from, inProgress, cancellationToken);
        var added = false;
        foreach (var directory in scan.Directories.Where(d => _directories is null || _directories.Contains(d)))
        {
            added |= state.State.Lanes.TryAdd(directory, new DeliveryLane());
            _due.Add(directory);
        }
        state.State.ScannedBelow = Math.Max(state.State.ScannedBelow, scan.SettledBelow);
        _scan = (scan.NextFrom, scan.InProgress);
        // Only a new lane must be written before it is used; the scan bound can be found again.
        if (added) await SaveAsync();
        // A lane still finishing keeps its mark, so entries that came as it ended are not left waiting.
        foreach (var directory in _due.ToList())
        {
            if (_lanes.TryGetValue(directory, out var running) && !running.IsCompleted) continue;
            _lanes[directory] = DeliverAsync(directory);
            _due.Remove(directory);
        }
    }

    /// <summary>Sends one directory's entries until none is left, its batch waits for a retry, or the endpoint is disabled.</summary>
    private async Task DeliverAsync(string directory)
    {
        // A directory this endpoint no longer asks for (ChangeFeed__Endpoints__<name>__Directories) keeps its lane, idle.
        if (_directories is not null && !_directories.Contains(directory)) return;
        try
        {
            while (state.State.DisabledReason is null && state.State.Lanes.TryGetValue(directory, out var lane) && !_stopping.IsCancellationRequested)
            {
                var wake = _wake.Token;
                if (lane.NextAttemptAt is { } at && at > clock.GetUtcNow())
                {
                    await WaitAsync(at - clock.GetUtcNow(), wake);
                    continue;
                }
                var page = await feed.ReadAsync(Position(lane.Delivered), _options.MaxBatch, directory,
                    lane.InFlight is { } inFlight ? Position(inFlight) : null, _stopping.Token);
                if (wake.IsCancellationRequested) continue;
                if (page.Status != FeedStatus.Read)
                {
                    await SkipPurgedAsync(directory, lane, page);
                    continue;
                }
                if (page.Entries.Count == 0)
                {
                    if (lane.InFlight is null) return;
                    // Its batch was purged meanwhile (a batch failing for longer than the retention).
                    await GiveUpAsync(directory, lane, "its entries were purged (ChangeFeed__Retention) before they were delivered");
                    continue;
                }
                var batch = page.Entries;
                if (lane.InFlight is null)
                {
                    if (batch.Count < _options.MaxBatch && _options.BatchDelay > TimeSpan.Zero)
                    {
                        await WaitAsync(_options.BatchDelay, wake);
                        if (wake.IsCancellationRequested) continue;
                        batch = await WithNewerAsync(directory, batch);
                        // A replay meanwhile reset the lane: this batch is not its next one.
                        if (wake.IsCancellationRequested) continue;
                    }
                    lane.InFlight = batch[^1].Position.ToString();
                    await SaveAsync();
                }

                DeliveryResult result;
                await _sending.WaitAsync(_stopping.Token);
                try
                {
                    result = await sender.SendAsync(_url!, _secret!, batch, _stopping.Token);
                }
                finally
                {
                    _sending.Release();
                }
                if (wake.IsCancellationRequested) continue;
                await RecordAsync(directory, lane, batch[^1].Position, result);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Postgres away, most likely: the next tick starts the lane again.
            LogLaneFailed(e, Name, directory);
            _due.Add(directory);
        }
    }

    /// <summary>
    /// A batch that was not full, with the entries that came after it during <c>ChangeFeed__BatchDelay</c> (only those are
    /// read), so a burst goes out in full batches.
    /// </summary>
    private async Task<IReadOnlyList<FeedEntry>> WithNewerAsync(string directory, IReadOnlyList<FeedEntry> batch)
    {
        var newer = await feed.ReadAsync(batch[^1].Position, _options.MaxBatch - batch.Count, directory, cancellationToken: _stopping.Token);
        return newer.Status == FeedStatus.Read ? [.. batch, .. newer.Entries] : batch;
    }

    /// <param name="sentThrough">The last entry the message held: the lane moves to it, never past it (a batch read
    /// again for a retry ends before its in-flight mark when <c>ChangeFeed__MaxBatch</c> was lowered meanwhile).</param>
    private async Task RecordAsync(string directory, DeliveryLane lane, FeedPosition sentThrough, DeliveryResult result)
    {
        switch (result)
        {
            case DeliveryResult.Delivered:
                (lane.Delivered, lane.InFlight, lane.Attempts, lane.NextAttemptAt, lane.LastError) = (sentThrough.ToString(), null, 0, null, null);
                break;
            case DeliveryResult.Gone:
                state.State.DisabledReason = $"answered 410 Gone at {FeedEntry.Time(clock.GetUtcNow())}; replay to enable it again";
                LogDisabled(Name, directory);
                break;
            case DeliveryResult.Failed failed:
                lane.Attempts++;
                lane.LastError = failed.Error;
                if (lane.Attempts > ChangeFeedOptions.RetrySchedule.Count)
                {
                    await GiveUpAsync(directory, lane, failed.Error);
                    return;
                }
                var wait = failed.RetryAfter ?? ChangeFeedOptions.RetrySchedule[lane.Attempts - 1] * _options.RetryScale;
                lane.NextAttemptAt = clock.GetUtcNow() + wait;
                LogRetrying(Name, directory, lane.InFlight!, lane.Attempts, failed.Error, wait);
                break;
        }
        await SaveAsync();
    }

    /// <summary>Keeps the lane's batch as a failure (replayable while the feed keeps it) and moves on to the next.</summary>
    private async Task GiveUpAsync(string directory, DeliveryLane lane, string error)
    {
        Fail(new DeliveryFailure(directory, lane.Delivered, lane.InFlight!, lane.Attempts, error, clock.GetUtcNow()));
        (lane.Delivered, lane.InFlight, lane.Attempts, lane.NextAttemptAt, lane.LastError) = (lane.InFlight!, null, 0, null, null);
        await SaveAsync();
    }

    /// <summary>
    /// The lane's position is older than the retention. A lane that never delivered starts at what is kept; one that
    /// had, missed entries: that is kept as a failure.
    /// </summary>
    private async Task SkipPurgedAsync(string directory, DeliveryLane lane, FeedPage page)
    {
        if (page.Status == FeedStatus.Unknown) throw new InvalidOperationException($"Lane position {lane.Delivered} is ahead of the feed.");
        if (lane.Delivered != FeedPosition.Start.ToString() || lane.InFlight is not null)
        {
            Fail(new DeliveryFailure(directory, lane.Delivered, page.Horizon.ToString(), lane.Attempts,
                "entries were purged (ChangeFeed__Retention) before they were delivered", clock.GetUtcNow()));
        }
        (lane.Delivered, lane.InFlight, lane.Attempts, lane.NextAttemptAt, lane.LastError) = (page.Horizon.ToString(), null, 0, null, null);
        await SaveAsync();
    }

    private void Fail(DeliveryFailure failure)
    {
        LogGivenUp(Name, failure.DirectoryId, failure.After, failure.Through, failure.Attempts, failure.Error);
        state.State.Failures.Add(failure);
        if (state.State.Failures.Count > MaxFailuresKept) state.State.Failures.RemoveAt(0);
    }

    private static async Task WaitAsync(TimeSpan wait, CancellationToken wake)
    {
        try
        {
            await Task.Delay(wait, wake);
        }
        catch (OperationCanceledException) when (wake.IsCancellationRequested)
        {
        }
    }

    private async Task SaveAsync()
    {
        await _saving.WaitAsync();
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            _saving.Release();
        }
    }

    private static FeedPosition Position(string text) =>
        FeedPosition.TryParse(text, out var position) ? position : throw new InvalidOperationException($"'{text}' in the delivery state is not a feed position.");

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {Endpoint} is not configured (ChangeFeed__Endpoints__{Endpoint}__Url and __Secret): not delivering")]
    private partial void LogNotConfigured(string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {Endpoint}, directory {DirectoryId}: batch through {Through} failed ({Error}), attempt {Attempt}; next try in {Wait}")]
    private partial void LogRetrying(string endpoint, string directoryId, string through, int attempt, string error, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook endpoint {Endpoint}, directory {DirectoryId}: gave up on the entries after {After} through {Through} after {Attempts} attempt(s) ({Error}); kept as a failure, replay with POST /admin/webhooks/{Endpoint}/replay?from={After}")]
    private partial void LogGivenUp(string endpoint, string directoryId, string after, string through, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook endpoint {Endpoint} answered 410 Gone (directory {DirectoryId}): disabled until a replay")]
    private partial void LogDisabled(string endpoint, string directoryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook endpoint {Endpoint}: replaying every entry after {From}")]
    private partial void LogReplay(string endpoint, string from);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook endpoint {Endpoint}, directory {DirectoryId}: delivery stopped by a failure; resuming at the next look")]
    private partial void LogLaneFailed(Exception exception, string endpoint, string directoryId);
}
