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
/// A directory and everything in it. Events queue as they arrive; one flush at a time takes every event waiting,
/// decides each against the index (<see cref="DirectoryIndex"/>, loaded once at activation), and writes the decisions
/// in one transaction (group commit). A caller is answered when the flush holding its event has committed.
/// </summary>
/// <remarks>
/// Reentrant, so events keep queueing while a flush is in Postgres; every turn still runs alone, so the index is only
/// ever touched by one turn at a time. A flush that fails drops the index (the next flush reloads it from Postgres);
/// its callers get the failure (the gateway answers 503 and WorkOS retries), except when Postgres refused an event's
/// content: then the events are applied one at a time and the one refused is dead-lettered.
/// </remarks>
[Reentrant]
public sealed partial class DirectoryGrain(
    DirectoryStore store, QueuedEvents queued, IOptions<SyncOptions> options, ILogger<DirectoryGrain> logger)
    : Grain, IDirectoryGrain, IRemindable
{
    private const string CleanupReminder = "directory-cleanup";

    private readonly SyncOptions _options = options.Value;
    private List<Submission> _queue = [];
    private Task? _flushing;
    private DirectoryIndex? _index;
    private long _epoch;
    private long _flushes;
    private IGrainTimer? _cleanup;
    private int _chunks;

    private string DirectoryId => this.GetPrimaryKeyString();

    public Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent)
    {
        if (!queued.TryAdd())
            throw new QueueFullException($"The silo has {queued.Limit} events waiting to be written; try again later.");
        var submission = new Submission(syncEvent);
        _queue.Add(submission);
        if (_flushing is null || _flushing.IsCompleted) _flushing = FlushQueueAsync();
        return submission.Completion.Task;
    }

    public async Task<DirectorySummary> SummaryAsync()
    {
        var index = await IndexAsync();
        return new DirectorySummary(DirectoryId, index.IsShown, index.UserCount, index.GroupCount, index.MembershipCount, _epoch);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        StartCleanup();
        return Task.CompletedTask;
    }

    private async Task FlushQueueAsync()
    {
        while (_queue.Count > 0)
        {
            var batch = _queue;
            _queue = [];
            try
            {
                await FlushAsync(batch);
            }
            catch (PostgresException e) when (IsContentError(e))
            {
                LogIsolating(DirectoryId, batch.Count, e.SqlState, e.MessageText);
                foreach (var submission in batch) await FlushAloneAsync(submission);
            }
            catch (Exception e)
            {
                LogFlushFailed(e, DirectoryId, batch.Count);
                Fail(batch, e);
            }
        }
    }

    /// <summary>Decides the batch's events in arrival order and commits their writes; answers every caller.</summary>
    private async Task FlushAsync(List<Submission> batch)
    {
        var index = await IndexAsync();
        var changes = new DirectoryChanges();
        var decided = new HashSet<string>(StringComparer.Ordinal);
        var outcomes = new ApplyOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i].Event;
            outcomes[i] = decided.Add(e.EventId) ? index.Apply(e, changes) : ApplyOutcome.Duplicate;
        }
        // Registered before the delete is durable, so the cleanup it owes is finished whatever crashes next.
        if (changes.DirectoryDelete is not null)
            await this.RegisterOrUpdateReminder(CleanupReminder, _options.CleanupRetryPeriod, _options.CleanupRetryPeriod);

        var started = Stopwatch.GetTimestamp();
        HashSet<string> logged;
        try
        {
            logged = await store.FlushAsync(DirectoryId, _epoch, _flushes, changes);
            _flushes++;
        }
        catch (Exception e)
        {
            // The index holds decisions Postgres did not keep: read the truth again before deciding anything else.
            _index = null;
            if (e is DirectoryFencedException)
            {
                LogFenced(DirectoryId, _epoch);
                this.DeactivateOnIdle();
            }
            throw;
        }
        SyncMetrics.Flushed(batch.Count, Stopwatch.GetElapsedTime(started));

        for (var i = 0; i < batch.Count; i++)
        {
            // Decided as new but already in the event log: an earlier delivery was applied (or found stale) before.
            var outcome = outcomes[i] != ApplyOutcome.Duplicate && !logged.Contains(batch[i].Event.EventId) ? ApplyOutcome.Duplicate : outcomes[i];
            Complete(batch[i], outcome);
        }
        if (changes.DirectoryDelete is not null) StartCleanup();
    }

    private async Task FlushAloneAsync(Submission submission)
    {
        try
        {
            await FlushAsync([submission]);
        }
        catch (PostgresException e) when (IsContentError(e))
        {
            var s = submission.Event;
            try
            {
                await store.RecordDeadLetterAsync(new DeadLetter(s.EventId, s.EventType, ObjectKey.Of(s).Id, s.CreatedAt,
                    $"Postgres refused the event: {e.SqlState} {e.MessageText}", s.Payload));
                Complete(submission, ApplyOutcome.DeadLettered, counted: false);
            }
            catch (Exception recordFailure)
            {
                Fail([submission], recordFailure);
            }
        }
        catch (Exception e)
        {
            Fail([submission], e);
        }
    }

    private async Task<DirectoryIndex> IndexAsync()
    {
        if (_index is not null) return _index;
        var started = Stopwatch.GetTimestamp();
        var loaded = await store.LoadAsync(DirectoryId);
        SyncMetrics.Loaded(Stopwatch.GetElapsedTime(started));
        (_index, _epoch, _flushes) = (loaded.Index, loaded.Epoch, 0);
        LogLoaded(DirectoryId, loaded.Index.UserCount, loaded.Index.GroupCount, loaded.Index.MembershipCount,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, loaded.Epoch);
        if (loaded.CleanupOwed) StartCleanup();
        return _index;
    }

    private void Complete(Submission submission, ApplyOutcome outcome, bool counted = true)
    {
        queued.Remove();
        if (counted) SyncMetrics.Count(outcome);
        submission.Completion.TrySetResult(outcome);
    }

    private void Fail(List<Submission> batch, Exception e)
    {
        foreach (var submission in batch)
        {
            queued.Remove();
            submission.Completion.TrySetException(e);
        }
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

    private sealed record Submission(SyncEvent Event)
    {
        // Completed inline by the flush: the awaiting calls are turns of this same activation.
        public TaskCompletionSource<ApplyOutcome> Completion { get; } = new();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {DirectoryId} loaded: {Users} users, {Groups} groups, {Memberships} memberships in {Milliseconds:F0} ms (epoch {Epoch})")]
    private partial void LogLoaded(string directoryId, int users, int groups, int memberships, double milliseconds, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId}: Postgres refused a batch of {Count} events ({SqlState}: {Message}); applying them one by one")]
    private partial void LogIsolating(string directoryId, int count, string sqlState, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Directory {DirectoryId}: writing a batch of {Count} events failed; their webhooks will be retried")]
    private partial void LogFlushFailed(Exception exception, string directoryId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId}: another activation took over (this one had epoch {Epoch}); deactivating")]
    private partial void LogFenced(string directoryId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory {DirectoryId}: cleanup paused after a failure; resuming in {RetryPeriod}")]
    private partial void LogCleanupPaused(Exception exception, string directoryId, TimeSpan retryPeriod);

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {DirectoryId} deleted: cleanup finished in {Chunks} chunk(s)")]
    private partial void LogCleanedUp(string directoryId, int chunks);
}
