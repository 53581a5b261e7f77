using System.Threading.Channels;
using Orleans.Placement;
using Orleans.Runtime;

namespace DirectorySync.IntegrationTests;

/// <summary>Tells which silo its activation lives on.</summary>
public interface ILocatedGrain : IGrainWithStringKey
{
    Task<string> SiloAsync();
}

// Activates on the silo whose caller first asks, so a test decides where the grain lives.
[PreferLocalPlacement]
public sealed class LocatedGrain(ILocalSiloDetails silo) : Grain, ILocatedGrain
{
    public Task<string> SiloAsync() => Task.FromResult(silo.SiloAddress.ToString());
}

/// <summary>Registers a reminder and reports each tick to its silo's <see cref="ReminderTicks"/>.</summary>
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task RegisterAsync(string reminderName, TimeSpan dueTime, TimeSpan period);
}

public sealed class ReminderProbeGrain(ReminderTicks ticks) : Grain, IReminderProbeGrain, IRemindable
{
    public Task RegisterAsync(string reminderName, TimeSpan dueTime, TimeSpan period) =>
        this.RegisterOrUpdateReminder(reminderName, dueTime, period);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ticks.Record(new ReminderTick(this.GetPrimaryKeyString(), reminderName));
        return Task.CompletedTask;
    }
}

public sealed record ReminderTick(string GrainKey, string ReminderName);

/// <summary>The reminder ticks a silo delivered, in order; registered as a singleton in the silo.</summary>
public sealed class ReminderTicks
{
    private readonly Channel<ReminderTick> ticks = Channel.CreateUnbounded<ReminderTick>();

    public void Record(ReminderTick tick) => ticks.Writer.TryWrite(tick);

    public async Task<ReminderTick> NextAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        return await ticks.Reader.ReadAsync(deadline.Token);
    }
}
