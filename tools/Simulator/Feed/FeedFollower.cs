using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace DirectorySync.Simulator.Feed;

/// <summary>Follows <c>GET /changes</c> page by page, long-polling once caught up.</summary>
public sealed class FeedFollower(HttpClient http, Uri gateway, string key)
{
    /// <summary>
    /// Hands every entry after <paramref name="after"/> (from the start when null) to <paramref name="apply"/>, in order,
    /// until a long-poll of <paramref name="idle"/> brings nothing.
    /// </summary>
    public async Task FollowAsync(string? after, string? directory, TimeSpan idle, Action<JsonObject> apply, CancellationToken cancellationToken)
    {
        while (true)
        {
            var query = $"limit=1000&wait={(int)Math.Ceiling(idle.TotalSeconds)}"
                + (after is null ? "" : $"&after={after}")
                + (directory is null ? "" : $"&directory={Uri.EscapeDataString(directory)}");
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "/changes?" + query));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidDataException($"GET /changes answered {(int)response.StatusCode}: {text}");
            var page = JsonNode.Parse(text)!.AsObject();
            var entries = page["data"]!.AsArray();
            if (entries.Count == 0) return;
            foreach (var entry in entries) apply(entry!.AsObject());
            after = (string)page["list_metadata"]!["after"]!;
        }
    }
}
