using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace DirectorySync.Simulator.Delivery;

/// <summary>Where events to send come from besides the generator: a JSONL file, or the service's own event log.</summary>
public static class EventSources
{
    /// <summary>Writes one envelope per line, exactly the bytes that are (or were) sent.</summary>
    public static async Task WriteJsonlAsync(string path, IEnumerable<WebhookEvent> events, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        foreach (var webhook in events)
        {
            await file.WriteAsync(webhook.Body, cancellationToken);
            file.WriteByte((byte)'\n');
        }
    }

    /// <summary>Reads a JSONL file of envelopes; blank lines are skipped, a line that is not an envelope is an error.</summary>
    public static async Task<IReadOnlyList<WebhookEvent>> ReadJsonlAsync(string path, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        var events = new List<WebhookEvent>();
        // Editors on Windows like to prepend a byte order mark; it is not part of the first envelope.
        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        var lineNumber = 0;
        while (start < bytes.Length)
        {
            lineNumber++;
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            var line = new ReadOnlyMemory<byte>(bytes, start, end - start);
            if (line.Span.EndsWith("\r"u8)) line = line[..^1];
            start = end + 1;
            if (line.Span.Trim(" \t"u8).IsEmpty) continue;
            try
            {
                events.Add(FromEnvelope(line));
            }
            catch (Exception exception) when (exception is JsonException or FormatException)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not an event envelope: {exception.Message}", exception);
            }
        }
        return events;
    }

    /// <summary>
    /// The <c>payload</c> of each row of <c>event_log</c>, oldest received first; optionally only dead letters, only
    /// those received since a time. Postgres keeps jsonb, not the bytes received: the bodies are its re-serialisation.
    /// </summary>
    public static async Task<IReadOnlyList<WebhookEvent>> ReadEventLogAsync(
        string connectionString, bool deadLettersOnly, DateTimeOffset? receivedSince, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(
            $"""
            SELECT event_id, event_type, created_at, payload::text
            FROM event_log
            WHERE payload IS NOT NULL
              {(deadLettersOnly ? "AND outcome = 'dead_letter'" : "")}
              {(receivedSince is null ? "" : "AND received_at >= @since")}
            ORDER BY received_at, event_id
            """);
        if (receivedSince is { } since)
        {
            command.Parameters.AddWithValue("since", since.ToUniversalTime());
        }
        var events = new List<WebhookEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new WebhookEvent(
                reader.GetString(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                Encoding.UTF8.GetBytes(reader.GetString(3))));
        }
        return events;
    }

    /// <summary>Reads <c>id</c>, <c>event</c> and <c>created_at</c> from an envelope's top level; the body stays as given.</summary>
    public static WebhookEvent FromEnvelope(ReadOnlyMemory<byte> body)
    {
        var reader = new Utf8JsonReader(body.Span);
        string? id = null, type = null, createdAt = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject) throw new FormatException("The envelope is not a JSON object.");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "id" when reader.TokenType == JsonTokenType.String: id = reader.GetString(); break;
                case "event" when reader.TokenType == JsonTokenType.String: type = reader.GetString(); break;
                case "created_at" when reader.TokenType == JsonTokenType.String: createdAt = reader.GetString(); break;
                default: reader.Skip(); break;
            }
        }
        if (id is null || type is null) throw new FormatException("The envelope has no \"id\" or no \"event\".");
        return new WebhookEvent(id, type, ParseCreatedAt(createdAt), body);
    }

    /// <summary>ISO-8601 with <c>Z</c> usually; a docs sample has "2023-04-28 20:05:31.093" (no zone = UTC).</summary>
    internal static DateTimeOffset? ParseCreatedAt(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;
}
