using System.Text.Json.Nodes;
using Npgsql;

namespace DirectorySync.Simulator.Feed;

/// <summary>
/// The mirror in the service's own WorkOS REST shapes (sql/012), to compare with what following the feed rebuilt. A
/// user's <c>groups</c> is left out: the feed tells memberships as entries of their own.
/// </summary>
public static class ShapedMirror
{
    public static async Task<FeedReplica> ReadAsync(string connectionString, IReadOnlyCollection<string>? directoryIds, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot of all four tables.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var filter = directoryIds is null ? "" : "WHERE d.workos_directory_id = ANY($1)";
        var mirror = new FeedReplica();
        await foreach (var o in ObjectsAsync(connection, $"SELECT workos_directory_json(d)::text FROM directories d {filter}", directoryIds, cancellationToken))
            mirror.Directories[(string)o["id"]!] = o;
        await foreach (var o in ObjectsAsync(connection,
            $"SELECT (workos_user_json(u) - 'groups')::text FROM directory_users u JOIN directories d ON d.id = u.directory_id {filter}", directoryIds, cancellationToken))
            mirror.Users[(string)o["id"]!] = o;
        await foreach (var o in ObjectsAsync(connection,
            $"SELECT workos_group_json(g)::text FROM directory_groups g JOIN directories d ON d.id = g.directory_id {filter}", directoryIds, cancellationToken))
            mirror.Groups[(string)o["id"]!] = o;
        await foreach (var o in ObjectsAsync(connection, $"""
            SELECT json_build_object('group', g.workos_group_id, 'user', u.workos_user_id)::text
            FROM directory_group_memberships m JOIN directory_users u ON u.id = m.user_id JOIN directory_groups g ON g.id = m.group_id
            JOIN directories d ON d.id = u.directory_id {filter}
            """, directoryIds, cancellationToken))
            mirror.Memberships.Add(((string)o["group"]!, (string)o["user"]!));
        return mirror;
    }

    /// <summary>Every way the rebuilt copy departs from the mirror, table by table, sorted by id.</summary>
    public static IReadOnlyList<string> Compare(FeedReplica rebuilt, FeedReplica mirror)
    {
        var differences = new List<string>();
        Objects("directories", rebuilt.Directories, mirror.Directories, differences);
        Objects("directory_users", rebuilt.Users.ToDictionary(u => u.Key, u => WithoutGroups(u.Value)), mirror.Users, differences);
        Objects("directory_groups", rebuilt.Groups, mirror.Groups, differences);
        differences.AddRange(rebuilt.Memberships.Except(mirror.Memberships).Order().Select(m => $"memberships: unexpected {m.GroupId}/{m.UserId}"));
        differences.AddRange(mirror.Memberships.Except(rebuilt.Memberships).Order().Select(m => $"memberships: missing {m.GroupId}/{m.UserId}"));
        return differences;
    }

    /// <summary>Compares until they match or <paramref name="patience"/> runs out (a deleted directory is cleaned up in the background).</summary>
    public static async Task<IReadOnlyList<string>> WaitForMatchAsync(string connectionString, FeedReplica rebuilt,
        IReadOnlyCollection<string>? directoryIds, TimeSpan patience, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var differences = Compare(rebuilt, await ReadAsync(connectionString, directoryIds, cancellationToken));
            if (differences.Count == 0 || DateTime.UtcNow >= deadline) return differences;
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private static JsonObject WithoutGroups(JsonObject user)
    {
        var copy = user.DeepClone().AsObject();
        copy.Remove("groups");
        return copy;
    }

    private static void Objects(string table, IReadOnlyDictionary<string, JsonObject> rebuilt, IReadOnlyDictionary<string, JsonObject> mirror, List<string> differences)
    {
        foreach (var id in rebuilt.Keys.Union(mirror.Keys).Order(StringComparer.Ordinal))
        {
            var (fromFeed, inMirror) = (rebuilt.GetValueOrDefault(id), mirror.GetValueOrDefault(id));
            if (fromFeed is null) differences.Add($"{table}: missing {inMirror!.ToJsonString()}");
            else if (inMirror is null) differences.Add($"{table}: unexpected {fromFeed.ToJsonString()}");
            else if (!JsonNode.DeepEquals(fromFeed, inMirror))
                differences.Add($"{table}: {id} differs\n    from the feed {fromFeed.ToJsonString()}\n    in the mirror {inMirror.ToJsonString()}");
        }
    }

    private static async IAsyncEnumerable<JsonObject> ObjectsAsync(NpgsqlConnection connection, string sql, IReadOnlyCollection<string>? directoryIds,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (directoryIds is not null) command.Parameters.Add(new NpgsqlParameter { Value = directoryIds.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) yield return JsonNode.Parse(reader.GetString(0))!.AsObject();
    }
}
