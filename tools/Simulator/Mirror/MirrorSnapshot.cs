namespace DirectorySync.Simulator.Mirror;

/// <summary>The contents of the four mirror tables, keyed by WorkOS ids: what a run should leave behind, or what it did.</summary>
public sealed record MirrorSnapshot(
    IReadOnlyDictionary<string, MirrorDirectory> Directories,
    IReadOnlyDictionary<string, MirrorUser> Users,
    IReadOnlyDictionary<string, MirrorGroup> Groups,
    IReadOnlySet<MirrorMembership> Memberships)
{
    public override string ToString() =>
        $"{Directories.Count:N0} directories, {Users.Count:N0} users, {Groups.Count:N0} groups, {Memberships.Count:N0} memberships";

    /// <summary>The same rows without what <see cref="MirrorColumns.Common"/> leaves out: directory names and role slugs.</summary>
    public MirrorSnapshot CommonColumnsOnly() => this with
    {
        Directories = Directories.ToDictionary(pair => pair.Key, pair => pair.Value with { Name = null }, StringComparer.Ordinal),
        Users = Users.ToDictionary(pair => pair.Key, pair => pair.Value with { RoleSlugs = [] }, StringComparer.Ordinal),
    };

    /// <summary>
    /// Every way <paramref name="actual"/> departs from <paramref name="expected"/>, table by table in the order
    /// directories, users, groups, memberships, each sorted by WorkOS id so two runs report alike.
    /// </summary>
    public static IReadOnlyList<MirrorDifference> Compare(MirrorSnapshot expected, MirrorSnapshot actual)
    {
        var differences = new List<MirrorDifference>();
        CompareRows("directories", expected.Directories, actual.Directories, differences);
        CompareRows("directory_users", expected.Users, actual.Users, differences);
        CompareRows("directory_groups", expected.Groups, actual.Groups, differences);
        CompareRows(
            "directory_group_memberships",
            expected.Memberships.ToDictionary(MembershipKey),
            actual.Memberships.ToDictionary(MembershipKey),
            differences);
        return differences;
    }

    private static string MembershipKey(MirrorMembership membership) =>
        $"{membership.WorkosGroupId}/{membership.WorkosUserId}";

    private static void CompareRows<TRow>(
        string table,
        IReadOnlyDictionary<string, TRow> expected,
        IReadOnlyDictionary<string, TRow> actual,
        List<MirrorDifference> differences)
        where TRow : class
    {
        var keys = expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var wanted = expected.GetValueOrDefault(key);
            var found = actual.GetValueOrDefault(key);
            if (!Equals(wanted, found))
            {
                differences.Add(new MirrorDifference(table, key, wanted?.ToString(), found?.ToString()));
            }
        }
    }
}

/// <summary>One row that is missing, unexpected, or different; a side that has no row is null.</summary>
public sealed record MirrorDifference(string Table, string Key, string? Expected, string? Actual)
{
    public override string ToString() => (Expected, Actual) switch
    {
        (not null, null) => $"{Table}: missing {Expected}",
        (null, not null) => $"{Table}: unexpected {Actual}",
        _ => $"{Table}: {Key} differs\n    expected {Expected}\n    actual   {Actual}",
    };
}
