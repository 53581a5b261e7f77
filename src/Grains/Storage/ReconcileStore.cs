using System.Text.Json;
using DirectorySync.Events;
using DirectorySync.Sync;
using Microsoft.Extensions.Options;
using Npgsql;
using static DirectorySync.Storage.DirectoryStore;

namespace DirectorySync.Storage;

/// <summary>A run's numbers, as the operator reads them (and <c>reconcile_runs.report</c> stores them).</summary>
[GenerateSerializer]
public sealed record ReconcileReport
{
    [Id(0)] public int UsersListed { get; set; }
    [Id(1)] public int GroupsListed { get; set; }
    [Id(2)] public int MembershipsListed { get; set; }
    /// <summary>Listed objects the mirror lacked, or held with other content: sent to the directory's grain.</summary>
    [Id(3)] public int Differing { get; set; }
    /// <summary>Of those, the ones the grain wrote (the rest were older than what it holds).</summary>
    [Id(4)] public int Repaired { get; set; }
    [Id(5)] public int MembershipsAdded { get; set; }
    [Id(6)] public int UsersToDelete { get; set; }
    [Id(7)] public int GroupsToDelete { get; set; }
    [Id(8)] public int MembershipsToDelete { get; set; }
    [Id(9)] public int Deleted { get; set; }
    /// <summary>Deletions a guard held back (kept in <c>reconcile_plan</c> until an operator forces them).</summary>
    [Id(10)] public int HeldBack { get; set; }
    [Id(11)] public int MalformedItems { get; set; }
    /// <summary>Rows of the directory in the mirror when the deletions were judged.</summary>
    [Id(12)] public int MirrorRows { get; set; }
    [Id(13)] public string? Note { get; set; }

    public int PlannedDeletions => UsersToDelete + GroupsToDelete + MembershipsToDelete;
}

/// <summary>A run as <c>reconcile_runs</c> records it.</summary>
public sealed record ReconcileRun(
    long RunId, string Kind, string Reason, bool Forced, DateTimeOffset ListedAt, DateTimeOffset? FinishedAt, string Status,
    ReconcileReport Report);

/// <summary>A deletion a run planned: a user or group by id, or a membership.</summary>
public sealed record PlannedDeletion(string Kind, string ObjectId, string? GroupId, string? UserId);

/// <summary>
/// What a reconciliation reads and records besides the mirror's writes (those go through the directory's grain): which
/// listed objects differ from their rows, what a run listed, its deletion plan and its report.
/// </summary>
public sealed class ReconcileStore(NpgsqlDataSource dataSource, IOptions<SyncOptions> options)
{
    private readonly MirrorRows _rows = new(options.Value.CreateRoleMapping());

