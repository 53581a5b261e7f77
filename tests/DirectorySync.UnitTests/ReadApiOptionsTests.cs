using DirectorySync.Gateway.ReadApi;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class ReadApiOptionsTests
{
    private static ReadApiOptions From(string? userGroups) => ReadApiOptions.From(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ReadApi:UserGroups"] = userGroups }).Build());

    [Theory]
    [InlineData(null, UserGroups.Empty)]
    [InlineData("", UserGroups.Empty)]
    [InlineData("empty", UserGroups.Empty)]
    [InlineData("embedded", UserGroups.Embedded)]
    [InlineData(" Embedded ", UserGroups.Embedded)]
    public void Users_groups_are_empty_unless_embedded_is_asked_for(string? setting, UserGroups expected) =>
        Assert.Equal(expected, From(setting).UserGroups);

    [Theory]
    [InlineData("true")]
    [InlineData("all")]
    [InlineData("embeded")]
    public void Another_users_groups_setting_stops_the_host_naming_the_setting(string setting)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => From(setting));
        Assert.Contains("ReadApi__UserGroups", refused.Message);
        Assert.Contains($"'{setting}'", refused.Message);
    }
}
