namespace DirectorySync.Gateway.ReadApi;

/// <summary>
/// The one statement that answers a read: it finds the page by keyset on sql/013's list indexes, shapes it with sql/013's
/// functions into the response body (json text, streamed to the client as it is), and says what else the answer needs.
/// Its columns: <c>missing</c> (the parameter whose object does not exist: 404 or 400), <c>synced_at</c> (when the
/// directory the answer concerns was last confirmed current) and <c>body</c>.
/// </summary>
/// <remarks>
/// Lists are sorted by (created_at, id), ids in byte order. A page is read in its scan direction, one row more than
/// asked to learn whether more follow; <c>before</c> scans backwards from its cursor and the page is turned round.
/// Each distinct statement text (a resource, its filters, direction and cursor kind) is prepared once per connection.
/// </remarks>
public sealed class ReadQuery
{
    private readonly List<object> _parameters = [];
    private readonly Dictionary<string, string> _placeholders = [];

    private ReadQuery()
    {
    }

    public string Sql { get; private set; } = "";

    public IReadOnlyList<object> Parameters => _parameters;

    public static ReadQuery ForList(ListRequest request, UserGroups userGroups)
    {
        var query = new ReadQuery();
        var table = Table.Of(request.Resource, userGroups);
        var conditions = query.Conditions(request);
        var (cursorName, cursor) = request.After is not null ? ("after", request.After) : request.Before is not null ? ("before", request.Before) : (null, null);
        var forward = request.Before is null;
        var scanAscending = request.Ascending == forward;
        var limit = query.Parameter("limit", request.Limit);

        var keyset = conditions;
        var other = "false";
        if (cursor is not null)
        {
            var c = query.Parameter("cursor", cursor);
            var cursorKey = $"(SELECT {Key("c")} FROM {table.Name} c WHERE c.{table.Id} = {c})";
            var row = $"({Key("o")}, o.{table.Id} COLLATE \"C\")";
            keyset = [.. conditions, $"{row} {(scanAscending ? ">" : "<")} ({cursorKey}, {c})"];
            // Whether the list goes on behind the cursor: the nearest such row, found on the list index like the page's
            // (a scalar sub-select, not EXISTS, whose ORDER BY Postgres would drop and then filter some other index).
            var back = scanAscending ? " DESC" : "";
            other = $"""
                (SELECT true FROM {table.Name} o WHERE {And([.. conditions, $"{row} {(scanAscending ? "<=" : ">=")} ({cursorKey}, {c})"])}
                 ORDER BY {Key("o")}{back}, o.{table.Id} COLLATE "C"{back} LIMIT 1)
                """;
        }

        string lowN = "(SELECT wid FROM kept WHERE n = 1)", highN = "(SELECT wid FROM kept ORDER BY n DESC LIMIT 1)";
        var more = $"EXISTS (SELECT 1 FROM numbered WHERE n > {limit})";
        var (before, after) = forward
            ? ($"CASE WHEN {other} THEN {lowN} END", $"CASE WHEN {more} THEN {highN} END")
            : ($"CASE WHEN {more} THEN {highN} END", $"CASE WHEN {other} THEN {lowN} END");
        if (request.CursorsSwapped) (before, after) = (after, before);

        var missing = query.Missing(request, table, cursorName, cursor);
        query.Sql = $"""
            {query.Page(table, keyset, scanAscending, limit)}
            SELECT {missing} AS missing, {query.SyncedAt(request)} AS synced_at, json_build_object(
                'object', 'list',
                'data', coalesce((SELECT json_agg(j ORDER BY n{(forward ? "" : " DESC")}) FROM shaped), '[]'),
                'list_metadata', json_build_object('before', {before}, 'after', {after})) AS body
            """;
        return query;
    }

    /// <summary>One object by its WorkOS id: <c>body</c> is null when there is none.</summary>
    public static ReadQuery ForObject(Resource resource, string id, UserGroups userGroups)
    {
        var query = new ReadQuery();
        var table = Table.Of(resource, userGroups);
        var p = query.Parameter("id", id);
        var directory = resource == Resource.Directories ? p : DirectoryOf(table, p);
        query.Sql = $"""
            {query.Page(table, [$"o.{table.Id} = {p}"], scanAscending: true, query.Parameter("limit", 1))}
            SELECT NULL::text AS missing, {Freshness(directory)} AS synced_at, (SELECT j FROM shaped) AS body
            """;
        return query;
    }

