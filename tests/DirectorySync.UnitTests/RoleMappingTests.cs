using DirectorySync.Events;
using DirectorySync.Sync;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class RoleMappingTests
{
    private static DirectoryUser User(string[] slugs, string customAttributes = "{}") => new(
        "directory_user_1", "directory_1", null, null, null, null, null, null, null, UserStates.Active, slugs, customAttributes, "{}");

    [Fact]
    public void Mapped_slugs_become_application_roles_and_unmapped_slugs_grant_nothing()
    {
        var mapping = new SyncOptions { RoleMap = { ["admin"] = "owner, billing", ["member"] = "viewer" } }.CreateRoleMapping();
        Assert.Equal(["owner", "billing"], mapping.AppRolesFor(User(["admin", "contractor"])));
    }

    [Fact]
    public void A_configured_custom_attribute_adds_slugs()
    {
        var mapping = new SyncOptions { RoleMap = { ["eng"] = "developer" }, RoleAttribute = "department" }.CreateRoleMapping();
        Assert.Equal(["developer"], mapping.AppRolesFor(User([], """{"department":"eng"}""")));
        Assert.Equal(["developer"], mapping.AppRolesFor(User([], """{"department":["eng","x"]}""")));
        Assert.Empty(mapping.AppRolesFor(User([], """{"department":7}""")));
    }

    [Fact]
    public void Without_a_map_there_are_no_application_roles() =>
        Assert.Empty(RoleMapping.None.AppRolesFor(User(["admin"])));
}
