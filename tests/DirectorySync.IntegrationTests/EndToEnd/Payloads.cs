namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>WorkOS webhook bodies (current payload generation) for end-to-end tests; <c>second</c> sets created_at.</summary>
internal static class Payloads
{
    private static string At(int second) => new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero).AddSeconds(second).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    private static string Envelope(string id, string type, int second, string data) =>
        $$$"""{"object":"event","id":"{{{id}}}","event":"{{{type}}}","created_at":"{{{At(second)}}}","data":{{{data}}},"context":{}}""";

    private static string Directory(string directory, string state) =>
        $$$"""{"object":"directory","id":"{{{directory}}}","organization_id":"org_1","type":"okta scim v2.0","state":"{{{state}}}","name":"Acme","domains":[]}""";

    private static string User(string user, string directory) =>
        $$$"""{"object":"directory_user","id":"{{{user}}}","directory_id":"{{{directory}}}","organization_id":"org_1","idp_id":"{{{user}}}","email":"{{{user}}}@acme.test","first_name":"F","last_name":"L","state":"active","custom_attributes":{},"raw_attributes":{},"role":{"slug":"member"}}""";

    private static string Group(string group, string directory) =>
        $$$"""{"object":"directory_group","id":"{{{group}}}","directory_id":"{{{directory}}}","organization_id":"org_1","idp_id":"{{{group}}}","name":"{{{group}}}"}""";

    /// <summary>
    /// A <c>WorkOS-Signature</c> header line (with CRLF) of the right shape and timestamp but a MAC of zeros: it passes
    /// every check that comes before the body and fails the one after.
    /// </summary>
    public static string UnverifiedSignatureLine(DateTimeOffset signedAt) =>
        $"{Webhooks.WebhookSignature.HeaderName}: t={signedAt.ToUnixTimeMilliseconds()}, v1={new string('0', 64)}\r\n";

    public static string Activated(string id, string directory, int second) => Envelope(id, "dsync.activated", second, Directory(directory, "active"));

    public static string DirectoryDeleted(string id, string directory, int second) => Envelope(id, "dsync.deleted", second, Directory(directory, "deleting"));

    public static string UserCreated(string id, string user, string directory, int second) => Envelope(id, "dsync.user.created", second, User(user, directory));

    public static string UserUpdated(string id, string user, string directory, int second) => Envelope(id, "dsync.user.updated", second, User(user, directory));

    public static string GroupCreated(string id, string group, string directory, int second) => Envelope(id, "dsync.group.created", second, Group(group, directory));

    public static string Added(string id, string group, string user, string directory, int second) => Envelope(id, "dsync.group.user_added", second,
        $$$"""{"directory_id":"{{{directory}}}","user":{{{User(user, directory)}}},"group":{{{Group(group, directory)}}}}""");
}
