using System.Text.Json;

namespace DirectorySync.Simulator.History;

/// <summary>Which shape WorkOS payloads take (FACTS §3).</summary>
public enum PayloadGeneration
{
    /// <summary>Since 2026-04-15: <c>emails</c>, <c>username</c> and <c>job_title</c> inside <c>custom_attributes</c>, <c>raw_attributes</c> empty.</summary>
    New,
    /// <summary>Before: <c>emails</c>, <c>username</c>, <c>job_title</c> at the top level and <c>raw_attributes</c> filled.</summary>
    Old,
    /// <summary>Each event picks one of the two at random, as during the transition.</summary>
    Mixed,
}

/// <summary>A directory user as WorkOS holds it at one moment; every user event carries one of these.</summary>
internal sealed record UserSnapshot
{
    public required string Id { get; init; }
    public required string IdpId { get; init; }
    public required string DirectoryId { get; init; }
    public required string OrganizationId { get; init; }
    public required string FirstName { get; init; }
    public required string LastName { get; init; }
    public required string WorkEmail { get; init; }
    /// <summary>A non-primary address some IdPs send besides the work one.</summary>
    public string? PersonalEmail { get; init; }
    /// <summary>
    /// The IdP sends no top-level <c>email</c>, and lists the personal address first: the receiver must find the
    /// primary entry of <c>emails</c> instead.
    /// </summary>
    public bool PrimaryEmailOnlyInList { get; init; }
    public string? JobTitle { get; init; }
    public string? Department { get; init; }
    public string? ManagerEmail { get; init; }
    public required string EmployeeNumber { get; init; }
    public required string State { get; init; }
    public required string PrimaryRole { get; init; }
    public string? SecondaryRole { get; init; }
    /// <summary>The keys this user's directory defines for itself (shared by all its users).</summary>
    public required IReadOnlyList<string> CustomerAttributeKeys { get; init; }
    /// <summary>Values of <see cref="CustomerAttributeKeys"/>, in that order; null = not set.</summary>
    public required IReadOnlyList<string?> CustomerAttributes { get; init; }
    public required long CreatedAtMs { get; init; }
    public required long UpdatedAtMs { get; init; }

    public string? TopLevelEmail => PrimaryEmailOnlyInList ? null : WorkEmail;

    public string Username => WorkEmail;

    public IReadOnlyList<string> RoleSlugs => SecondaryRole is null ? [PrimaryRole] : [PrimaryRole, SecondaryRole];
}

/// <summary>A directory group as WorkOS holds it at one moment.</summary>
internal sealed record GroupSnapshot(
    string Id,
    string IdpId,
    string DirectoryId,
    string OrganizationId,
    string Name,
    long CreatedAtMs,
    long UpdatedAtMs);

/// <summary>
/// An object in the simulated IdP with its current snapshot. The serialised snapshot is cached per payload
/// generation: 50,000 <c>user_added</c> events embed the same users and groups over and over.
/// </summary>
internal abstract class SimulatedObject<TSnapshot>(TSnapshot snapshot) where TSnapshot : class
{
    private TSnapshot _snapshot = snapshot;
    private readonly byte[]?[] _json = new byte[2][];

    public TSnapshot Snapshot
    {
        get => _snapshot;
        set
        {
            _snapshot = value;
            Array.Clear(_json);
        }
    }

    public byte[] Json(PayloadGeneration generation) =>
        _json[(int)generation] ??= EventPayloads.Serialise(writer => Write(writer, _snapshot, generation));

    protected abstract void Write(Utf8JsonWriter writer, TSnapshot snapshot, PayloadGeneration generation);
}

/// <summary>A user in the simulated IdP, with its group memberships as WorkOS sees them.</summary>
internal sealed class SimulatedUser(UserSnapshot snapshot) : SimulatedObject<UserSnapshot>(snapshot)
{
    public HashSet<SimulatedGroup> Groups { get; } = [];

    protected override void Write(Utf8JsonWriter writer, UserSnapshot snapshot, PayloadGeneration generation) =>
        EventPayloads.WriteUser(writer, snapshot, generation);
}

/// <summary>A group in the simulated IdP, with its members.</summary>
internal sealed class SimulatedGroup(GroupSnapshot snapshot) : SimulatedObject<GroupSnapshot>(snapshot)
{
    public HashSet<SimulatedUser> Members { get; } = [];

    protected override void Write(Utf8JsonWriter writer, GroupSnapshot snapshot, PayloadGeneration generation) =>
        EventPayloads.WriteGroup(writer, snapshot, generation);
}
