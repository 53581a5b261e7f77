using System.Text.Json;
using System.Text.Json.Serialization;

namespace DirectorySync.WorkOS;

// The shapes WorkOS sends, read by the source-generated WorkOSJsonContext and mapped onto the contract records by
// WorkOSEventParser (events, and the REST objects through WorkOSObjects) and WorkOSClient (list pages, errors).
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

/// <summary>A page of the REST or Events API: <c>data</c> stays JSON so that each entry is read, and can fail, on its own.</summary>
internal sealed record ListEnvelope(JsonElement Data, ListMetadata? ListMetadata);

internal sealed record ListMetadata(string? Before, string? After);

/// <summary>What WorkOS says when it refuses a request (its <c>errors</c> list, per field, is not read).</summary>
internal sealed record ErrorBody(string? Code, string? Message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(DirectoryPayload))]
[JsonSerializable(typeof(UserPayload))]
[JsonSerializable(typeof(GroupPayload))]
[JsonSerializable(typeof(MembershipPayload))]
[JsonSerializable(typeof(ListEnvelope))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class WorkOSJsonContext : JsonSerializerContext;
