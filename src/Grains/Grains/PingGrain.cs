using Orleans.Concurrency;

namespace DirectorySync.Grains;

[StatelessWorker]
public sealed class PingGrain : Grain, IPingGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