    public async Task<long> StartRunAsync(string directoryId, string kind, string reason, bool forced, DateTimeOffset listedAt)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            UPDATE reconcile_runs SET status = 'superseded', finished_at = now()
            WHERE workos_directory_id = $1 AND status IN ('running', 'held')
            """, directoryId));
        batch.BatchCommands.Add(Command("""
            INSERT INTO reconcile_runs (workos_directory_id, kind, reason, forced, listed_at) VALUES ($1, $2, $3, $4, $5)
            RETURNING run_id
            """, directoryId, kind, reason, forced, listedAt.UtcDateTime));
        return (long)(await batch.ExecuteScalarAsync())!;
    }

    /// <summary>A held run goes on (its plan forced by an operator).</summary>
    public async Task ResumeRunAsync(long runId)
    {
        await using var command = dataSource.CreateCommand("UPDATE reconcile_runs SET status = 'running', forced = true WHERE run_id = $1");
        command.Parameters.Add(new() { Value = runId });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Whether the mirror holds the directory at all (shown, or deleted and still being cleaned up).</summary>
    public async Task<bool> MirrorHasDirectoryAsync(string directoryId)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM directories WHERE workos_directory_id = $1)");
        command.Parameters.Add(new() { Value = directoryId });
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The directories the mirror shows (not those being deleted).</summary>
    public async Task<IReadOnlyList<string>> MirrorDirectoriesAsync()
    {
        await using var command = dataSource.CreateCommand("SELECT workos_directory_id FROM directories WHERE state <> 'deleting'");
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>
    /// The listed users or groups whose mirror row is missing or holds other content than the listing (compared column
    /// by column as the directory grain would write them), and records them as listed by the run.
    /// </summary>
    public async Task<HashSet<string>> ListedAsync(long runId, string kind, IReadOnlyList<SyncEvent> listed)
    {
        var ids = listed.Select(e => ObjectKey.Of(e).Id).ToArray();
        var rows = kind == "user"
            ? _rows.Users(listed.Select(e => (e, default(EventVersion))))
            : _rows.Groups(listed.Select(e => (e, default(EventVersion))));
        // The query first: a statement that returns no rows has no result set of its own to step over.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(kind == "user" ? UserDrift : GroupDrift, rows));
        batch.BatchCommands.Add(Command("""
            INSERT INTO reconcile_listed (run_id, object_kind, object_id) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING
            """, runId, kind, ids));
        var differing = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await batch.ExecuteReaderAsync();
        while (await reader.ReadAsync()) differing.Add(reader.GetString(0));
        while (await reader.NextResultAsync()) { }
        return differing;
    }

    // A row differs when any column the grain writes from the listing differs (the version columns aside).
    private const string UserDrift = """
        SELECT r.workos_user_id
        FROM jsonb_to_recordset($1::jsonb) AS r (workos_user_id text, organization_id text, idp_id text, email text,
            first_name text, last_name text, username text, job_title text, state text, role_slugs text[], app_roles text[],
            custom_attributes jsonb, raw_attributes jsonb, updated_at timestamptz)
        LEFT JOIN directory_users o ON o.workos_user_id = r.workos_user_id
        WHERE o.id IS NULL
           OR (o.organization_id, o.idp_id, o.email, o.first_name, o.last_name, o.username, o.job_title, o.state, o.role_slugs,
               o.app_roles, o.custom_attributes, o.raw_attributes, o.updated_at)
              IS DISTINCT FROM
              (r.organization_id, r.idp_id, r.email, r.first_name, r.last_name, r.username, r.job_title, r.state,
               coalesce(r.role_slugs, '{}'), coalesce(r.app_roles, '{}'), coalesce(r.custom_attributes, '{}'),
               coalesce(r.raw_attributes, '{}'), r.updated_at)
        """;

    private const string GroupDrift = """
        SELECT r.workos_group_id
        FROM jsonb_to_recordset($1::jsonb) AS r (workos_group_id text, organization_id text, idp_id text, name text,
            raw_attributes jsonb, updated_at timestamptz)
        LEFT JOIN directory_groups o ON o.workos_group_id = r.workos_group_id
        WHERE o.id IS NULL
           OR (o.organization_id, o.idp_id, o.name, o.raw_attributes, o.updated_at)
              IS DISTINCT FROM (r.organization_id, r.idp_id, r.name, coalesce(r.raw_attributes, '{}'), r.updated_at)
        """;

    /// <summary>The first group the run listed after <paramref name="afterGroupId"/> (groups' members are listed in id order).</summary>
    public async Task<string?> NextListedGroupAsync(long runId, string? afterGroupId)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT object_id FROM reconcile_listed WHERE run_id = $1 AND object_kind = 'group' AND object_id > $2
            ORDER BY object_id LIMIT 1
            """);
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = afterGroupId ?? "" });
        return (string?)await command.ExecuteScalarAsync();
    }

    /// <summary>The user ids the mirror shows as members of the group.</summary>
    public async Task<HashSet<string>> MembersAsync(string directoryId, string groupId)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT u.workos_user_id
            FROM directories d
            JOIN directory_groups g ON g.directory_id = d.id AND g.workos_group_id = $2
            JOIN directory_group_memberships m ON m.group_id = g.id
            JOIN directory_users u ON u.id = m.user_id
            WHERE d.workos_directory_id = $1
            """);
        command.Parameters.Add(new() { Value = directoryId });
        command.Parameters.Add(new() { Value = groupId });
        var members = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) members.Add(reader.GetString(0));
        return members;
    }

    /// <summary>Plans the removal of memberships of one group that the listing did not show.</summary>
    public async Task PlanMembershipDeletionsAsync(long runId, string groupId, IReadOnlyCollection<string> userIds)
    {
        if (userIds.Count == 0) return;
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            INSERT INTO reconcile_plan (run_id, object_kind, object_id, group_id, user_id)
            SELECT $1, 'membership', $2 || '/' || u, $2, u FROM unnest($3::text[]) AS u ON CONFLICT DO NOTHING
            """, runId, groupId, userIds.ToArray()));
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Plans the removal of the users and groups the mirror holds that the run's listing did not show (rows written after
    /// the listing began are not candidates), and counts what the guard compares them with.
    /// </summary>
    public async Task<(int Users, int Groups, int Memberships, int MirrorRows)> PlanDeletionsAsync(
        string directoryId, long runId, DateTimeOffset listedAt)
    {
        await using (var plan = dataSource.CreateBatch())
        {
            foreach (var (table, id, kind) in new[] { ("directory_users", "workos_user_id", "user"), ("directory_groups", "workos_group_id", "group") })
            {
                plan.BatchCommands.Add(Command($"""
                    INSERT INTO reconcile_plan (run_id, object_kind, object_id)
                    SELECT $2, '{kind}', o.{id}
                    FROM directories d JOIN {table} o ON o.directory_id = d.id
                    WHERE d.workos_directory_id = $1 AND o.version_at <= $3
                      AND NOT EXISTS (SELECT 1 FROM reconcile_listed l WHERE l.run_id = $2 AND l.object_kind = '{kind}' AND l.object_id = o.{id})
                    ON CONFLICT DO NOTHING
                    """, directoryId, runId, listedAt.UtcDateTime));
            }
            await plan.ExecuteNonQueryAsync();
        }
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            SELECT count(*) FILTER (WHERE object_kind = 'user')::int, count(*) FILTER (WHERE object_kind = 'group')::int,
                   count(*) FILTER (WHERE object_kind = 'membership')::int
            FROM reconcile_plan WHERE run_id = $1
            """, runId));
        batch.BatchCommands.Add(Command("""
            SELECT (SELECT count(*) FROM directory_users u WHERE u.directory_id = d.id)
                 + (SELECT count(*) FROM directory_groups g WHERE g.directory_id = d.id)
                 + (SELECT count(*) FROM directory_group_memberships m JOIN directory_groups g ON g.id = m.group_id WHERE g.directory_id = d.id)
            FROM directories d WHERE d.workos_directory_id = $1
            """, directoryId));
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (users, groups, memberships) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2));
        await reader.NextResultAsync();
        var rows = await reader.ReadAsync() ? (int)reader.GetInt64(0) : 0;
        return (users, groups, memberships, rows);
    }

    public async Task<IReadOnlyList<PlannedDeletion>> PlanAsync(long runId, int limit = int.MaxValue)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT object_kind, object_id, group_id, user_id FROM reconcile_plan WHERE run_id = $1
            ORDER BY object_kind DESC, object_id LIMIT $2
            """);
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = limit });
        var plan = new List<PlannedDeletion>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            plan.Add(new PlannedDeletion(reader.GetString(0), reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        return plan;
    }

    /// <summary>
    /// Records how a run ended. What it listed is dropped; its plan only stays while it is held (for the operator and a
    /// forced run). A directory keeps its 20 newest runs.
    /// </summary>
    public async Task FinishRunAsync(long runId, string status, ReconcileReport report)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("""
            UPDATE reconcile_runs SET status = $2, report = $3::jsonb, finished_at = CASE WHEN $2 = 'held' THEN NULL ELSE now() END
            WHERE run_id = $1
            """, runId, status, JsonSerializer.Serialize(report, ReportJson.Default.ReconcileReport)));
        batch.BatchCommands.Add(Command("DELETE FROM reconcile_listed WHERE run_id = $1", runId));
        if (status != "held") batch.BatchCommands.Add(Command("DELETE FROM reconcile_plan WHERE run_id = $1", runId));
        batch.BatchCommands.Add(Command("""
            DELETE FROM reconcile_runs r WHERE r.workos_directory_id = (SELECT workos_directory_id FROM reconcile_runs WHERE run_id = $1)
              AND r.run_id < (SELECT min(run_id) FROM (SELECT run_id FROM reconcile_runs x
                              WHERE x.workos_directory_id = r.workos_directory_id ORDER BY run_id DESC LIMIT 20) AS newest)
            """, runId));
        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>A running run's report so far.</summary>
    public async Task SaveReportAsync(long runId, ReconcileReport report)
    {
        await using var command = dataSource.CreateCommand("UPDATE reconcile_runs SET report = $2::jsonb WHERE run_id = $1");
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(report, ReportJson.Default.ReconcileReport) });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// The directories were confirmed current as of <paramref name="at"/> (a completed reconciliation, or the Events
    /// API caught up): what the read API's freshness header says. Null confirms every directory in the mirror.
    /// </summary>
    public async Task ConfirmFreshAsync(string? directoryId, DateTimeOffset at)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO directory_freshness AS f (workos_directory_id, confirmed_at)
            SELECT d.workos_directory_id, $2 FROM directories d WHERE $1::text IS NULL OR d.workos_directory_id = $1
            ON CONFLICT (workos_directory_id) DO UPDATE SET confirmed_at = greatest(f.confirmed_at, excluded.confirmed_at)
            """);
        command.Parameters.Add(new() { Value = (object?)directoryId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = at.UtcDateTime });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The directory's newest runs, newest first.</summary>
    public async Task<IReadOnlyList<ReconcileRun>> RunsAsync(string directoryId, int limit)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {RunColumns} FROM reconcile_runs WHERE workos_directory_id = $1 ORDER BY run_id DESC LIMIT $2
            """);
        command.Parameters.Add(new() { Value = directoryId });
        command.Parameters.Add(new() { Value = limit });
        var runs = new List<ReconcileRun>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) runs.Add(ReadRun(reader, 0)!);
        return runs;
    }

    /// <summary>
    /// A run from <see cref="RunColumns"/> read from column <paramref name="first"/> on, or null when they are null
    /// (a directory without runs, outer-joined).
    /// </summary>
    internal static ReconcileRun? ReadRun(NpgsqlDataReader reader, int first) => reader.IsDBNull(first) ? null : new ReconcileRun(
        reader.GetInt64(first), reader.GetString(first + 1), reader.GetString(first + 2), reader.GetBoolean(first + 3),
        reader.GetFieldValue<DateTimeOffset>(first + 4), reader.IsDBNull(first + 5) ? null : reader.GetFieldValue<DateTimeOffset>(first + 5),
        reader.GetString(first + 6), JsonSerializer.Deserialize(reader.GetString(first + 7), ReportJson.Default.ReconcileReport) ?? new());

    /// <summary>The columns of <c>reconcile_runs</c> <see cref="ReadRun"/> reads, in order.</summary>
    internal const string RunColumns = "run_id, kind, reason, forced, listed_at, finished_at, status, report::text";

}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ReconcileReport))]
internal sealed partial class ReportJson : System.Text.Json.Serialization.JsonSerializerContext;
