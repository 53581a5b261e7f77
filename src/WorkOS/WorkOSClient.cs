using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using DirectorySync.Events;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace DirectorySync.WorkOS;

/// <summary>
/// The WorkOS API as far as Directory Sync needs it: directories, their users and groups (REST), and the Events API.
/// Each <c>List…</c> method is one request for one page; the <c>ListAll…</c> methods page to the end. Entries are read by
/// the rules webhook events are read by, and one that cannot be read is reported in its page, never failing the page.
/// A call that fails (after the retries <see cref="WorkOSApiServices.AddWorkOSApi"/> sets up) throws a
/// <see cref="WorkOSApiException"/> saying which call and why, never with the API key.
/// </summary>
public sealed partial class WorkOSClient(HttpClient http, WorkOSOptions options, TimeProvider clock, ILogger<WorkOSClient> logger)
{
    /// <summary>The largest page WorkOS serves.</summary>
    public const int MaxLimit = 100;

    private const int MaxQuotedLength = 500;

    private delegate bool TryRead<T>(JsonElement json, [NotNullWhen(true)] out T? value, [NotNullWhen(false)] out string? failure)
        where T : class;

    /// <summary>A page of the environment's directories, oldest first.</summary>
    public Task<WorkOSPage<WorkOSDirectory>> ListDirectoriesAsync(
        string? after, int limit = MaxLimit, CancellationToken cancellationToken = default) =>
        ListAsync<WorkOSDirectory>(
            new Query("directories").Page(after, limit), directoryId: null, WorkOSObjects.TryReadDirectory, cancellationToken);

    /// <summary>One directory; null when WorkOS does not know it (404).</summary>
    public async Task<WorkOSDirectory?> GetDirectoryAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var pathAndQuery = $"directories/{Uri.EscapeDataString(id)}";
        var operation = Operation(pathAndQuery);
        if (await GetAsync(operation, pathAndQuery, directoryId: null, notFoundIsNull: true, cancellationToken) is not { } body)
        {
            return null;
        }

