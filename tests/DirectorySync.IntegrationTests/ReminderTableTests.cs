using DirectorySync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Xunit;

namespace DirectorySync.IntegrationTests;

/// <summary>The reminder contract our SQL gives Orleans' ADO.NET provider, exercised through the provider itself.</summary>
public sealed class ReminderTableTests
{
    private static readonly DateTime Start = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Fact]
    public async Task Every_upsert_gives_a_new_etag_and_only_the_current_etag_removes_the_reminder()
    {
        var table = await ReminderTableAsync("reminders_etag");
        var first = await table.UpsertRow(Reminder("grain-a", "tick"));
        var second = await table.UpsertRow(Reminder("grain-a", "tick", TimeSpan.FromMinutes(5)));

        Assert.NotEqual(first, second);
        Assert.False(await table.RemoveRow(GrainOf("grain-a"), "tick", first!));
        Assert.Equal(TimeSpan.FromMinutes(5), (await table.ReadRow(GrainOf("grain-a"), "tick"))!.Period);
        Assert.True(await table.RemoveRow(GrainOf("grain-a"), "tick", second!));
        Assert.Null(await table.ReadRow(GrainOf("grain-a"), "tick"));
    }

    [Fact]
    public async Task An_etag_from_before_a_removal_does_not_remove_the_reminder_registered_after_it()
    {
        var table = await ReminderTableAsync("reminders_reregistered");
        var old = await table.UpsertRow(Reminder("grain-a", "tick"));
        Assert.True(await table.RemoveRow(GrainOf("grain-a"), "tick", old!));
        await table.UpsertRow(Reminder("grain-a", "tick"));

        Assert.False(await table.RemoveRow(GrainOf("grain-a"), "tick", old!));
        Assert.NotNull(await table.ReadRow(GrainOf("grain-a"), "tick"));
    }

    [Fact]
    public async Task A_grain_reads_back_all_its_reminders_and_no_others()
    {
        var table = await ReminderTableAsync("reminders_grain");
        await table.UpsertRow(Reminder("grain-a", "one"));
        await table.UpsertRow(Reminder("grain-a", "two"));
        await table.UpsertRow(Reminder("grain-b", "one"));

        var read = await table.ReadRows(GrainOf("grain-a"));

        Assert.Equal(["one", "two"], read.Reminders.Select(r => r.ReminderName).Order());
        Assert.All(read.Reminders, r => Assert.Equal(Start, r.StartAt));
    }

    [Theory]
    [InlineData(0x1000_0000u, 0x7000_0000u)] // inside the lower half
    [InlineData(0x9000_0000u, 0xF000_0000u)] // inside the upper half
    [InlineData(0x7000_0000u, 0x9000_0000u)] // across the signed wrap only
    [InlineData(0xF000_0000u, 0x1000_0000u)] // across the top of the ring
    [InlineData(0x4000_0000u, 0x4000_0000u)] // the whole ring
    public async Task A_ring_slice_reads_exactly_the_reminders_whose_grains_hash_into_it(uint begin, uint end)
    {
        var table = await ReminderTableAsync("reminders_range");
        var grains = Enumerable.Range(0, 64).Select(i => GrainOf($"grain-{i}")).ToArray();
        foreach (var grain in grains)
        {
            await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "tick", StartAt = Start, Period = TimeSpan.FromMinutes(1) });
        }

        var read = await table.ReadRows(begin, end);

        // The ring's own rule: the slice (begin, end], wrapping past the top when begin >= end.
        var expected = grains.Where(g =>
        {
            var hash = g.GetUniformHashCode();
            return begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;
        });
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Select(g => g.ToString()).Order(), read.Reminders.Select(r => r.GrainId.ToString()).Order());
    }

    private static async Task<IReminderTable> ReminderTableAsync(string prefix)
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync(prefix);
        var services = new ServiceCollection();
        services.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = "contract";
            cluster.ServiceId = "contract";
        });
        services.UseAdoNetReminderService(reminders => reminders.Configure(options =>
        {
            options.Invariant = TestSilo.Invariant;
            options.ConnectionString = database;
        }));
        var table = services.BuildServiceProvider().GetRequiredService<IReminderTable>();
        await table.StartAsync();
        return table;
    }

    private static GrainId GrainOf(string key) => GrainId.Create("probe", key);

    private static ReminderEntry Reminder(string grain, string name, TimeSpan? period = null) => new()
    {
        GrainId = GrainOf(grain),
        ReminderName = name,
        StartAt = Start,
        Period = period ?? TimeSpan.FromMinutes(1),
    };
}
