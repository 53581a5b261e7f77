using System.Text.Json.Nodes;
using DirectorySync.Testing;
using Npgsql;
using Xunit;

namespace DirectorySync.IntegrationTests.ReadApi;

/// <summary>
/// sql/012's shaping functions on mirror rows holding what WorkOS's documented REST examples hold
/// (<c>Fixtures/rest</c>, copies of the shared examples): the objects come out exactly as documented, except the fields
/// the mirror does not keep (a directory's metadata counts; a user's deprecated name, emails, job_title and username).
/// </summary>
public sealed class WorkOSShapesTests : IAsyncLifetime
{
    private string _database = null!;

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.Shared.CreateDatabaseAsync("workos_shapes");
        await ExecuteAsync("""
            INSERT INTO directories (workos_directory_id, organization_id, external_key, directory_type, state, name, domains,
                                     created_at, updated_at, version_at, version_event_id)
            VALUES ('directory_01ECAZ4NV9QMV47GW873HDCX74', 'org_01EHZNVPK3SFK441A1RGBFSHRT', 'sPa12dwRQ', 'gsuite directory',
                    'active', 'Foo Corp', '{foo-corp.com}', '2026-01-15T12:00:00Z', '2026-01-15T12:00:00Z', '2026-03-01T00:00:00Z', 'event_1');
            INSERT INTO directory_groups (workos_group_id, directory_id, organization_id, idp_id, name, raw_attributes,
                                          created_at, updated_at, version_at, version_event_id)
            VALUES ('directory_group_01E1JJS84MFPPQ3G655FHTKX6Z', 1, 'org_01EZTR6WYX1A0DSE2CYMGXQ24Y', '02grqrue4294w24', 'Developers',
                    '{"key": {}}', '2026-01-15T12:00:00Z', '2026-01-15T12:00:00Z', '2026-03-01T00:00:00Z', 'event_2');
            INSERT INTO directory_users (workos_user_id, directory_id, organization_id, idp_id, email, first_name, last_name, state,
                                         role_slugs, custom_attributes, raw_attributes, created_at, updated_at, version_at, version_event_id)
            VALUES ('directory_user_01E1JG7J09H96KYP8HM9B0G5SJ', 1, 'org_01EZTR6WYX1A0DSE2CYMGXQ24Y', '2836',
                    'marcelina.davis@example.com', 'Marcelina', 'Davis', 'active', '{admin}',
                    '{"department": "Engineering", "job_title": "Software Engineer"}', '{"key": {}}',
                    '2026-01-15T12:00:00Z', '2026-01-15T12:00:00Z', '2026-03-01T00:00:00Z', 'event_3');
            INSERT INTO directory_group_memberships (user_id, group_id, version_at, version_event_id)
            VALUES (1, 1, '2026-03-01T00:00:00Z', 'event_4');
            """);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_directory_is_shaped_as_the_REST_example_in_the_REST_state_vocabulary()
    {
        var expected = Example("directory.json", "metadata");

        Assert.Equal(expected.ToJsonString(), Sorted(await ShapeAsync("SELECT workos_directory_json(d) FROM directories d")).ToJsonString());
    }

    [Fact]
    public async Task A_group_is_shaped_as_the_REST_example()
    {
        var expected = Example("directory_group.json");

        Assert.Equal(expected.ToJsonString(), Sorted(await ShapeAsync("SELECT workos_group_json(g) FROM directory_groups g")).ToJsonString());
    }

    [Fact]
    public async Task A_user_is_shaped_as_the_REST_example_with_its_groups_role_and_roles()
    {
        var expected = Example("directory_user_with_groups.json", "name", "emails", "job_title", "username");

        Assert.Equal(expected.ToJsonString(), Sorted(await ShapeAsync("SELECT workos_user_json(u) FROM directory_users u")).ToJsonString());
    }

    [Fact]
    public async Task Inactive_is_unlinked_other_states_pass_through_and_missing_WorkOS_times_fall_back_to_the_version()
    {
        await ExecuteAsync("""
            INSERT INTO directories (workos_directory_id, state, version_at, version_event_id)
            VALUES ('directory_inactive', 'inactive', '2026-02-03T04:05:06.789123Z', 'event_5'),
                   ('directory_validating', 'validating', '2026-02-03T04:05:06Z', 'event_6');
            """);

        var inactive = await ShapeAsync("SELECT workos_directory_json(d) FROM directories d WHERE workos_directory_id = 'directory_inactive'");
        var validating = await ShapeAsync("SELECT workos_directory_json(d) FROM directories d WHERE workos_directory_id = 'directory_validating'");

        Assert.Equal("unlinked", (string?)inactive["state"]);
        Assert.Equal("validating", (string?)validating["state"]);
        Assert.Equal("2026-02-03T04:05:06.789Z", (string?)inactive["created_at"]);
        Assert.Equal("2026-02-03T04:05:06.789Z", (string?)inactive["updated_at"]);
        Assert.Null(inactive["domain"]);
    }

    [Fact]
    public async Task A_user_without_roles_or_groups_has_a_null_role_and_empty_lists_and_several_roles_keep_their_order()
    {
        await ExecuteAsync("""
            INSERT INTO directory_users (workos_user_id, directory_id, state, role_slugs, version_at, version_event_id)
            VALUES ('directory_user_plain', 1, 'inactive', '{}', '2026-02-03T04:05:06Z', 'event_7'),
                   ('directory_user_roles', 1, 'active', '{member,admin,billing}', '2026-02-03T04:05:06Z', 'event_8');
            """);

        var plain = await ShapeAsync("SELECT workos_user_json(u) FROM directory_users u WHERE workos_user_id = 'directory_user_plain'");
        var roles = await ShapeAsync("SELECT workos_user_json(u) FROM directory_users u WHERE workos_user_id = 'directory_user_roles'");

        Assert.Null(plain["role"]);
        Assert.True(plain.AsObject().ContainsKey("role"));
        Assert.Equal("[]", plain["roles"]!.ToJsonString());
        Assert.Equal("[]", plain["groups"]!.ToJsonString());
        Assert.Equal("inactive", (string?)plain["state"]);
        Assert.Equal("directory_01ECAZ4NV9QMV47GW873HDCX74", (string?)plain["directory_id"]);
        Assert.Equal("2026-02-03T04:05:06.000Z", (string?)plain["created_at"]);
        Assert.Equal("""{"slug":"member"}""", roles["role"]!.ToJsonString());
        Assert.Equal("""[{"slug":"member"},{"slug":"admin"},{"slug":"billing"}]""", roles["roles"]!.ToJsonString());
    }

    /// <summary>A documented example with the keys the mirror does not keep removed, its keys in jsonb's order.</summary>
    private static JsonNode Example(string file, params string[] notKept)
    {
        var example = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "rest", file)))!.AsObject();
        foreach (var key in notKept)
        {
            Assert.True(example.Remove(key), $"{file} has no {key}");
        }
        return Sorted(example);
    }

    // jsonb orders an object's keys by length, then bytes; the examples are ordered for reading.
    private static JsonNode Sorted(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Sorted(p.Value)))),
        JsonArray a => new JsonArray(a.Select(e => e is null ? null : Sorted(e)).ToArray()),
        _ => node.DeepClone(),
    };

    private async Task<JsonNode> ShapeAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return JsonNode.Parse((string)(await command.ExecuteScalarAsync())!)!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
