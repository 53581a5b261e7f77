using DirectorySync.Simulator.Delivery;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.Mirror;
using Npgsql;
using Xunit;

namespace DirectorySync.FaultTests;

/// <summary>What must hold after any fault: nothing lost, nothing applied twice, the event log complete.</summary>
public static class SyncedState
{
    /// <summary>
    /// Every request acknowledged; the four mirror tables equal in-order delivery's result for the history's
    /// directories (so no event took effect twice or not at all); every generated event in <c>event_log</c> exactly
    /// once and none of them a dead letter.
    /// </summary>
    public static async Task AssertAsync(LoopbackCluster cluster, GeneratedHistory history, DeliveryReport report)
    {
        Assert.True(report.AllAcknowledged,
            $"{report.Failures.Count} of {report.Requests} requests were never acknowledged, e.g. " +
            string.Join("; ", report.Failures.Take(3).Select(f => $"{f.EventId} ({f.EventType}) after {f.Attempts} attempts: {f.LastError}")));
        await AssertMirrorAsync(cluster, history);
        await AssertEventLogAsync(cluster, history);
    }

    public static async Task AssertMirrorAsync(LoopbackCluster cluster, GeneratedHistory history)
    {
        var differences = await MirrorVerifier.WaitForMatchAsync(cluster.ConnectionString, history.Expected(InactivePolicy.Retain),
            TimeSpan.FromSeconds(60), history.DirectoryIds);
        Assert.True(differences.Count == 0,
            $"the mirror differs from in-order delivery ({differences.Count} differences):\n{string.Join("\n", differences.Take(15))}");
    }

    public static async Task AssertEventLogAsync(LoopbackCluster cluster, GeneratedHistory history)
    {
        var generated = history.Events.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var logged = new Dictionary<string, (int Times, string Outcome)>(StringComparer.Ordinal);
        await using (var connection = new NpgsqlConnection(cluster.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT event_id, count(*)::int, min(outcome) FROM event_log WHERE directory_id = ANY($1) GROUP BY event_id", connection)
            {
                Parameters = { new() { Value = history.DirectoryIds.ToArray() } },
            };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) logged[reader.GetString(0)] = (reader.GetInt32(1), reader.GetString(2));
        }

        var missing = generated.Where(id => !logged.ContainsKey(id)).ToList();
        var unknown = logged.Keys.Where(id => !generated.Contains(id)).ToList();
        // event_id is the table's key today; counting anyway keeps the check honest if that ever changes.
        var repeated = logged.Where(entry => entry.Value.Times > 1).Select(entry => entry.Key).ToList();
        var deadLetters = logged.Where(entry => entry.Value.Outcome == "dead_letter").Select(entry => entry.Key).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} generated events are not in event_log, e.g. {string.Join(", ", missing.Take(5))}");
        Assert.True(unknown.Count == 0, $"{unknown.Count} event_log entries were never generated, e.g. {string.Join(", ", unknown.Take(5))}");
        Assert.True(repeated.Count == 0, $"{repeated.Count} events are logged more than once, e.g. {string.Join(", ", repeated.Take(5))}");
        Assert.True(deadLetters.Count == 0, $"{deadLetters.Count} events were dead-lettered, e.g. {string.Join(", ", deadLetters.Take(5))}");
    }
}
