using DirectorySync.Events;
using DirectorySync.Storage;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Grains;

/// <summary>
/// A directory. <c>dsync.deleted</c> is acknowledged once the delete is recorded (tombstone, 'deleting' state,
/// cleanup job: from then on no older event for the directory can land); the rows are then removed in chunks.
/// A reminder registered before the delete is recorded makes the cleanup finish on some silo whatever crashes.
/// </summary>
public sealed partial class DirectoryGrain(MirrorStore store, ILogger<DirectoryGrain> logger)
    : Grain, IDirectoryGrain, IRemindable
{
    private const string CleanupReminder = "directory-cleanup";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    public async Task<ApplyOutcome> ApplyAsync(SyncEvent syncEvent)
    {
        var deleting = syncEvent.Kind == SyncEventKind.DirectoryDeleted;
        if (deleting) await this.RegisterOrUpdateReminder(CleanupReminder, ReminderPeriod, ReminderPeriod);
        var outcome = await store.ApplyAsync(syncEvent);
        if (deleting)
        {
            // After the acknowledgement, not before it: the webhook waits only for the delete to be durable.
            this.RegisterGrainTimer(CleanUpAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        }
        return outcome;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => CleanUpAsync(CancellationToken.None);

    private async Task CleanUpAsync(CancellationToken cancellationToken)
    {
        var directoryId = this.GetPrimaryKeyString();
        var chunks = 1;
        while (!await store.CleanupDirectoryStepAsync(directoryId))
        {
            cancellationToken.ThrowIfCancellationRequested();
            chunks++;
        }
        if (await this.GetReminder(CleanupReminder) is { } reminder) await this.UnregisterReminder(reminder);
        LogCleanedUp(directoryId, chunks);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory {DirectoryId} deleted: cleanup finished in {Chunks} chunk(s)")]
    private partial void LogCleanedUp(string directoryId, int chunks);
}
