using System.Globalization;
using System.Text.Json;

namespace DirectorySync.Feed;

/// <summary>
/// One change feed entry as consumers receive it: <c>{id, position, event, directory_id, created_at, data}</c>, where
/// <paramref name="Data"/> is the object's JSON as the WorkOS REST API shapes it (sql/012), kept as Postgres wrote it.
/// </summary>
public sealed record FeedEntry(FeedPosition Position, string DirectoryId, string Event, DateTimeOffset CreatedAt, string Data)
{
    /// <summary>Unique and stable: the entry's position names it.</summary>
    public string Id => "change_" + Position;

    public void WriteTo(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("id", Id);
        json.WriteString("position", Position.ToString());
        json.WriteString("event", Event);
        json.WriteString("directory_id", DirectoryId);
        json.WriteString("created_at", Time(CreatedAt));
        json.WritePropertyName("data");
        json.WriteRawValue(Data, skipInputValidation: true);
        json.WriteEndObject();
    }

    /// <summary>ISO-8601 UTC with milliseconds and Z, as WorkOS writes times.</summary>
    public static string Time(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
