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

    /// <summary>Writes the message for <paramref name="batch"/> into <paramref name="body"/>.</summary>
    public static void WriteBody(IReadOnlyList<FeedEntry> batch, IBufferWriter<byte> body)
    {
        using var json = new Utf8JsonWriter(body);
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

    public async Task<DeliveryResult> SendAsync(Uri url, WebhookSecret secret, IReadOnlyList<FeedEntry> batch, CancellationToken cancellationToken)
    {
        var id = MessageId(batch);
        // About 400 KB for a full batch: from the shared pool, not new large-object-heap arrays (the growing ones, the
        // body, a copy to sign) for every message.
        using var body = new PooledBuffer(batch.Sum(e => e.Data.Length + 200) + 200);
        WriteBody(batch, body);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body.Written) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", secret.Sign(id, timestamp, body.Written.Span));
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

    /// <summary>A growing buffer in arrays rented from <see cref="ArrayPool{T}.Shared"/>, returned on dispose.</summary>
    private sealed class PooledBuffer(int capacity) : IBufferWriter<byte>, IDisposable
    {
        private byte[] _array = ArrayPool<byte>.Shared.Rent(capacity);
        private int _written;

        public ReadOnlyMemory<byte> Written => _array.AsMemory(0, _written);

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _array.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _array.AsSpan(_written);
        }

        private void Reserve(int sizeHint)
        {
            if (_array.Length - _written >= Math.Max(sizeHint, 1)) return;
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _written + sizeHint));
            _array.AsSpan(0, _written).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_array, clearArray: true);
            _array = larger;
        }

        // Cleared: directory data does not stay behind in the shared pool.
        public void Dispose() => ArrayPool<byte>.Shared.Return(_array, clearArray: true);
    }
}
