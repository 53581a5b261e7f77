using DirectorySync.Storage;
using Orleans.Concurrency;

namespace DirectorySync.Grains;

[StatelessWorker]
public sealed class DeadLetterGrain(DirectoryStore store) : Grain, IDeadLetterGrain
{
    public Task RecordAsync(DeadLetter deadLetter) => store.RecordDeadLetterAsync(deadLetter);

    public Task RecordUnreadableAsync(UnreadableWebhook webhook) => store.RecordUnreadableAsync(webhook);
}
