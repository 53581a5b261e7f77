using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace DirectorySync.Feed;

/// <summary>What an endpoint made of one batch.</summary>
public abstract record DeliveryResult
{
    public sealed record Delivered : DeliveryResult;

    /// <summary>410: the endpoint asks to be sent nothing more.</summary>
    public sealed record Gone : DeliveryResult;

    /// <summary>Any other answer, a timeout or no connection; <paramref name="RetryAfter"/> when the endpoint said when.</summary>
    public sealed record Failed(string Error, TimeSpan? RetryAfter) : DeliveryResult;
}

/// <summary>
/// Posts a batch of one directory's entries to an endpoint as a Standard Webhooks message:
/// <c>{"type": "directory_sync.changes", "timestamp", "data": {"changes": [entries]}}</c>. The body and
/// <c>webhook-id</c> depend only on the batch, so a retry is the same message; <c>webhook-timestamp</c> and the
/// signature are those of each attempt.
/// </summary>
public sealed class WebhookSender(IOptions<ChangeFeedOptions> options, TimeProvider clock) : IDisposable
{
    public const string MessageType = "directory_sync.changes";

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = options.Value.RequestTimeout,
        DefaultRequestHeaders = { UserAgent = { new ProductInfoHeaderValue("DirectorySync", "1") } },
    };

    /// <summary>The batch's message id: its first and last positions name it.</summary>
    public static string MessageId(IReadOnlyList<FeedEntry> batch) => $"msg_{batch[0].Position}_{batch[^1].Position}";

    public static byte[] Body(IReadOnlyList<FeedEntry> batch)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("type", MessageType);
            json.WriteString("timestamp", FeedEntry.Time(batch[^1].CreatedAt));
            json.WriteStartObject("data");
            json.WriteStartArray("changes");
            foreach (var entry in batch) entry.WriteTo(json);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return body.WrittenSpan.ToArray();
    }

    public async Task<DeliveryResult> SendAsync(Uri url, WebhookSecret secret, IReadOnlyList<FeedEntry> batch, CancellationToken cancellationToken)
    {
        var id = MessageId(batch);
        var body = Body(batch);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", secret.Sign(id, timestamp, body));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode) return new DeliveryResult.Delivered();
            if (response.StatusCode == HttpStatusCode.Gone) return new DeliveryResult.Gone();
            return new DeliveryResult.Failed($"answered {(int)response.StatusCode}", RetryAfter(response.Headers.RetryAfter));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryResult.Failed($"no answer within {options.Value.RequestTimeout.TotalSeconds:0.#} s", null);
        }
        catch (HttpRequestException e)
        {
            return new DeliveryResult.Failed($"not reached: {e.HttpRequestError}", null);
        }
    }

    /// <summary>Seconds or a date; never less than nothing, never more than the schedule's longest wait.</summary>
    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        var wait = header?.Delta ?? (header?.Date is { } date ? date - clock.GetUtcNow() : null);
        if (wait is not { } w) return null;
        var longest = ChangeFeedOptions.RetrySchedule[^1];
        return w < TimeSpan.Zero ? TimeSpan.Zero : w > longest ? longest : w;
    }

    public void Dispose() => _http.Dispose();
}
