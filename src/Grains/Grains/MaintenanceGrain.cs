using DirectorySync.Feed;
using DirectorySync.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DirectorySync.Grains;

/// <summary>
/// One per cluster: purges tombstones, event log entries, pending objects and change feed entries past their retention,
/// hourly, by reminder.
/// </summary>
public sealed partial class MaintenanceGrain(
    DirectoryStore store, ChangeFeed feed, IOptions<ChangeFeedOptions> feedOptions, ILogger<MaintenanceGrain> logger)
    : Grain, IMaintenanceGrain, IRemindable
{
    private const string PurgeReminder = "purge";

    public Task EnsureScheduledAsync() =>
        this.RegisterOrUpdateReminder(PurgeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromHours(1));

    public async Task PurgeAsync()
    {
        var purged = await store.PurgeAsync();
        LogPurged(purged.Tombstones, purged.Events, purged.PendingLeft);
        foreach (var (directoryId, count) in purged.PendingPurged)
        {
            LogPendingPurged(count, directoryId);
            // Its grain still counts them as pending: it reads its index again before its next decision.
            await GrainFactory.GetGrain<IDirectoryGrain>(directoryId).ReloadAsync();
        }
        LogFeedPurged(await feed.PurgeAsync(feedOptions.Value.Retention), feedOptions.Value.Retention);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => PurgeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Tombstones} tombstone(s) and {Events} event log entr(ies) past retention; {Pending} object(s) waiting in sync_pending")]
    private partial void LogPurged(int tombstones, int events, int pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Entries} change feed entr(ies) older than {Retention}")]
    private partial void LogFeedPurged(int entries, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gave up on {Count} object(s) of directory {DirectoryId} that waited in sync_pending past retention (their directory, user or group never came)")]
    private partial void LogPendingPurged(int count, string directoryId);
}
