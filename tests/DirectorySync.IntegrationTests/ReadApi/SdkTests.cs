using System.Diagnostics;
using System.Text.Json.Nodes;
using DirectorySync.IntegrationTests.EndToEnd;
using Xunit;
using static DirectorySync.IntegrationTests.ReadApi.ReadApiDirectories;

namespace DirectorySync.IntegrationTests.ReadApi;

/// <summary>
/// The official WorkOS Node SDK (<c>@workos-inc/node</c>, pinned in tests/sdk/package-lock.json) reads a gateway whose
/// mirror was filled by real webhooks: <c>node tests/sdk/read-api.mjs</c> lists directories, pages through 230 users with
/// autoPagination(), lists a user's groups, gets a user and a group, and meets 404 and 401 as the SDK's own exceptions.
/// Users' groups are embedded (<c>ReadApi__UserGroups=embedded</c>), as older WorkOS teams get them, so the SDK maps them.
/// Needs node and tests/sdk/node_modules (<c>npm ci</c> in tests/sdk; .ci/run does it): without them the test fails.
/// </summary>
public sealed class SdkTests(SdkTests.Fixture fixture) : IClassFixture<SdkTests.Fixture>
{
    private const string Directory = "directory_01SDKTESTDIRECTORY";
    private const string Staff = "directory_group_01SDKSTAFF";
    private const string Everyone = "directory_group_01SDKEVERYONE";
    private const int Users = 230;

    public sealed class Fixture : IAsyncLifetime
    {
        public SyncSystem System { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            System = await SyncSystem.StartAsync("read_api_sdk", new Dictionary<string, string?>
            {
                ["ReadApi:Keys"] = ReadApiTests.Key,
                ["ReadApi:UserGroups"] = "embedded",
            });
            var staff = Group(Staff, Directory, "Staff", CreatedAt(0));
            var everyone = Group(Everyone, Directory, "Everyone", CreatedAt(0).AddDays(-1));
            await SendEventsAsync(System, [
                Event("dsync.activated", ReadApiDirectories.Directory(Directory, "org_sdk", "SDK Corp", "sdk.test")),
                .. Enumerable.Range(1, Users).Select(i => Event("dsync.user.created", User(i, Directory, CreatedAt(i)))),
                Event("dsync.group.created", staff),
                Event("dsync.group.created", everyone),
                .. Enumerable.Range(1, 20).Select(i => Added(Directory, staff, i)),
                .. Enumerable.Range(1, Users).Select(i => Added(Directory, everyone, i)),
            ]);
        }

        public async Task DisposeAsync() => await System.DisposeAsync();
    }

    [Fact]
    public async Task The_official_Node_SDK_reads_the_mirror_and_meets_404_and_401_as_its_own_exceptions()
    {
        var result = await RunSdkScriptAsync();

        var directory = Assert.Single(result["directories"]!.AsArray());
        Assert.Equal(Directory, (string?)directory!["id"]);
        Assert.Equal("active", (string?)directory["state"]); // the SDK maps the REST API's "linked" back to "active"
        Assert.Equal("sdk.test", (string?)directory["domain"]);

        var expected = Enumerable.Range(1, Users)
            .OrderByDescending(CreatedAt).ThenByDescending(UserId, StringComparer.Ordinal).Select(UserId);
        Assert.Equal(expected, result["users"]!.AsArray().Select(u => (string)u!));
        Assert.Equal([Staff, Everyone], result["groupsOfUser"]!.AsArray().Select(g => (string)g!));

        var user = result["user"]!;
        Assert.Equal(UserId(1), (string?)user["id"]);
        Assert.Equal(Directory, (string?)user["directoryId"]);
        Assert.Equal("Person.1@Example.test", (string?)user["email"]);
        Assert.Equal("admin", (string?)user["role"]);
        Assert.Equal("""["admin","member"]""", user["roles"]!.ToJsonString());
        Assert.Equal([Everyone, Staff], user["groups"]!.AsArray().Select(g => (string)g!));
        Assert.Equal("Engineering", (string?)user["customAttributes"]!["department"]);
        Assert.Equal("2026-01-15T12:00:00.000Z", (string?)user["createdAt"]);
        Assert.Equal("""{"id":"directory_group_01SDKSTAFF","name":"Staff","directoryId":"directory_01SDKTESTDIRECTORY"}""", result["group"]!.ToJsonString());

        Assert.Equal("NotFoundException 404", (string?)result["missingUser"]);
        Assert.Equal("NotFoundException 404", (string?)result["missingGroup"]);
        Assert.Equal("UnauthorizedException 401", (string?)result["wrongKey"]);
    }

    private async Task<JsonNode> RunSdkScriptAsync()
    {
        var sdk = Path.Combine(RepositoryRoot(), "tests", "sdk");
        Assert.True(System.IO.Directory.Exists(Path.Combine(sdk, "node_modules", "@workos-inc", "node")),
            $"The WorkOS Node SDK is not installed: run `npm ci` in {sdk} (.ci/run does).");
        var start = new ProcessStartInfo("node", [Path.Combine(sdk, "read-api.mjs")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["READ_API_HOST"] = fixture.System.GatewayUrl.Host,
                ["READ_API_PORT"] = fixture.System.GatewayUrl.Port.ToString(),
                ["READ_API_KEY"] = ReadApiTests.Key,
                ["DIRECTORY"] = Directory,
                ["USER"] = UserId(1),
                ["GROUP"] = Staff,
            },
        };
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException($"node tests/sdk/read-api.mjs ran over 60 s: {await errors}");
        }
        Assert.True(node.ExitCode == 0, $"node tests/sdk/read-api.mjs exited {node.ExitCode}: {await errors}");
        return JsonNode.Parse(await output)!;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DirectorySync.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No DirectorySync.sln above {AppContext.BaseDirectory}");
    }
}
