using System.Text.Json;
using System.Text.Json.Nodes;
using DirectorySync.Simulator.History;
using DirectorySync.Simulator.Mirror;
using DirectorySync.Simulator.WorkOSApi;
using Xunit;

namespace DirectorySync.UnitTests.WorkOSApi;

/// <summary>The fake WorkOS's state model: built from events as WorkOS would hold it, with its cascades.</summary>
public sealed class FakeWorkOSTests
{
    private const string Key = "sk_test_unit";

    private static readonly GeneratedHistory History = HistoryGenerator.Generate(new HistoryOptions
    {
        Directories = 2,
        UsersPerDirectory = 60,
        GroupsPerDirectory = 8,
        MembershipsPerUser = 3,
        ChurnPerDirectory = 400,
        DeleteDirectoryAtEnd = true,
        Generation = PayloadGeneration.Mixed,
        Seed = 11,
    });

    [Fact]
    public void A_published_history_leaves_what_its_expected_mirror_holds()
    {
        var fake = new FakeWorkOS(Key);

        Assert.Equal(History.Events.Count, fake.Publish(History.Events));

        Assert.Empty(MirrorSnapshot.Compare(History.Expected(InactivePolicy.Retain), fake.Mirror(InactivePolicy.Retain)));
        Assert.Equal([History.DirectoryIds[0]], fake.DirectoryIds());
        Assert.Empty(fake.UserIds(History.DirectoryIds[1]));
        Assert.Empty(fake.GroupIds(History.DirectoryIds[1]));
        Assert.Equal(History.Events.Count, fake.EventCount);
    }

    [Fact]
    public void An_event_id_published_again_is_applied_once()
    {
        var fake = new FakeWorkOS(Key);
        fake.Publish(History.Events.Take(5));

        Assert.False(fake.Publish(History.Events[4]));
        Assert.Equal(5, fake.EventCount);
    }

    [Fact]
    public void Deleting_a_group_drops_its_memberships_and_deleting_a_directory_drops_everything_in_it()
    {
        var fake = new FakeWorkOS(Key);
        fake.PublishJson(Envelope("event_1", "dsync.activated", new JsonObject { ["id"] = "directory_a", ["organization_id"] = "org_a", ["state"] = "active" }));
        fake.PublishJson(Envelope("event_2", "dsync.user.created", Object("directory_user_1", "directory_a")));
        fake.PublishJson(Envelope("event_3", "dsync.group.created", Object("directory_group_1", "directory_a")));
        fake.PublishJson(Envelope("event_4", "dsync.group.created", Object("directory_group_2", "directory_a")));
        fake.PublishJson(Envelope("event_5", "dsync.group.user_added", Membership("directory_user_1", "directory_group_1")));
        fake.PublishJson(Envelope("event_6", "dsync.group.user_added", Membership("directory_user_1", "directory_group_2")));

        fake.PublishJson(Envelope("event_7", "dsync.group.deleted", Object("directory_group_1", "directory_a")));

        Assert.Equal(["directory_group_2"], fake.GroupIdsOf("directory_user_1"));
        Assert.Equal(["directory_group_2"], fake.GroupIds("directory_a"));

        fake.PublishJson(Envelope("event_8", "dsync.deleted", new JsonObject { ["id"] = "directory_a", ["state"] = "deleting" }));

        Assert.Empty(fake.DirectoryIds());
        Assert.Empty(fake.UserIds("directory_a"));
        Assert.Empty(fake.GroupIds("directory_a"));
        Assert.Empty(fake.GroupIdsOf("directory_user_1"));
        Assert.Null(fake.User("directory_user_1"));
        Assert.Equal(8, fake.EventCount);
    }

    [Fact]
    public void An_envelope_without_what_its_type_needs_is_refused_by_name_and_changes_nothing()
    {
        var fake = new FakeWorkOS(Key);
        var userWithoutDirectory = new JsonObject { ["id"] = "directory_user_1" };

        var error = Assert.Throws<FormatException>(() => fake.PublishJson(Envelope("event_1", "dsync.user.created", userWithoutDirectory)));

        Assert.Contains("event_1", error.Message);
        Assert.Contains("directory_id", error.Message);
        Assert.Equal(0, fake.EventCount);
        Assert.Throws<FormatException>(() => fake.PublishJson("[1, 2]"));
    }

    [Fact]
    public void An_unknown_event_type_is_logged_and_changes_nothing()
    {
        var fake = new FakeWorkOS(Key);

        Assert.True(fake.PublishJson(Envelope("event_1", "dsync.token.rotated", new JsonObject())));

        Assert.Equal(1, fake.EventCount);
        Assert.Empty(fake.DirectoryIds());
    }