        using var document = Parse(operation, body);
        return WorkOSObjects.TryReadDirectory(document.RootElement, out var directory, out var failure)
            ? directory
            : throw Failure(operation, $"the directory it answered cannot be read: {failure}", HttpStatusCode.OK);
    }

    /// <summary>
    /// A page of a directory's users, oldest first; with <paramref name="groupId"/>, of that group's members (a group of
    /// <paramref name="directoryId"/>, which their requests count against: WorkOS allows 4 a second per directory).
    /// </summary>
    public Task<WorkOSPage<DirectoryUser>> ListUsersAsync(
        string directoryId, string? groupId, string? after, int limit = MaxLimit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryId);
        return ListAsync<DirectoryUser>(
            UsersQuery(directoryId, groupId).Page(after, limit), directoryId, WorkOSObjects.TryReadUser, cancellationToken);
    }

    /// <summary>A page of a directory's groups, oldest first.</summary>
    public Task<WorkOSPage<DirectoryGroup>> ListGroupsAsync(
        string directoryId, string? after, int limit = MaxLimit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryId);
        return ListAsync<DirectoryGroup>(
            GroupsQuery(directoryId).Page(after, limit), directoryId: null, WorkOSObjects.TryReadGroup, cancellationToken);
    }

    /// <summary>
    /// A page of events, oldest first, each judged by the webhook parser as if signed now: an event dated later than now
    /// plus the signature tolerance is dead-lettered, as a webhook's would be.
    /// </summary>
    public Task<WorkOSPage<WorkOSEvent>> ListEventsAsync(EventsQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.After is not null && query.RangeStart is not null)
        {
            throw new ArgumentException(
                "An events query continues after an event or starts at a time, not both: WorkOS refuses after with range_start.",
                nameof(query));
        }

        if (query.Types.Count == 0 || query.Types.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("An events query needs at least one event type, and no blank one.", nameof(query));
        }

        var request = new Query("events");
        if (options.EventsQueryStyle == EventsQueryStyle.Comma)
        {
            request.Add("events", query.Types);
        }
        else
        {
            var name = options.EventsQueryStyle == EventsQueryStyle.Repeat ? "events" : "events[]";
            foreach (var type in query.Types)
            {
                request.Add(name, type);
            }
        }

        request.Add("organization_id", query.OrganizationId)
            .Add("range_start", Timestamp(query.RangeStart))
            .Add("range_end", Timestamp(query.RangeEnd))
            .Page(query.After, query.Limit);
        return ListAsync<WorkOSEvent>(
            request, directoryId: null,
            (JsonElement json, [NotNullWhen(true)] out WorkOSEvent? listed, [NotNullWhen(false)] out string? failure) =>
                TryReadEvent(json, clock.GetUtcNow() + WorkOSEventParser.DefaultTolerance, out listed, out failure),
            cancellationToken);
    }

    /// <summary>Every directory of the environment, page by page, until WorkOS says there are no more.</summary>
    public IAsyncEnumerable<WorkOSPage<WorkOSDirectory>> ListAllDirectoriesAsync(CancellationToken cancellationToken = default) =>
        PagesAsync(Operation("directories"), (after, ct) => ListDirectoriesAsync(after, MaxLimit, ct), endsBelow: null, cancellationToken);

    /// <summary>Every user of a directory (or every member of a group), page by page.</summary>
    public IAsyncEnumerable<WorkOSPage<DirectoryUser>> ListAllUsersAsync(
        string directoryId, string? groupId, CancellationToken cancellationToken = default) =>
        PagesAsync(
            Operation(UsersQuery(directoryId, groupId).ToString()), (after, ct) => ListUsersAsync(directoryId, groupId, after, MaxLimit, ct),
            endsBelow: null, cancellationToken);

    /// <summary>Every group of a directory, page by page.</summary>
    public IAsyncEnumerable<WorkOSPage<DirectoryGroup>> ListAllGroupsAsync(string directoryId, CancellationToken cancellationToken = default) =>
        PagesAsync(
            Operation(GroupsQuery(directoryId).ToString()), (after, ct) => ListGroupsAsync(directoryId, after, MaxLimit, ct),
            endsBelow: null, cancellationToken);

    /// <summary>
    /// Every event from <paramref name="query"/>'s start on, page by page: each next page continues after the last (the
    /// Events API has no "more" flag: a short page is the end too).
    /// </summary>
    public IAsyncEnumerable<WorkOSPage<WorkOSEvent>> ListAllEventsAsync(EventsQuery query, CancellationToken cancellationToken = default) =>
        PagesAsync(
            Operation("events"), (after, ct) => ListEventsAsync(after is null ? query : query with { After = after, RangeStart = null }, ct),
            endsBelow: query.Limit, cancellationToken);

    /// <summary>
    /// Pages until a page is empty or has no <c>after</c> (the REST lists' end, as every official SDK reads it) or, for
    /// the Events API, holds fewer than <paramref name="endsBelow"/>. A REST page is not taken as the last for being
    /// short: a listing that ended early would look complete, and reconciliation deletes what a complete listing lacks.
    /// </summary>
    private static async IAsyncEnumerable<WorkOSPage<T>> PagesAsync<T>(
        string listing, Func<string?, CancellationToken, Task<WorkOSPage<T>>> next, int? endsBelow,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        string? after = null;
        while (true)
        {
            var page = await next(after, cancellationToken);
            yield return page;
            if (page.Items.Count == 0 || page.After is null || page.Items.Count < endsBelow)
            {
                yield break;
            }

            if (page.After == after)
            {
                throw new WorkOSApiException(
                    listing, $"WorkOS answered the cursor {after} with itself as the next one: the listing would never end");
            }

            after = page.After;
        }
    }

    private async Task<WorkOSPage<T>> ListAsync<T>(Query query, string? directoryId, TryRead<T> read, CancellationToken cancellationToken)
        where T : class
    {
        var pathAndQuery = query.ToString();
        var operation = Operation(pathAndQuery);
        var body = await GetAsync(operation, pathAndQuery, directoryId, notFoundIsNull: false, cancellationToken);
        ListEnvelope? list;
        try
        {
            list = JsonSerializer.Deserialize(body, WorkOSJsonContext.Default.ListEnvelope);
        }
        catch (JsonException e)
        {
            throw Failure(operation, $"its answer is not a WorkOS list ({Where(e)})", HttpStatusCode.OK, inner: e);
        }

        if (list?.Data.ValueKind != JsonValueKind.Array)
        {
            throw Failure(operation, "its answer has no data array", HttpStatusCode.OK);
        }

        var items = new List<WorkOSItem<T>>(list.Data.GetArrayLength());
        foreach (var entry in list.Data.EnumerateArray())
        {
            if (read(entry, out var value, out var failure))
            {
                items.Add(WorkOSItem<T>.Read(value));
            }
            else
            {
                LogMalformedEntry(operation, items.Count, Redact(failure));
                items.Add(WorkOSItem<T>.Malformed(failure, entry.GetRawText()));
            }
        }

        return new WorkOSPage<T>(items, NonBlank(list.ListMetadata?.After), NonBlank(list.ListMetadata?.Before));
    }

    private static bool TryReadEvent(
        JsonElement json, DateTimeOffset notAfter, [NotNullWhen(true)] out WorkOSEvent? listed, [NotNullWhen(false)] out string? failure)
    {
        // The event's own bytes as listed: what the event log keeps, as it keeps a webhook's body.
        var raw = JsonMarshal.GetRawUtf8Value(json).ToArray();
        var parsed = WorkOSEventParser.Parse(raw, notAfter);
        var id = parsed switch
        {
            ParsedWebhook.Applicable applicable => applicable.Event.EventId,
            ParsedWebhook.Ignored ignored => ignored.EventId,
            ParsedWebhook.DeadLettered dead => dead.Letter.EventId,
            _ => null,
        };
        listed = id is null ? null : new WorkOSEvent(id, parsed, raw);
        failure = listed is null ? (parsed as ParsedWebhook.NotAnEnvelope)?.Reason ?? "not an event" : null;
        return listed is not null;
    }

    /// <summary>
    /// One GET through the pipeline: the body of a 2xx answer, null for a 404 where that means "none". A request given
    /// <paramref name="directoryId"/> waits for that directory's <c>/directory_users</c> rate limit.
    /// </summary>
    private async Task<byte[]?> GetAsync(
        string operation, string pathAndQuery, string? directoryId, bool notFoundIsNull, CancellationToken cancellationToken)
    {
        var key = options.ApiKey
            ?? throw new InvalidOperationException($"{operation}: no WorkOS API key is configured (WorkOS__ApiKey or WORKOS_API_KEY).");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pathAndQuery, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (directoryId is not null)
        {
            request.Options.Set(WorkOSRateLimits.Directory, directoryId);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutRejectedException e)
        {
            throw Failure(operation, $"no answer within {e.Timeout} (tried up to {options.MaxAttempts} times)", inner: e);
        }
        catch (HttpRequestException e)
        {
            throw Failure(operation, $"no answer after {options.MaxAttempts} tries ({e.HttpRequestError}: {e.Message})", inner: e);
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return body;
            }

            if (notFoundIsNull && response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            throw Refused(operation, response, body);
        }
    }

    private WorkOSApiException Refused(string operation, HttpResponseMessage response, byte[] body)
    {
        ErrorBody? error = null;
        try
        {
            error = JsonSerializer.Deserialize(body, WorkOSJsonContext.Default.ErrorBody);
        }
        catch (JsonException)
        {
            // Not WorkOS's error shape (a proxy's HTML page, say): the status says what there is to say.
        }

        var code = Quoted(error?.Code);
        var message = Quoted(error?.Message);
        var requestId = Quoted(response.Headers.TryGetValues("X-Request-ID", out var ids) ? ids.FirstOrDefault() : null);
        var status = (int)response.StatusCode;
        var reason = new StringBuilder($"HTTP {status}");
        if (code is not null || message is not null)
        {
            reason.Append(" (").AppendJoin(": ", new[] { code, message }.OfType<string>()).Append(')');
        }

        reason.Append(status switch
        {
            401 => ", the API key was refused",
            403 => ", the API key may not do this",
            408 or 429 or >= 500 => $", still after {options.MaxAttempts} tries",
            _ => "",
        });
        if (requestId is not null)
        {
            reason.Append(", X-Request-ID ").Append(requestId);
        }

        return Failure(operation, reason.ToString(), response.StatusCode, code, message, requestId);
    }

    private JsonDocument Parse(string operation, byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw Failure(operation, $"its answer is not JSON ({Where(e)})", HttpStatusCode.OK, inner: e);
        }
    }

    /// <summary>Every text a failure carries passes here: whatever WorkOS or the network said, the key is taken out.</summary>
    private WorkOSApiException Failure(
        string operation, string reason, HttpStatusCode? status = null, string? code = null, string? message = null,
        string? requestId = null, Exception? inner = null) =>
        new(Redact(operation), Redact(reason), status, Redact(code), Redact(message), Redact(requestId), inner);

    [return: NotNullIfNotNull(nameof(text))]
    private string? Redact(string? text) =>
        text is not null && options.ApiKey is { } key ? text.Replace(key, "[API key]", StringComparison.Ordinal) : text;

    private static string? Quoted(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : text.Length > MaxQuotedLength ? text[..MaxQuotedLength] + "…" : text;

    private static string? NonBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static string Operation(string pathAndQuery) => $"GET /{pathAndQuery}";

    /// <summary>A group's members are listed by the group alone; the directory is still what the rate limit counts.</summary>
    private static Query UsersQuery(string directoryId, string? groupId) =>
        groupId is null ? new Query("directory_users").Add("directory", directoryId) : new Query("directory_users").Add("group", groupId);

    private static Query GroupsQuery(string directoryId) => new Query("directory_groups").Add("directory", directoryId);

    private static string Where(JsonException e) => $"line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}";

    private static string? Timestamp(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Limit(int limit) =>
        limit is >= 1 and <= MaxLimit
            ? limit.ToString(CultureInfo.InvariantCulture)
            : throw new ArgumentOutOfRangeException(nameof(limit), limit, $"WorkOS serves 1 to {MaxLimit} entries a page.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Operation}: entry {Index} of the page cannot be read: {Reason}")]
    private partial void LogMalformedEntry(string operation, int index, string reason);

    /// <summary>A path and its query string, values escaped; a value that is null is left out.</summary>
    private sealed class Query(string path)
    {
        private readonly StringBuilder _text = new(path);

        public Query Add(string name, string? value) => value is null ? this : Append(name, Uri.EscapeDataString(value));

        /// <summary>One parameter holding a comma-separated list: the commas stay commas, as the API's spec writes it.</summary>
        public Query Add(string name, IEnumerable<string> values) => Append(name, string.Join(',', values.Select(Uri.EscapeDataString)));

        /// <summary>The paging parameters every list takes; always oldest first, so a listing resumed later misses nothing new.</summary>
        public Query Page(string? after, int limit) => Add("limit", Limit(limit)).Add("order", "asc").Add("after", after);

        public override string ToString() => _text.ToString();

        private Query Append(string name, string escapedValue)
        {
            _text.Append(_text.Length == path.Length ? '?' : '&').Append(name).Append('=').Append(escapedValue);
            return this;
        }
    }
}
