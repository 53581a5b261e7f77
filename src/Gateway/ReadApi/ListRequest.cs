using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace DirectorySync.Gateway.ReadApi;

/// <summary>The three kinds of object the read API serves, with the list filters WorkOS's API takes for each (FACTS §8).</summary>
public enum Resource
{
    Directories,
    Users,
    Groups,
}

internal static class Resources
{
    public static string Path(this Resource resource) => resource switch
    {
        Resource.Directories => "directories",
        Resource.Users => "directory_users",
        _ => "directory_groups",
    };

    /// <summary>How messages name one object of the kind, as WorkOS's do ("Directory not found: 'x'.").</summary>
    public static string Noun(this Resource resource) => resource switch
    {
        Resource.Directories => "Directory",
        Resource.Users => "Directory User",
        _ => "Directory Group",
    };

    public static IReadOnlyList<string> Filters(this Resource resource) => resource switch
    {
        // domain is deprecated by WorkOS and still accepted by it.
        Resource.Directories => ["organization_id", "search", "domain"],
        Resource.Users => ["directory", "group", "idp_id", "email"],
        _ => ["directory", "user"],
    };
}

/// <summary>One field's complaint in an error answer's <c>errors</c>.</summary>
public sealed record FieldError(string Field, string Code, string Message);

/// <summary>An answer other than 200, in WorkOS's error shape: <c>{message, code, errors?}</c>.</summary>
public sealed record ReadApiError(int Status, string Message, string Code, IReadOnlyList<FieldError>? Errors = null)
{
    public static ReadApiError NotFound(Resource resource, string id) =>
        new(StatusCodes.Status404NotFound, $"{resource.Noun()} not found: '{id}'.", "entity_not_found");

    public static ReadApiError Invalid(params FieldError[] errors) =>
        new(StatusCodes.Status400BadRequest, "Validation failed.", "invalid_request_parameters", errors);
}

/// <summary>
/// A list request as its query string asked for it, checked. <see cref="Ascending"/> is the order the rows come in;
/// <c>order=normal</c> is descending with <c>before</c> and <c>after</c> swapped, both in the request and in
/// <c>list_metadata</c> (<see cref="CursorsSwapped"/>), so its cursors are already swapped here.
/// </summary>
public sealed record ListRequest(
    Resource Resource,
    IReadOnlyDictionary<string, string> Filters,
    int Limit,
    bool Ascending,
    bool CursorsSwapped,
    string? After,
    string? Before)
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;

    private static readonly string[] Pagination = ["limit", "order", "before", "after"];

    /// <summary>The value of the filter <paramref name="name"/>, when given.</summary>
    public string? Filter(string name) => Filters.GetValueOrDefault(name);

    /// <summary>
    /// Reads <paramref name="query"/>: every parameter must be one the list takes, given once and not empty (400 naming
    /// each that is not); <c>idp_id</c> and <c>email</c> need <c>directory</c>, and users and groups are listed per
    /// directory, group or user (422, as WorkOS answers a request it understood but will not serve).
    /// </summary>
    public static (ListRequest? Request, ReadApiError? Error) Parse(Resource resource, IQueryCollection query)
    {
        var known = resource.Filters().Concat(Pagination).ToHashSet(StringComparer.Ordinal);
        var errors = new List<FieldError>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in query)
        {
            if (!known.Contains(name))
                errors.Add(new(name, "unknown_parameter", $"'{name}' is not a parameter of GET /{resource.Path()}; it takes {string.Join(", ", known.Order(StringComparer.Ordinal))}."));
            else if (value.Count != 1)
                errors.Add(new(name, "repeated_parameter", $"'{name}' is given {value.Count} times; give it once."));
            else if (Single(value) is not { } text)
                errors.Add(new(name, "invalid_value", $"'{name}' is empty or holds a NUL character."));
            else
                values[name] = text;
        }

        var limit = DefaultLimit;
        if (values.Remove("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            errors.Add(new("limit", "invalid_value", $"'limit' must be a whole number from 1 to {MaxLimit}, not '{limitText}'."));
        values.Remove("order", out var order);
        if (order is not (null or "asc" or "desc" or "normal"))
            errors.Add(new("order", "invalid_value", $"'order' must be asc, desc or normal, not '{order}'."));
        values.Remove("after", out var after);
        values.Remove("before", out var before);
        if (after is not null && before is not null)
            errors.Add(new("before", "conflicting_parameters", "Give 'before' or 'after', not both."));
        if (errors.Count > 0) return (null, ReadApiError.Invalid([.. errors]));

        var unprocessable = resource switch
        {
            Resource.Users when !values.ContainsKey("directory") && values.Keys.FirstOrDefault(k => k is "idp_id" or "email") is { } needs =>
                $"The '{needs}' filter requires the 'directory' filter.",
            Resource.Users when !values.ContainsKey("directory") && !values.ContainsKey("group") =>
                "List the users of a directory or of a group: give 'directory' or 'group'.",
            Resource.Groups when !values.ContainsKey("directory") && !values.ContainsKey("user") =>
                "List the groups of a directory or of a user: give 'directory' or 'user'.",
            _ => null,
        };
        if (unprocessable is not null)
            return (null, new ReadApiError(StatusCodes.Status422UnprocessableEntity, unprocessable, "invalid_request_parameters"));

        var normal = order == "normal";
        return (new ListRequest(resource, values, limit, Ascending: order == "asc", CursorsSwapped: normal,
            After: normal ? before : after, Before: normal ? after : before), null);
    }

    // Postgres text cannot hold NUL: no object has such an id, and no filter could match it.
    private static string? Single(StringValues value) => value[0] is { Length: > 0 } text && !text.Contains('\0') ? text : null;
}
