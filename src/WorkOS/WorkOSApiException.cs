using System.Net;

namespace DirectorySync.WorkOS;

/// <summary>
/// A WorkOS API call that failed once its retries were spent, or was refused: which call (<see cref="Operation"/>, such
/// as <c>GET /directory_users?directory=…</c>), and why, in WorkOS's words when it gave any. Never holds the API key.
/// </summary>
public sealed class WorkOSApiException : Exception
{
    public WorkOSApiException(
        string operation, string reason, HttpStatusCode? status = null, string? code = null, string? apiMessage = null,
        string? requestId = null, Exception? innerException = null)
        : base($"{operation} failed: {reason}", innerException)
    {
        Operation = operation;
        Status = status;
        Code = code;
        ApiMessage = apiMessage;
        RequestId = requestId;
    }

    /// <summary>The method and the path with its query, relative to the base URL.</summary>
    public string Operation { get; }

    /// <summary>The HTTP status of the last answer; null when there was none (transport failure, timeout).</summary>
    public HttpStatusCode? Status { get; }

    /// <summary>WorkOS's error <c>code</c> (snake_case), when its answer had one.</summary>
    public string? Code { get; }

    /// <summary>WorkOS's error <c>message</c>, when its answer had one.</summary>
    public string? ApiMessage { get; }

    /// <summary>The <c>X-Request-ID</c> WorkOS's support can look the request up by.</summary>
    public string? RequestId { get; }
}
