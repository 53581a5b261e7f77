using DirectorySync.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests;

public sealed class ReminderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_reminder_kept_in_postgres_fires_and_fires_again_on_a_silo_that_only_read_it_back()
    {
        var database = await PostgresServer.Shared.CreateDatabaseAsync("reminders");
        const string clusterId = "reminders";
        var expected = new ReminderTick("probe", "heartbeat");

        var ticks = new ReminderTicks();
        await using (var silo = await TestSilo.StartAsync(database, clusterId, services => services.AddSingleton(ticks)))
        {
            await silo.Grains.GetGrain<IReminderProbeGrain>("probe")
                .RegisterAsync("heartbeat", dueTime: TimeSpan.FromSeconds(1), period: TimeSpan.FromSeconds(2));

            Assert.Equal(expected, await ticks.NextAsync(Patience));
        }
        Assert.Equal(1, await StoredRemindersAsync(database, clusterId, "heartbeat"));

        // Nothing registers the reminder again: the new silo learns of it from our range queries alone.
        var ticksAfterRestart = new ReminderTicks();
        await using var restarted = await TestSilo.StartAsync(database, clusterId, services => services.AddSingleton(ticksAfterRestart));

        Assert.Equal(expected, await ticksAfterRestart.NextAsync(Patience));
    }

    private static async Task<long> StoredRemindersAsync(string database, string serviceId, string reminderName)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM orleans_reminders WHERE service_id = @service AND reminder_name = @name", connection);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("name", reminderName);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
