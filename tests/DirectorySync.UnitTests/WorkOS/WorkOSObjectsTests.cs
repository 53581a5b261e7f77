using System.Text.Json;
using DirectorySync.Events;
using DirectorySync.WorkOS;
using Xunit;

namespace DirectorySync.UnitTests.WorkOS;

public sealed class WorkOSObjectsTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    private static JsonElement Fixture(string file) => Json(System.Text.Encoding.UTF8.GetString(UnitTests.Fixture.Bytes($"rest/{file}")));

    [Fact]
    public void A_REST_user_reads_as_the_same_record_as_its_event()
    {
        Assert.True(WorkOSObjects.TryReadUser(Fixture("directory_user_with_groups.json"), out var user, out var failure), failure);

        Assert.Equal("directory_user_01E1JG7J09H96KYP8HM9B0G5SJ", user.Id);
        Assert.Equal("directory_01ECAZ4NV9QMV47GW873HDCX74", user.DirectoryId);
        Assert.Equal("marcelina.davis@example.com", user.Email);
        Assert.Equal("mdavis", user.Username);
        Assert.Equal(UserStates.Active, user.State);
        Assert.Equal(["admin"], user.RoleSlugs);
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero), user.UpdatedAt);
    }

    [Fact]
    public void A_REST_group_reads_with_its_times()
    {
        Assert.True(WorkOSObjects.TryReadGroup(Fixture("directory_group.json"), out var group, out var failure), failure);

        Assert.Equal("Developers", group.Name);
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero), group.CreatedAt);
    }

    [Theory]
    [InlineData("unlinked", DirectoryStates.Inactive)]
    [InlineData("linked", DirectoryStates.Active)]
    [InlineData("invalid_credentials", DirectoryStates.InvalidCredentials)]
    public void A_REST_directory_state_is_normalised_in_the_record_and_kept_as_said(string state, string normalised)
    {
        Assert.True(WorkOSObjects.TryReadDirectory(
            Json($$"""{"object":"directory","id":"directory_1","state":"{{state}}","metadata":{"users":{"active":"many"} } }"""),
            out var directory, out var failure), failure);

        Assert.Equal(state, directory.State);
        Assert.Equal(normalised, directory.Directory.State);
        Assert.Equal(new DirectoryCounts(null, null, null), directory.Counts);
    }

    [Theory]
    [InlineData("""{"object":"directory","id":"directory_1"}""", "directory.state is missing")]
    [InlineData("""{"object":"directory_user","id":"directory_1","state":"linked"}""", "directory.object is not \"directory\"")]
    [InlineData("""{"object":"directory","id":"directory_1","state":"linked","domain":7}""", "directory.domain has the wrong JSON type")]
    [InlineData("""[]""", "directory is not a JSON object")]
    [InlineData("""{"id":"directory_1","state":"linked","name":"a\u0000b"}""", "a string holds U+0000 (byte 46), which Postgres cannot store")]
    public void A_malformed_REST_directory_is_refused_naming_the_field(string json, string expected)
    {
        Assert.False(WorkOSObjects.TryReadDirectory(Json(json), out _, out var failure));

        Assert.Equal(expected, failure);
    }

    [Theory]
    [InlineData("""{"object":"directory_user","directory_id":"directory_1","state":"active"}""", "directory_user.id is missing")]
    [InlineData("""{"id":"u","directory_id":"directory_1","state":"active","emails":"x"}""", "directory_user.emails has the wrong JSON type")]
    [InlineData("""{"id":"u","directory_id":"directory_1","state":"active","name":"\ud800"}""", "a string holds an unpaired UTF-16 surrogate (byte 64), which Postgres cannot store")]
    public void A_malformed_REST_user_is_refused_naming_the_field(string json, string expected)
    {
        Assert.False(WorkOSObjects.TryReadUser(Json(json), out _, out var failure));

        Assert.Equal(expected, failure);
    }
}
