namespace DirectorySync.Simulator.Mirror;

/// <summary>How the product treats a user who turns inactive (FACTS §5); the expected mirror depends on it.</summary>
public enum InactivePolicy
{
    /// <summary>Keep the user with state <c>inactive</c>, and keep its memberships.</summary>
    Retain,
    /// <summary>Remove the user and its memberships, exactly like <c>dsync.user.deleted</c>.</summary>
    Delete,
}

/// <summary>One row of <c>directories</c>, as far as the simulator can predict it.</summary>
public sealed record MirrorDirectory(
    string WorkosDirectoryId,
    string? OrganizationId,
    string State,
    string? DirectoryType,
    string? Name)
{
    public override string ToString() =>
        $"{WorkosDirectoryId} (organization {OrganizationId ?? "null"}, state {State}, type {DirectoryType ?? "null"}, name {Name ?? "null"})";
}

/// <summary>One row of <c>directory_users</c>, with its directory named by WorkOS id.</summary>
public sealed record MirrorUser(
    string WorkosUserId,
    string WorkosDirectoryId,
    string? Email,
    string? FirstName,
    string? LastName,
    string State,
    IReadOnlyList<string> RoleSlugs)
{
    // Role order carries no meaning, and a list compares by reference: compare the sorted slugs instead.
    public bool Equals(MirrorUser? other) =>
        other is not null
        && WorkosUserId == other.WorkosUserId
        && WorkosDirectoryId == other.WorkosDirectoryId
        && Email == other.Email
        && FirstName == other.FirstName
        && LastName == other.LastName
        && State == other.State
        && SortedRoles(RoleSlugs).SequenceEqual(SortedRoles(other.RoleSlugs), StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(WorkosUserId, Email, State);

    public override string ToString() =>
        $"{WorkosUserId} (directory {WorkosDirectoryId}, email {Email ?? "null"}, name {FirstName} {LastName}, " +
        $"state {State}, roles [{string.Join(",", SortedRoles(RoleSlugs))}])";

    private static IEnumerable<string> SortedRoles(IReadOnlyList<string> slugs) => slugs.Order(StringComparer.Ordinal);
}

/// <summary>One row of <c>directory_groups</c>, with its directory named by WorkOS id.</summary>
public sealed record MirrorGroup(string WorkosGroupId, string WorkosDirectoryId, string? Name)
{
    public override string ToString() => $"{WorkosGroupId} (directory {WorkosDirectoryId}, name {Name ?? "null"})";
}

/// <summary>One row of <c>directory_group_memberships</c>, named by the WorkOS ids of its user and group.</summary>
public sealed record MirrorMembership(string WorkosUserId, string WorkosGroupId)
{
    public override string ToString() => $"user {WorkosUserId} in group {WorkosGroupId}";
}
