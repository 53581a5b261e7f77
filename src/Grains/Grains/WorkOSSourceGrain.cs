using System.Net;
using DirectorySync.Events;
using DirectorySync.Storage;
using DirectorySync.WorkOS;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace DirectorySync.Grains;

/// <summary>The Events API tail's cursor and the directory schedule, as grain state.</summary>
[GenerateSerializer]
public sealed class WorkOSSourceState
{
    /// <summary>The id of the last event applied: the next poll asks for what came after it.</summary>
    [Id(0)] public string? After { get; set; }
    [Id(1)] public DateTimeOffset? AfterCreatedAt { get; set; }
    /// <summary>Without a cursor (first start, or it was lost), the next poll starts at this time.</summary>
    [Id(2)] public DateTimeOffset? ResumeFrom { get; set; }
    [Id(3)] public DateTimeOffset? ReconciledAllAt { get; set; }
    [Id(4)] public DateTimeOffset? CaughtUpAt { get; set; }
    [Id(5)] public DateTimeOffset? LastPolledAt { get; set; }
    [Id(6)] public string? LastError { get; set; }
}

/// <summary>
/// The environment's link to WorkOS. At activation it lists WorkOS's directories and backfills those the mirror
/// lacks; every <c>WorkOS__ReconcileInterval</c> it starts a reconciliation of each; every
/// <c>WorkOS__EventsPollInterval</c> (and soon after a webhook) it reads the Events API from its cursor, applies each
/// page through the directories' grains (dedup by event id makes webhooks and the Events API one stream), and moves
/// the cursor only once the page is durable.
/// </summary>
[Reentrant]
public sealed partial class WorkOSSourceGrain(
    [PersistentState("workos-source", GrainStorage.Name)] IPersistentState<WorkOSSourceState> state,
    ReconcileStore store, WorkOSClient workos, WorkOSOptions options, IOptions<SyncOptions> syncOptions, ILogger<WorkOSSourceGrain> logger)
    : Grain, IWorkOSSourceGrain, IRemindable
{
    private const string KeepRunningReminder = "workos-source";
    private const int MaxPagesPerPoll = 50;
    private const int PageSize = 100;
    /// <summary>Design for 30 days of retention (FACTS §7): a cursor older than that cannot be resumed by time either.</summary>
    private static readonly TimeSpan EventsRetention = TimeSpan.FromDays(30);
    /// <summary>After a lost cursor, events from a little before it are read again (re-applying is harmless).</summary>
    private static readonly TimeSpan CursorOverlap = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan NudgeDebounce = TimeSpan.FromSeconds(1);

    private Task<int>? _poll;
    private bool _pollAgain;
    private Task? _listing;
    private bool _listedAtStart;
    private IGrainTimer? _pollTimer;
    private IGrainTimer? _nudgeTimer;

    private WorkOSSourceState Source => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!options.IsConfigured) return Task.CompletedTask;
        // First the directories (the backfill of those the mirror lacks starts), then the events.
        _listing = ListAtStartAsync();
        if (options.EventsPollInterval > TimeSpan.Zero)
            _pollTimer = this.RegisterGrainTimer(_ => PollAsync(),
                new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), options.EventsPollInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public async Task EnsureStartedAsync()
    {
        if (!options.IsConfigured) return;
        // Keeps the tail running on some silo, and retries a listing at start that failed (DirectorySync__CleanupRetryPeriod).
        var period = syncOptions.Value.CleanupRetryPeriod;
        await this.RegisterOrUpdateReminder(KeepRunningReminder, period, period);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_listing is { IsCompleted: false }) return;
        if (!_listedAtStart)
        {
            _listing = ListAtStartAsync();
            return;
        }
        if (options.ReconcileInterval <= TimeSpan.Zero) return;
        if (Source.ReconciledAllAt is { } last && DateTimeOffset.UtcNow - last < options.ReconcileInterval) return;
        await ReconcileAllAsync("every WorkOS__ReconcileInterval", onlyMissing: false);
    }

    public Task NudgeAsync()
    {
        if (!options.IsConfigured || options.EventsPollInterval <= TimeSpan.Zero) return Task.CompletedTask;
        if (_poll is { IsCompleted: false })
        {
            _pollAgain = true;
            return Task.CompletedTask;
        }
        // A burst of webhooks is one poll, a second after the first of them.
        _nudgeTimer ??= this.RegisterGrainTimer(async _ =>
        {
            _nudgeTimer?.Dispose();
            _nudgeTimer = null;
            await PollAsync();
        }, new GrainTimerCreationOptions(NudgeDebounce, Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    public Task<int> PollAsync()
    {
        if (!options.IsConfigured) throw new WorkOSNotConfiguredException();
        if (_poll is null || _poll.IsCompleted) _poll = PollUntilCaughtUpAsync();
        else _pollAgain = true;
        return _poll;
    }

    public Task<EventsCursor> CursorAsync() => Task.FromResult(new EventsCursor(
        Source.After, Source.AfterCreatedAt, Source.LastPolledAt, Source.CaughtUpAt, Source.LastError));

    public async Task<int> ReconcileAllAsync(string reason, bool onlyMissing)
    {
        if (!options.IsConfigured) throw new WorkOSNotConfiguredException();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var page in workos.ListAllDirectoriesAsync())
        {
            foreach (var item in page.Items)
            {
                if (item.Value is not { } directory)
                {
                    LogMalformedDirectory(item.Failure ?? "unreadable");
                    continue;
                }
                listed.Add(directory.Directory.Id);
                var grain = GrainFactory.GetGrain<IReconcileGrain>(directory.Directory.Id);
                if (onlyMissing) await grain.BackfillIfMissingAsync($"WorkOS lists it and the mirror lacks it ({reason})");
                else await grain.StartAsync(reason, force: false);
            }
        }
        foreach (var unlisted in (await store.MirrorDirectoriesAsync()).Where(d => !listed.Contains(d)))
            LogUnlistedDirectory(unlisted);
        if (!onlyMissing)
        {
            Source.ReconciledAllAt = DateTimeOffset.UtcNow;
            await state.WriteStateAsync();
        }
        LogListed(listed.Count, onlyMissing ? "backfilling those the mirror lacks" : $"reconciling each ({reason})");
        return listed.Count;
    }

    private async Task ListAtStartAsync()
    {
        try
        {
            await ReconcileAllAsync("start", onlyMissing: true);
            _listedAtStart = true;
        }
        catch (Exception e)
        {
            // WorkOS is away: the reminder lists them again shortly; webhooks keep working meanwhile.
            Source.LastError = e.Message;
            LogListingFailed(e.Message);
        }
    }

    private async Task<int> PollUntilCaughtUpAsync()
    {
        if (_listing is not null) await _listing;
        var applied = 0;
        do
        {
            _pollAgain = false;
            applied += await PollOnceAsync();
        } while (_pollAgain);
        return applied;
    }

    /// <summary>Reads pages until WorkOS has no more (or the per-poll bound); the cursor moves after each durable page.</summary>
    private async Task<int> PollOnceAsync()
    {
        var started = DateTimeOffset.UtcNow;
        var applied = 0;
        try
        {
            for (var pages = 0; pages < MaxPagesPerPoll; pages++)
            {
                if (Source.After is null && Source.ResumeFrom is null) Source.ResumeFrom = started - options.EventsLookback;
                var query = new EventsQuery { After = Source.After, RangeStart = Source.After is null ? Source.ResumeFrom : null, Limit = PageSize };
                WorkOSPage<WorkOSEvent> page;
                try
                {
                    page = await workos.ListEventsAsync(query);
                }
                catch (WorkOSApiException e) when (Source.After is not null && e.Status is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity)
                {
                    await RecoverLostCursorAsync(e);
                    continue;
                }
                applied += await ApplyAsync(page);
                if (page.Items.LastOrDefault(i => i.IsRead)?.Value is { } last)
                    (Source.After, Source.AfterCreatedAt, Source.ResumeFrom) = (last.Id, CreatedAt(last) ?? Source.AfterCreatedAt, null);
                Source.LastPolledAt = DateTimeOffset.UtcNow;
                Source.LastError = null;
                await state.WriteStateAsync();
                if (page.Items.Count < PageSize || page.After is null)
                {
                    Source.CaughtUpAt = started;
                    await state.WriteStateAsync();
                    SyncMetrics.EventsCaughtUp(started);
                    await store.ConfirmFreshAsync(null, started);
                    break;
                }
            }
        }
        catch (Exception e)
        {
            // The cursor stays at the last durable page; the next poll starts there.
            Source.LastError = e.Message;
            LogPollFailed(e.Message);
        }
        return applied;
    }

    /// <summary>
    /// WorkOS refused the cursor (expired or unknown): resume by time a little before it, and reconcile every directory,
    /// since events between may be gone; a cursor older than the retention can only be repaired by the reconciliation.
    /// </summary>
    private async Task RecoverLostCursorAsync(WorkOSApiException e)
    {
        var now = DateTimeOffset.UtcNow;
        var from = (Source.AfterCreatedAt ?? now) - CursorOverlap;
        var beyondRetention = from < now - EventsRetention;
        LogCursorLost(Source.After!, (int)e.Status!, beyondRetention ? "older than the retention: reading from now minus WorkOS__EventsLookback" : $"reading from {from:O}");
        (Source.After, Source.ResumeFrom) = (null, beyondRetention ? now - options.EventsLookback : from);
        await state.WriteStateAsync();
        await ReconcileAllAsync(beyondRetention ? "the Events API cursor was lost beyond the retention" : "the Events API cursor was lost", onlyMissing: false);
    }

    /// <summary>Applies a page's events, each directory's in order and directories side by side; returns once all are durable.</summary>
    private async Task<int> ApplyAsync(WorkOSPage<WorkOSEvent> page)
    {
        var byDirectory = new Dictionary<string, List<SyncEvent>>(StringComparer.Ordinal);
        foreach (var item in page.Items)
        {
            if (!item.IsRead)
            {
                // Kept as a signed webhook that is not an event would be: nothing WorkOS sent is lost.
                LogUnreadableEvent(null, item.Failure);
                await GrainFactory.GetGrain<IDeadLetterGrain>(0).RecordUnreadableAsync(
                    new UnreadableWebhook(System.Text.Encoding.UTF8.GetBytes(item.Json), $"Events API entry: {item.Failure}", DateTimeOffset.UtcNow));
                continue;
            }
            switch (item.Value.Parsed)
            {
                case ParsedWebhook.Applicable { Event: var e }:
                    if (!byDirectory.TryGetValue(e.DirectoryId, out var events)) byDirectory[e.DirectoryId] = events = [];
                    events.Add(e);
                    break;
                case ParsedWebhook.DeadLettered { Letter: var letter }:
                    await GrainFactory.GetGrain<IDeadLetterGrain>(0).RecordAsync(letter);
                    SyncMetrics.Polled(ApplyOutcome.DeadLettered);
                    break;
                case ParsedWebhook.NotAnEnvelope { Reason: var reason }:
                    LogUnreadableEvent(item.Value.Id, reason);
                    await GrainFactory.GetGrain<IDeadLetterGrain>(0).RecordUnreadableAsync(
                        new UnreadableWebhook(item.Value.Raw.ToArray(), $"Events API entry: {reason}", DateTimeOffset.UtcNow));
                    break;
            }
        }
        var outcomes = await Task.WhenAll(byDirectory.Select(d => GrainFactory.GetGrain<IDirectoryGrain>(d.Key).ApplyManyAsync(d.Value)));
        foreach (var outcome in outcomes.SelectMany(o => o)) SyncMetrics.Polled(outcome);
        var applied = outcomes.Sum(o => o.Count(x => x == ApplyOutcome.Applied));
        if (page.Items.Count > 0) LogPage(page.Items.Count, applied, page.Items[^1].Value?.Id);
        return applied;
    }

    private static DateTimeOffset? CreatedAt(WorkOSEvent e) => e.Parsed switch
    {
        ParsedWebhook.Applicable { Event: var applicable } => applicable.CreatedAt,
        ParsedWebhook.DeadLettered { Letter: var letter } => letter.CreatedAt,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Events API: {Count} events read, {Applied} applied (the rest were known already, stale or not applicable); up to {EventId}")]
    private partial void LogPage(int count, int applied, string? eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "WorkOS lists {Count} directories: {What}")]
    private partial void LogListed(int count, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listing WorkOS's directories failed (retried shortly; webhooks keep working): {Error}")]
    private partial void LogListingFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WorkOS listed a directory that could not be read: {Failure}")]
    private partial void LogMalformedDirectory(string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The mirror holds directory {DirectoryId}, which WorkOS no longer lists; only its dsync.deleted event removes it")]
    private partial void LogUnlistedDirectory(string directoryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling the Events API failed (the cursor stays at the last applied event): {Error}")]
    private partial void LogPollFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Events API refused cursor {Cursor} ({Status}): {Recovery}; reconciling every directory")]
    private partial void LogCursorLost(string cursor, int status, string recovery);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Events API entry {EventId} is not an event ({Reason}); skipped")]
    private partial void LogUnreadableEvent(string? eventId, string reason);
}