    /// <summary>The page's rows (one more than the limit), numbered in scan order, and their JSON.</summary>
    private string Page(Table table, IReadOnlyList<string> conditions, bool scanAscending, string limit)
    {
        var direction = scanAscending ? "" : " DESC";
        return $"""
            WITH page AS (
                SELECT o.id, o.{table.Id} AS wid, {Key("o")} AS at
                FROM {table.Name} o
                WHERE {And(conditions)}
                ORDER BY {Key("o")}{direction}, o.{table.Id} COLLATE "C"{direction}
                LIMIT {limit} + 1
            ), numbered AS (
                SELECT page.*, row_number() OVER (ORDER BY at{direction}, wid COLLATE "C"{direction}) AS n FROM page
            ), kept AS (
                SELECT * FROM numbered WHERE n <= {limit}
            ), {table.Shape}
            """;
    }

    /// <summary>The list's filters as conditions on the listed table (alias <c>o</c>).</summary>
    private List<string> Conditions(ListRequest request)
    {
        var conditions = new List<string>();
        foreach (var (name, value) in request.Filters.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            conditions.Add((request.Resource, name) switch
            {
                (Resource.Directories, "organization_id") => $"o.organization_id = {Parameter(name, value)}",
                (Resource.Directories, "search") => $"o.name ILIKE {Parameter(name, $"%{EscapeLike(value)}%")}",
                (Resource.Directories, "domain") =>
                    $"EXISTS (SELECT 1 FROM unnest(o.domains) AS x (domain) WHERE lower(x.domain) = lower({Parameter(name, value)}))",
                (_, "directory") => $"o.directory_id = (SELECT id FROM directories WHERE workos_directory_id = {Parameter(name, value)})",
                (Resource.Users, "group") => $"""
                    o.id IN (SELECT m.user_id FROM directory_group_memberships m
                             WHERE m.group_id = (SELECT id FROM directory_groups WHERE workos_group_id = {Parameter(name, value)}))
                    """,
                (Resource.Users, "idp_id") => $"o.idp_id = {Parameter(name, value)}",
                (Resource.Users, "email") => $"lower(o.email) = lower({Parameter(name, value)})",
                (Resource.Groups, "user") => $"""
                    o.id IN (SELECT m.group_id FROM directory_group_memberships m
                             WHERE m.user_id = (SELECT id FROM directory_users WHERE workos_user_id = {Parameter(name, value)}))
                    """,
                _ => throw new ArgumentException($"{name} is not a filter of {request.Resource}", nameof(request)),
            });
        }
        return conditions;
    }

    /// <summary>Which named object does not exist: a filter's (404), else the cursor's (400).</summary>
    private string Missing(ListRequest request, Table listed, string? cursorName, string? cursor)
    {
        var checks = new List<string>();
        foreach (var (name, table) in new[] { ("directory", Table.Directories), ("group", Table.Groups), ("user", Table.Users) })
        {
            if (request.Filter(name) is { } value) checks.Add($"WHEN NOT EXISTS (SELECT 1 FROM {table.Name} WHERE {table.Id} = {Parameter(name, value)}) THEN '{name}'");
        }
        if (cursor is not null)
        {
            checks.Add($"WHEN NOT EXISTS (SELECT 1 FROM {listed.Name} WHERE {listed.Id} = {Parameter("cursor", cursor)}) THEN '{cursorName}'");
        }
        return checks.Count == 0 ? "NULL::text" : $"CASE {string.Join(" ", checks)} END";
    }

    /// <summary>A list concerns one directory when it is filtered by one, or by a group or user (each in one directory).</summary>
    private string SyncedAt(ListRequest request)
    {
        if (request.Resource == Resource.Directories) return "NULL::timestamptz";
        var directory = request.Filter("directory") is { } d ? Parameter("directory", d)
            : request.Filter("group") is { } g ? DirectoryOf(Table.Groups, Parameter("group", g))
            : DirectoryOf(Table.Users, Parameter("user", request.Filter("user")!));
        return Freshness(directory);
    }

