using System.Buffers;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using DirectorySync.Events;
using DirectorySync.WorkOS;

namespace DirectorySync.Webhooks;

/// <summary>
/// <c>POST /webhooks/workos</c>: only genuine WorkOS events get past the signature check; each is acknowledged
/// (200) only once its effect is durable, and every other answer says why: 403 sender not on the allow-list,
/// 413 too large, 408 body too slow, 401 not signed by WorkOS (a missing, malformed or expired header is answered before
/// the body is read), 400 not an event, 503 try again later (WorkOS retries; also while too many unverified bodies arrive).
/// </summary>
public static partial class WebhookApi
{
    private static readonly Meter Meter = new("DirectorySync.Gateway");
    private static readonly Counter<long> Responses = Meter.CreateCounter<long>("directorysync.webhooks", description: "Webhook answers by result");

    public static IEndpointRouteBuilder MapWebhookApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/webhooks/workos", ReceiveAsync);
        return endpoints;
    }

    private static async Task<IResult> ReceiveAsync(
        HttpContext context, WebhookOptions options, SourceAddressPolicy senders, WebhookSignature signature, PendingBodies pending,
        IGrainFactory grains, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(WebhookApi));
        var sender = senders.Decide(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"]);
        if (!sender.IsAllowed)
        {
            LogRefusedSender(logger, sender.Reason, sender.Sender?.ToString(), context.Connection.RemoteIpAddress?.ToString());
            return Unread(context, Answer(StatusCodes.Status403Forbidden, sender.Reason));
        }
        // Judged on the header alone, before a byte of body is read: no one unauthenticated gets memory for a body.
        var header = signature.ReadHeader(context.Request.Headers[WebhookSignature.HeaderName]);
        if (!header.Check.IsValid) return Unread(context, Rejected(logger, context, header.Check));
        if (context.Request.ContentLength > options.MaxBodyBytes)
            return Unread(context, TooLarge(logger, context.Request.ContentLength.Value, header, options));
        if (!pending.TryEnter())
        {
            LogTooManyPending(logger, pending.Limit, context.Connection.RemoteIpAddress?.ToString());
            context.Response.Headers.RetryAfter = "1";
            return Unread(context, Answer(StatusCodes.Status503ServiceUnavailable, "too many unverified requests; retry later"));
        }
        byte[]? body;
        SignatureCheck check;
        try
        {
            body = await ReadBodyAsync(context.Request.BodyReader, options.MaxBodyBytes, context.RequestAborted);
            if (body is null) return Unread(context, TooLarge(logger, null, header, options));
            check = signature.Verify(header, body);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's limits (a body trickling in too slowly, a chunked body past the limit): the sender's fault, not an error of ours.
            LogBodyNotReceived(logger, e.StatusCode, context.Connection.RemoteIpAddress?.ToString());
            return Unread(context, Answer(e.StatusCode, "request body not received"));
        }
        finally
        {
            pending.Leave();
        }
        if (!check.IsValid) return Rejected(logger, context, check);
        if (options.NullEndpoint) return Answer(StatusCodes.Status200OK, "verified");

        switch (WorkOSEventParser.Parse(body, header.SentAt + options.Tolerance))
        {
            case ParsedWebhook.NotAnEnvelope notAnEvent:
                LogNotAnEvent(logger, notAnEvent.Reason);
                // Signed, so kept (by body, once however often WorkOS retries it) before it is refused; if it cannot be
                // kept, 503 makes WorkOS retry.
                try
                {
                    await grains.GetGrain<IDeadLetterGrain>(0).RecordUnreadableAsync(
                        new UnreadableWebhook(body, notAnEvent.Reason, header.SentAt)).WaitAsync(options.ApplyTimeout);
                }
                catch (Exception e)
                {
                    LogUnavailable(logger, e, "(not an event)", e.GetType().Name);
                    return Answer(StatusCodes.Status503ServiceUnavailable, "temporarily unable to keep the request; retry later");
                }
                return Answer(StatusCodes.Status400BadRequest, notAnEvent.Reason);
            case ParsedWebhook.Ignored ignored:
                LogIgnored(logger, ignored.EventType, ignored.EventId);
                return Answer(StatusCodes.Status200OK, "ignored");
            case ParsedWebhook.DeadLettered dead:
                return await ApplyAsync(logger, dead.Letter.EventId, options, async () =>
                {
                    await grains.GetGrain<IDeadLetterGrain>(0).RecordAsync(dead.Letter);
                    return ApplyOutcome.DeadLettered;
                });
            case ParsedWebhook.Applicable applicable:
                EventsApiNudge.Nudge(grains);
                return await ApplyAsync(logger, applicable.Event.EventId, options,
                    () => EventRouting.ApplyAsync(grains, applicable.Event));
            default:
                throw new InvalidOperationException("Unknown parse result");
        }
    }

    private static async Task<IResult> ApplyAsync(ILogger logger, string eventId, WebhookOptions options, Func<Task<ApplyOutcome>> apply)
    {
        try
        {
            var outcome = await apply().WaitAsync(options.ApplyTimeout);
            return Answer(StatusCodes.Status200OK, outcome switch
            {
                ApplyOutcome.Applied => "applied",
                ApplyOutcome.Duplicate => "duplicate",
                ApplyOutcome.Stale => "stale",
                _ => "dead_letter",
            });
        }
        catch (Exception e)
        {
            // Not durable, so not acknowledged: WorkOS retries. The event itself was fine (it parsed and verified).
            LogUnavailable(logger, e, eventId, e.GetType().Name);
            return Answer(StatusCodes.Status503ServiceUnavailable, "temporarily unable to apply the event; retry later");
        }
    }

    /// <summary>The raw bytes (the signature covers them exactly), or null past the limit.</summary>
    private static async Task<byte[]?> ReadBodyAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            if (read.Buffer.Length > maxBytes)
            {
                reader.AdvanceTo(read.Buffer.End);
                return null;
            }
            if (read.IsCompleted)
            {
                var body = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return body;
            }
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    /// <summary>The one signed request not kept: logged, so an operator can tell WorkOS sent something this large.</summary>
    private static IResult TooLarge(ILogger logger, long? announcedBytes, SignatureHeader header, WebhookOptions options)
    {
        LogTooLarge(logger, announcedBytes?.ToString() ?? $"more than {options.MaxBodyBytes}", options.MaxBodyBytes, header.SentAt);
        return Answer(StatusCodes.Status413PayloadTooLarge, "body too large");
    }

    private static IResult Rejected(ILogger logger, HttpContext context, SignatureCheck check)
    {
        LogRejected(logger, check.Reason, context.Connection.RemoteIpAddress?.ToString());
        return Answer(StatusCodes.Status401Unauthorized, check.Reason);
    }

    /// <summary>
    /// An answer given before the body was read to its end: the connection closes after it (and says so), since what is
    /// left of the body would otherwise be read as the next request, or the client would send its next one on a
    /// connection the server is about to drop.
    /// </summary>
    private static IResult Unread(HttpContext context, IResult answer)
    {
        context.Response.Headers.Connection = "close";
        return answer;
    }

    private static IResult Answer(int status, string text)
    {
        Responses.Add(1, new KeyValuePair<string, object?>("status", status));
        return Results.Text(text, statusCode: status);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook refused: {Reason} (sender {Sender}, peer {RemoteAddress})")]
    private static partial void LogRefusedSender(ILogger logger, string reason, string? sender, string? remoteAddress);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook body not received (answered {StatusCode}) from {RemoteAddress}")]
    private static partial void LogBodyNotReceived(ILogger logger, int statusCode, string? remoteAddress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook rejected: {Reason} (from {RemoteAddress})")]
    private static partial void LogRejected(ILogger logger, string reason, string? remoteAddress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook refused with 503: {Limit} requests are already sending bodies not yet verified (Webhooks__MaxPendingBodies; from {RemoteAddress})")]
    private static partial void LogTooManyPending(ILogger logger, int limit, string? remoteAddress);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook of {Bytes} bytes refused (413, limit {Limit}); signed at {SignedAt:O}")]
    private static partial void LogTooLarge(ILogger logger, string bytes, long limit, DateTimeOffset signedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signed webhook is not an event envelope: {Reason}")]
    private static partial void LogNotAnEvent(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored event type {EventType} ({EventId})")]
    private static partial void LogIgnored(ILogger logger, string eventType, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} not applied ({ErrorType}); answered 503 so WorkOS retries")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string eventId, string errorType);
}
