using DirectorySync.Events;
using DirectorySync.Storage;
using Orleans.Concurrency;

namespace DirectorySync.Grains;

[StatelessWorker]
public sealed class DeadLetterGrain(DirectoryStore store, SyncActivity activity) : Grain, IDeadLetterGrain
{
    public async Task RecordAsync(DeadLetter deadLetter)
    {
        await store.RecordDeadLetterAsync(deadLetter);
        activity.Record(ApplyOutcome.DeadLettered, acknowledgement: null);
    }

    public Task RecordUnreadableAsync(UnreadableWebhook webhook) => store.RecordUnreadableAsync(webhook);
}