    private static string DirectoryOf(Table table, string id) =>
        $"(SELECT d.workos_directory_id FROM {table.Name} x JOIN directories d ON d.id = x.directory_id WHERE x.{table.Id} = {id})";

    private static string Freshness(string directory) =>
        $"(SELECT confirmed_at FROM directory_freshness WHERE workos_directory_id = {directory})";

    /// <summary>The sort key of a row of any listed table: WorkOS's created_at, the version's time where the row has none.</summary>
    private static string Key(string alias) => $"coalesce({alias}.created_at, {alias}.version_at)";

    private static string And(IReadOnlyCollection<string> conditions) => conditions.Count == 0 ? "true" : string.Join("\n      AND ", conditions);

    private static string EscapeLike(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");

    /// <summary>A placeholder for <paramref name="value"/>; the same name always gets the same one.</summary>
    private string Parameter(string name, object value)
    {
        if (!_placeholders.TryGetValue(name, out var placeholder))
        {
            _parameters.Add(value);
            placeholder = _placeholders[name] = $"${_parameters.Count}";
        }
        return placeholder;
    }

    /// <summary>A listed table: its name, WorkOS id column, and how its kept rows are shaped (CTE <c>shaped (n, j)</c>).</summary>
    private sealed record Table(string Name, string Id, string Shape)
    {
        public static readonly Table Directories = new("directories", "workos_directory_id", """
            shaped AS (
                SELECT k.n, workos_directory_object(d) AS j FROM kept k JOIN directories d ON d.id = k.id
            )
            """);

        public static readonly Table Groups = new("directory_groups", "workos_group_id", """
            shaped AS (
                SELECT k.n, workos_group_object(g, d.workos_directory_id) AS j
                FROM kept k JOIN directory_groups g ON g.id = k.id JOIN directories d ON d.id = g.directory_id
            )
            """);

        /// <summary>Users whose <c>groups</c> is <c>[]</c> (<see cref="UserGroups.Empty"/>): no membership is read.</summary>
        public static readonly Table Users = new("directory_users", "workos_user_id", """
            shaped AS (
                SELECT k.n, workos_user_object(u, d.workos_directory_id, '[]'::json) AS j
                FROM kept k JOIN directory_users u ON u.id = k.id JOIN directories d ON d.id = u.directory_id
            )
            """);

        // A user's groups as workos_user_groups (sql/013) orders them, built for the whole page: each group on the page
        // is shaped once (MATERIALIZED keeps Postgres from shaping it per member), then gathered per user.
        public static readonly Table UsersWithGroups = new("directory_users", "workos_user_id", """
            members AS (
                SELECT m.user_id, m.group_id FROM directory_group_memberships m WHERE m.user_id IN (SELECT id FROM kept)
            ), page_groups AS MATERIALIZED (
                SELECT g.id, workos_group_object(g, d.workos_directory_id) AS j, coalesce(g.created_at, g.version_at) AS at, g.workos_group_id AS gid
                FROM directory_groups g JOIN directories d ON d.id = g.directory_id
                WHERE g.id IN (SELECT group_id FROM members)
            ), user_groups AS (
                SELECT m.user_id, json_agg(pg.j ORDER BY pg.at, pg.gid COLLATE "C") AS groups
                FROM members m JOIN page_groups pg ON pg.id = m.group_id
                GROUP BY m.user_id
            ), shaped AS (
                SELECT k.n, workos_user_object(u, d.workos_directory_id, coalesce(ug.groups, '[]')) AS j
                FROM kept k JOIN directory_users u ON u.id = k.id JOIN directories d ON d.id = u.directory_id
                LEFT JOIN user_groups ug ON ug.user_id = k.id
            )
            """);

        public static Table Of(Resource resource, UserGroups userGroups) => resource switch
        {
            Resource.Directories => Directories,
            Resource.Users => userGroups == UserGroups.Embedded ? UsersWithGroups : Users,
            _ => Groups,
        };
    }
}
