using DirectorySync.Storage;
using Microsoft.Extensions.Logging;

namespace DirectorySync.Grains;

/// <summary>One per cluster: purges tombstones and event log entries past their retention, hourly, by reminder.</summary>
public sealed partial class MaintenanceGrain(DirectoryStore store, ILogger<MaintenanceGrain> logger)
    : Grain, IMaintenanceGrain, IRemindable
{
    private const string PurgeReminder = "purge";

    public Task EnsureScheduledAsync() =>
        this.RegisterOrUpdateReminder(PurgeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromHours(1));

    public async Task PurgeAsync()
    {
        var (tombstones, events) = await store.PurgeAsync();
        LogPurged(tombstones, events);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => PurgeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Tombstones} tombstone(s) and {Events} event log entr(ies) past retention")]
    private partial void LogPurged(int tombstones, int events);
}
