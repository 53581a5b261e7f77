using DirectorySync.Events;
using DirectorySync.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DirectorySync.Grains;

/// <summary>
/// A directory. <c>dsync.deleted</c> is acknowledged once the delete is recorded (tombstone, 'deleting' state,
/// cleanup job: from then on no older event for the directory can land); the rows are then removed in chunks.
/// A reminder registered before the delete is recorded makes the cleanup finish on some silo whatever crashes.
/// </summary>
public sealed partial class DirectoryGrain(MirrorStore store, IOptions<SyncOptions> options, ILogger<DirectoryGrain> logger)
    : Grain, IDirectoryGrain, IRemindable
{
    private const string CleanupReminder = "directory-cleanup";

    private IGrainTimer? _cleanup;
    private int _chunks;

    public async Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent)
    {
        var deleting = syncEvent.Kind == SyncEventKind.DirectoryDeleted;
        var retry = options.Value.CleanupRetryPeriod;
        if (deleting) await this.RegisterOrUpdateReminder(CleanupReminder, retry, retry);
        var outcome = await store.ApplyAsync(syncEvent);
        // After the acknowledgement, not before it: the webhook waits only for the delete to be durable.
        if (deleting) StartCleanup();
        return outcome;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        StartCleanup();
        return Task.CompletedTask;
    }

    /// <summary>
    /// One chunk per timer tick, each its own grain turn, so a silo shutting down can deactivate the grain between
    /// chunks; the reminder then resumes the work on another silo.
    /// </summary>
    private void StartCleanup() => _cleanup ??= this.RegisterGrainTimer(CleanUpChunkAsync,
        new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)) { KeepAlive = true });

    private async Task CleanUpChunkAsync(CancellationToken cancellationToken)
    {
        var directoryId = this.GetPrimaryKeyString();
        _chunks++;
        if (!await store.CleanupDirectoryStepAsync(directoryId)) return;

        _cleanup?.Dispose();
        _cleanup = null;
        if (await this.GetReminder(CleanupReminder) is { } reminder) await this.UnregisterReminder(reminder);
        LogCleanedUp(directoryId, _chunks);
        _chunks = 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {DirectoryId} deleted: cleanup finished in {Chunks} chunk(s)")]
    private partial void LogCleanedUp(string directoryId, int chunks);
}
