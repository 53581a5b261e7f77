using System.Text.Json;
using System.Text.Json.Serialization;

namespace DirectorySync.WorkOS;

// The shapes WorkOS sends, read by the source-generated WorkOSJsonContext and mapped onto the contract records by
// WorkOSEventParser (events, and the REST objects through WorkOSObjects).
// Everything is nullable: presence is checked when mapping, so a missing field gets a precise reason.
// created_at and data stay JsonElement in the envelope: a bad value there dead-letters the event instead of hiding its id.

internal sealed record EventEnvelope(string? Id, string? Event, JsonElement CreatedAt, JsonElement Data);

internal sealed record DirectoryPayload(
    string? Id,
    string? OrganizationId,
    string? Name,
    string? Type,
    string? State,
    IReadOnlyList<DomainPayload?>? Domains,
    string? Domain,
    string? ExternalKey,
    JsonElement CreatedAt,
    JsonElement UpdatedAt);

internal sealed record DomainPayload(string? Domain);

internal sealed record UserPayload(
    string? Id,
    string? DirectoryId,
    string? OrganizationId,
    string? IdpId,
    string? Email,
    IReadOnlyList<EmailPayload?>? Emails,
    string? FirstName,
    string? LastName,
    string? Username,
    string? JobTitle,
    string? State,
    RolePayload? Role,
    IReadOnlyList<RolePayload?>? Roles,
    JsonElement CustomAttributes,
    JsonElement RawAttributes,
    JsonElement CreatedAt,
    JsonElement UpdatedAt);

internal sealed record EmailPayload(string? Value, bool? Primary);

internal sealed record RolePayload(string? Slug);

internal sealed record GroupPayload(
    string? Id,
    string? DirectoryId,
    string? OrganizationId,
    string? IdpId,
    string? Name,
    JsonElement RawAttributes,
    JsonElement CreatedAt,
    JsonElement UpdatedAt);

/// <summary>Only the ids are read from a membership's user and group: their other fields are the user and group events' business.</summary>
internal sealed record MembershipPayload(string? DirectoryId, MemberReference? User, MemberReference? Group);

internal sealed record MemberReference(string? Id, string? DirectoryId);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(DirectoryPayload))]
[JsonSerializable(typeof(UserPayload))]
[JsonSerializable(typeof(GroupPayload))]
[JsonSerializable(typeof(MembershipPayload))]
internal sealed partial class WorkOSJsonContext : JsonSerializerContext;
