using System.Diagnostics;
using DirectorySync.Events;
using DirectorySync.Storage;
using DirectorySync.Sync;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Concurrency;

namespace DirectorySync.Grains;

/// <summary>
/// A directory and everything in it. Events queue as they arrive; a flush takes every event waiting, decides each
/// against the index (<see cref="DirectoryIndex"/>, loaded at activation and after a failure), and writes the decisions in one
/// transaction (group commit). The next flush is decided and sent while one commits. A caller is answered when the
/// flush holding its event has committed.
/// </summary>
/// <remarks>
/// Reentrant, so events keep queueing while a flush is in Postgres; every turn still runs alone, so the index is only
/// ever touched by one turn at a time. A flush that fails drops the index (the next flush reloads it from Postgres);
/// its callers get the failure (the gateway answers 503 and WorkOS retries), except when Postgres refused an event's
/// content: then the events are applied one at a time and the one refused is dead-lettered.
/// </remarks>
[Reentrant]
public sealed partial class DirectoryGrain(
    DirectoryStore store, QueuedEvents queued, SyncActivity activity, IOptions<SyncOptions> options, ILogger<DirectoryGrain> logger)
    : Grain, IDirectoryGrain, IRemindable
{
    private const string CleanupReminder = "directory-cleanup";

    // Two: one committing while the next is decided and sent. More would only queue behind the fence's row lock.
    private const int MaxFlushesInFlight = 2;

    private readonly SyncOptions _options = options.Value;
    private readonly Queue<Flush> _inFlight = new();
    private List<Submission> _queue = [];
    private Task? _flushing;
    private DirectoryIndex? _index;
    private Task<DirectoryIndex>? _loading;
    private TaskCompletionSource? _arrival;
    private bool _reloadOwed;
    private bool _fenced;
    private bool _backfillAsked;
    private Flush? _finishing;
    private long _epoch;
    private long _flushes;
    private IGrainTimer? _cleanup;
    private int _chunks;

    private string DirectoryId => this.GetPrimaryKeyString();

    public Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent)
    {
        if (_fenced) throw Replaced();
        if ((_finishing ?? (_inFlight.TryPeek(out var next) ? next : null)) is { } oldest
            && Stopwatch.GetElapsedTime(oldest.Started) > _options.FlushStallLimit)
            throw new EventNotAcceptedException($"Directory {DirectoryId}: Postgres has not committed a flush for {_options.FlushStallLimit}; try again later.");
        if (!queued.TryAdd())
            throw new EventNotAcceptedException($"The silo has {queued.Limit} events waiting to be written; try again later.");
        var submission = new Submission(syncEvent);
        _queue.Add(submission);
        _arrival?.TrySetResult();
        if (_flushing is null || _flushing.IsCompleted) _flushing = FlushQueueAsync();
        return submission.Completion.Task;
    }

    public async Task<ApplyOutcome[]> ApplyManyAsync(IReadOnlyList<SyncEvent> items)
    {
        // One flush takes them all (they queue in this one turn), unless the silo's bound refuses some part way.
        var outcomes = new Task<ApplyOutcome>[items.Count];
        for (var i = 0; i < items.Count; i++) outcomes[i] = ApplyAsync(items[i]);
        return await Task.WhenAll(outcomes);
    }

    public async Task<DirectorySummary> SummaryAsync()
    {
        if (_fenced) throw Replaced();
        // Loading takes a new epoch, which would refuse a flush in Postgres: wait for the pipeline to empty first.
        while (_flushing is { IsCompleted: false } flushing) await flushing;
        if (_reloadOwed) (_index, _reloadOwed) = (null, false);
        var index = await IndexAsync();
        return new DirectorySummary(DirectoryId, index.IsShown, index.UserCount, index.GroupCount, index.MembershipCount, _epoch);
    }

    public Task ReloadAsync()
    {
        _reloadOwed = true;
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        StartCleanup();
        return Task.CompletedTask;
    }

    private async Task FlushQueueAsync()
    {
        while (_queue.Count > 0 || _inFlight.Count > 0)
        {
            // Decide the next batch while the one before it commits: the fence keeps their commits in order. A reload
            // (a new epoch) waits until nothing is in Postgres, or it would refuse the flush there.
            while (_queue.Count > 0 && _inFlight.Count < MaxFlushesInFlight && (_inFlight.Count == 0 || (_index is not null && !_reloadOwed)))
            {
                var batch = _queue;
                _queue = [];
                try
                {
                    _inFlight.Enqueue(await SendAsync(batch));
                }
                catch (Exception e)
                {
                    _index = null;
                    LogFlushFailed(e, DirectoryId, batch.Count);
                    Fail(batch, e);
                }
            }
            if (!_inFlight.TryPeek(out var oldest)) continue;
            if (_inFlight.Count < MaxFlushesInFlight && !oldest.Commit!.IsCompleted)
            {
                // Room for one more flush: wake for whichever comes first, this commit or new events.
                _arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                await Task.WhenAny(oldest.Commit, _arrival.Task);
                _arrival = null;
                if (!oldest.Commit.IsCompleted) continue;
            }
            _inFlight.Dequeue();
            _finishing = oldest;
            await FinishAsync(oldest);
            _finishing = null;
        }
    }

    /// <summary>Decides the batch's events in arrival order and sends their writes as one flush.</summary>
    private async Task<Flush> SendAsync(List<Submission> batch)
    {
        if (_fenced) throw Replaced();
        if (_reloadOwed && _inFlight.Count == 0) (_index, _reloadOwed) = (null, false);
        var index = await IndexAsync();
        var changes = new DirectoryChanges();
        var decided = new HashSet<string>(StringComparer.Ordinal);
        var outcomes = new ApplyOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i].Event;
            outcomes[i] = decided.Add(e.EventId) ? index.Apply(e, changes) : ApplyOutcome.Duplicate;
        }
        // Events of a directory this service never saw activated (it was connected before the service ran): ask WorkOS.
        if (index.IsUnknown && !_backfillAsked && batch.Any(s => !s.Event.IsSnapshot))
        {
            _backfillAsked = true;
            _ = GrainFactory.GetGrain<IReconcileGrain>(DirectoryId).BackfillIfMissingAsync("an event arrived for a directory the mirror lacks");
        }
        // Its place in the epoch's order is taken with the decisions, before anything else can run.
        var flush = new Flush(batch, outcomes, changes, _epoch, _flushes++, Stopwatch.GetTimestamp());
        // Registered before the delete is durable, so the cleanup it owes is finished whatever crashes next.
        if (changes.DirectoryDelete is not null)
            await this.RegisterOrUpdateReminder(CleanupReminder, _options.CleanupRetryPeriod, _options.CleanupRetryPeriod);
        flush.Commit = store.FlushAsync(DirectoryId, flush.Epoch, flush.Sequence, changes);
        return flush;
    }

    /// <summary>
    /// Answers a flush's callers once it committed. If it failed, the flushes sent after it are settled first (they
    /// fail on the fence, unless this one committed after all), then the index is read again from Postgres.
    /// </summary>
    private async Task FinishAsync(Flush flush)
    {
        var failure = await CommitAsync(flush, predecessorCommitted: true);
        if (failure is null) return;

        var redo = new List<Submission>();
        var committed = false;
        while (_inFlight.TryDequeue(out var next))
        {
            if (await CommitAsync(next, committed) is null) committed = true;
            else redo.AddRange(next.Batch);
        }
        _index = null;
        if (failure is PostgresException content && IsContentError(content))
        {
            LogIsolating(DirectoryId, flush.Batch.Count, content.SqlState, content.MessageText);
            foreach (var submission in flush.Batch) await FlushAloneAsync(submission);
            // Decided on top of what Postgres refused: decided again, on what it kept.
            _queue.InsertRange(0, redo);
            return;
        }
        if (failure is DirectoryFencedException)
        {
            // Another activation owns the directory now: this one must not load (that would fence the other) or write.
            LogFenced(DirectoryId, flush.Epoch);
            _fenced = true;
            Fail(_queue, failure);
            _queue = [];
            this.DeactivateOnIdle();
        }
        else LogFlushFailed(failure, DirectoryId, flush.Batch.Count);
        Fail(flush.Batch, failure);
        Fail(redo, failure);
    }

    /// <summary>Waits for a flush's commit and answers its callers; returns why it failed, or null.</summary>
    private async Task<Exception?> CommitAsync(Flush flush, bool predecessorCommitted)
    {
        HashSet<string> logged;
        try
        {
            logged = await flush.Commit!;
        }
        catch (FlushOutOfOrderException) when (predecessorCommitted)
        {
            // It reached Postgres before the flush sent ahead of it, which has committed since: the same writes again.
            flush.Commit = store.FlushAsync(DirectoryId, flush.Epoch, flush.Sequence, flush.Changes);
            return await CommitAsync(flush, predecessorCommitted: false);
        }
        catch (Exception e)
        {
            return e;
        }
        SyncMetrics.Flushed(flush.Batch.Count, Stopwatch.GetElapsedTime(flush.Started));
        for (var i = 0; i < flush.Batch.Count; i++)
        {
            // Decided as new but already in the event log: an earlier delivery was applied (or found stale) before.
            var e = flush.Batch[i].Event;
            var outcome = flush.Outcomes[i] != ApplyOutcome.Duplicate && !e.IsSnapshot && !logged.Contains(e.EventId)
                ? ApplyOutcome.Duplicate
                : flush.Outcomes[i];
            Complete(flush.Batch[i], outcome);
        }
        if (flush.Changes.DirectoryDelete is not null) StartCleanup();
        return null;
    }

    private async Task FlushAloneAsync(Submission submission)
    {
        Exception? failure;
        try
        {
            failure = await CommitAsync(await SendAsync([submission]), predecessorCommitted: false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        if (failure is null) return;
        _index = null;
        if (failure is PostgresException e2 && IsContentError(e2))
        {
            var s = submission.Event;
            if (s.IsSnapshot)
            {
                // A listed object Postgres refuses (it belongs to another directory, say): reported by the run, not logged as an event.
                LogSnapshotRefused(DirectoryId, ObjectKey.Of(s).Id, e2.SqlState, e2.MessageText);
                Complete(submission, ApplyOutcome.DeadLettered, counted: false);
                return;
            }
            try
            {
                await store.RecordDeadLetterAsync(new DeadLetter(s.EventId, s.EventType, ObjectKey.Of(s).Id, s.CreatedAt,
                    $"Postgres refused the event: {e2.SqlState} {e2.MessageText}", s.Payload));
                Complete(submission, ApplyOutcome.DeadLettered, counted: false);
                return;
            }
            catch (Exception recordFailure)
            {
                failure = recordFailure;
            }
        }
        Fail([submission], failure);
    }

    /// <summary>The index, loading it once for every caller waiting (a finished load is never reused: it may be stale).</summary>
    private Task<DirectoryIndex> IndexAsync()
    {
        if (_index is { } index) return Task.FromResult(index);
        if (_loading is null || _loading.IsCompleted) _loading = LoadAsync();
        return _loading;
    }

    private async Task<DirectoryIndex> LoadAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var loaded = await store.LoadAsync(DirectoryId);
        var elapsed = Stopwatch.GetElapsedTime(started);
        SyncMetrics.Loaded(elapsed);
        (_index, _epoch, _flushes) = (loaded.Index, loaded.Epoch, 0);
        LogLoaded(DirectoryId, loaded.Index.UserCount, loaded.Index.GroupCount, loaded.Index.MembershipCount,
            elapsed.TotalMilliseconds, loaded.Epoch);
        if (loaded.CleanupOwed) StartCleanup();
        return loaded.Index;
    }

    private EventNotAcceptedException Replaced() =>
        new EventNotAcceptedException($"Directory {DirectoryId}: this activation was replaced by a newer one; try again.");

    private void Complete(Submission submission, ApplyOutcome outcome, bool counted = true)
    {
        if (submission.Completion.Task.IsCompleted) return;
        // Counted before the caller hears: whoever reads the activity after the answer finds the event in it.
        if (!submission.Event.IsSnapshot)
        {
            if (counted) SyncMetrics.Count(outcome);
            activity.Record(outcome, Stopwatch.GetElapsedTime(submission.Received));
        }
        submission.Completion.SetResult(outcome);
        queued.Remove();
    }

    private void Fail(List<Submission> batch, Exception e)
    {
        foreach (var submission in batch)
        {
            if (submission.Completion.TrySetException(e)) queued.Remove();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Whatever is still waiting will not be written by this activation: its callers hear so (503, WorkOS retries).
        var unwritten = new EventNotAcceptedException($"Directory {DirectoryId}: its activation is going away ({reason.ReasonCode}); try again.");
        Fail(_queue, unwritten);
        foreach (var flush in _inFlight) Fail(flush.Batch, unwritten);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Class 22 (data exception), 23 (integrity) and 54 (a limit, such as an index entry too large): the event's content,
    /// not the database's health.
    /// </summary>
    private static bool IsContentError(PostgresException e) =>
        e.SqlState.StartsWith("22") || e.SqlState.StartsWith("23") || e.SqlState.StartsWith("54");

    /// <summary>
    /// One chunk per timer tick, each its own grain turn, so a silo shutting down can deactivate the grain between
    /// chunks; the reminder then resumes the work on another silo.
    /// </summary>
    private void StartCleanup() => _cleanup ??= this.RegisterGrainTimer(CleanUpChunkAsync,
        new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)) { KeepAlive = true });

    private async Task CleanUpChunkAsync(CancellationToken cancellationToken)
    {
        bool done;
        try
        {
            _chunks++;
            done = await store.CleanupDirectoryStepAsync(DirectoryId);
        }
        catch (Exception e)
        {
            // Postgres is away: stop hammering it; the reminder resumes the cleanup after CleanupRetryPeriod.
            LogCleanupPaused(e, DirectoryId, _options.CleanupRetryPeriod);
            StopCleanup();
            return;
        }
        if (!done) return;

        StopCleanup();
        if (await this.GetReminder(CleanupReminder) is { } reminder) await this.UnregisterReminder(reminder);
        LogCleanedUp(DirectoryId, _chunks);
        _chunks = 0;
    }

    private void StopCleanup()
    {
        _cleanup?.Dispose();
        _cleanup = null;
    }

    /// <summary>A batch sent to Postgres: what was decided, and the flush's place in its epoch's order.</summary>
    private sealed record Flush(
        List<Submission> Batch, ApplyOutcome[] Outcomes, DirectoryChanges Changes, long Epoch, long Sequence, long Started)
    {
        public Task<HashSet<string>>? Commit { get; set; }
    }

    private sealed record Submission(SyncEvent Event)
    {
        // Where its acknowledgement time (SyncActivity) starts.
        public long Received { get; } = Stopwatch.GetTimestamp();

        // Completed inline by the flush: the awaiting calls are turns of this same activation.
        public TaskCompletionSource<ApplyOutcome> Completion { get; } = new();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {DirectoryId} loaded: {Users} users, {Groups} groups, {Memberships} memberships in {Milliseconds:F0} ms (epoch {Epoch})")]
    private partial void LogLoaded(string directoryId, int users, int groups, int memberships, double milliseconds, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId}: Postgres refused a batch of {Count} events ({SqlState}: {Message}); applying them one by one")]
    private partial void LogIsolating(string directoryId, int count, string sqlState, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId}: Postgres refused listed object {ObjectId} ({SqlState}: {Message}); left out")]
    private partial void LogSnapshotRefused(string directoryId, string objectId, string sqlState, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Directory {DirectoryId}: writing a batch of {Count} events failed; their webhooks will be retried")]
    private partial void LogFlushFailed(Exception exception, string directoryId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId}: another activation took over (this one had epoch {Epoch}); deactivating")]
    private partial void LogFenced(string directoryId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId}: cleanup paused after a failure; resuming in {RetryPeriod}")]
    private partial void LogCleanupPaused(Exception exception, string directoryId, TimeSpan retryPeriod);

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {DirectoryId} deleted: cleanup finished in {Chunks} chunk(s)")]
    private partial void LogCleanedUp(string directoryId, int chunks);
}
