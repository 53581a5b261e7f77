namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>
/// A request the fake answers with a WorkOS error (<c>{message, code, errors?}</c>, FACTS §8). Thrown where the problem
/// is found, from parameter parsing down to cursor lookups, and turned into the response (and a log line) in one place.
/// </summary>
internal sealed class ApiProblem(int status, string code, string message, string? field = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>WorkOS's snake_case error code.</summary>
    public string Code { get; } = code;

    /// <summary>The parameter at fault, reported in <c>errors[]</c>; null when the request as a whole is.</summary>
    public string? Field { get; } = field;

    public static ApiProblem InvalidParameter(string field, string message) =>
        new(422, "invalid_request_parameters", message, field);

    public static ApiProblem NotFound(string what, string id) =>
        new(404, "entity_not_found", $"{what} '{id}' not found.");
}