    [Fact]
    public void A_built_update_changes_one_attribute_after_the_newest_event_and_applies_when_published()
    {
        // The clock stands before the history: the update must still come after its newest event.
        var fake = new FakeWorkOS([Key], new FixedClock(History.Events[0].CreatedAt!.Value.AddDays(-1)));
        fake.Publish(History.Events);
        var userId = fake.UserIds(History.DirectoryIds[0])[3];
        var before = fake.User(userId)!.Value;

        var update = fake.BuildUserUpdate(userId, "first_name", "Zebulon");

        Assert.Equal("dsync.user.updated", update.Type);
        Assert.Equal(History.Events[^1].CreatedAt!.Value.AddMilliseconds(1), update.CreatedAt);
        using var envelope = JsonDocument.Parse(update.Body);
        var data = envelope.RootElement.GetProperty("data");
        Assert.Equal("Zebulon", data.GetProperty("first_name").GetString());
        Assert.Equal(before.GetProperty("first_name").GetString(), data.GetProperty("previous_attributes").GetProperty("first_name").GetString());
        Assert.Equal(before.GetProperty("created_at").GetString(), data.GetProperty("created_at").GetString());

        Assert.True(fake.Publish(update));
        Assert.Equal("Zebulon", fake.User(userId)!.Value.GetProperty("first_name").GetString());
        Assert.Equal("Zebulon", fake.Mirror(InactivePolicy.Retain).Users[userId].FirstName);
    }

    [Fact]
    public void A_built_deletion_removes_the_user_and_its_memberships_when_published()
    {
        var fake = new FakeWorkOS(Key);
        fake.Publish(History.Events);
        var userId = fake.UserIds(History.DirectoryIds[0]).First(id => fake.GroupIdsOf(id).Count > 0);

        var deletion = fake.BuildUserDeletion(userId);
        fake.Publish(deletion);

        Assert.Equal("dsync.user.deleted", deletion.Type);
        Assert.Null(fake.User(userId));
        Assert.Empty(fake.GroupIdsOf(userId));
        Assert.DoesNotContain(fake.Mirror(InactivePolicy.Retain).Memberships, m => m.WorkosUserId == userId);
    }

    [Fact]
    public void Updates_are_refused_for_users_that_do_not_exist_and_for_identity_attributes()
    {
        var fake = new FakeWorkOS(Key);
        fake.Publish(History.Events);
        var userId = fake.UserIds(History.DirectoryIds[0])[0];

        Assert.Throws<ArgumentException>(() => fake.BuildUserUpdate("directory_user_nobody", "first_name", "X"));
        Assert.Throws<ArgumentException>(() => fake.BuildUserUpdate(userId, "id", "directory_user_other"));
        Assert.Throws<ArgumentException>(() => fake.BuildUserUpdate(userId, "directory_id", "directory_other"));
    }

    [Fact]
    public void A_short_listing_hides_users_spread_over_the_directory()
    {
        var fake = new FakeWorkOS(Key);
        fake.Publish(History.Events);
        var users = fake.UserIds(History.DirectoryIds[0]).ToList();

        var hidden = fake.Faults.HideUsers(History.DirectoryIds[0], 0.5);

        Assert.Equal((int)Math.Round(users.Count * 0.5), hidden.Count);
        Assert.All(hidden, id => Assert.Contains(id, users));
        // Spread: both halves of the listing lose users.
        Assert.Contains(hidden, id => users.IndexOf(id) < users.Count / 2);
        Assert.Contains(hidden, id => users.IndexOf(id) >= users.Count / 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => fake.Faults.HideUsers(History.DirectoryIds[0], users.Count + 1));
    }

    private static JsonObject Object(string id, string directoryId) => new()
    {
        ["id"] = id,
        ["directory_id"] = directoryId,
        ["organization_id"] = "org_a",
        ["state"] = "active",
        ["created_at"] = "2026-11-02T09:00:00.000Z",
        ["updated_at"] = "2026-11-02T09:00:00.000Z",
    };

    private static JsonObject Membership(string userId, string groupId) => new()
    {
        ["directory_id"] = "directory_a",
        ["user"] = Object(userId, "directory_a"),
        ["group"] = Object(groupId, "directory_a"),
    };

    private static string Envelope(string id, string type, JsonObject data) => new JsonObject
    {
        ["event"] = type,
        ["id"] = id,
        ["data"] = data,
        ["created_at"] = "2026-11-02T09:00:01.000Z",
        ["context"] = new JsonObject(),
    }.ToJsonString();
}
