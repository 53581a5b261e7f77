using System.Text;
using System.Text.Json.Nodes;
using DirectorySync.Events;
using DirectorySync.WorkOS;
using Xunit;
using static DirectorySync.WorkOS.ParsedWebhook;

namespace DirectorySync.UnitTests.Webhooks;

public sealed class WorkOSEventParserTests
{
    private const string UserId = "directory_user_01E1X1B89NH8Z3SDFJR4H7RGX7";
    private const string GroupId = "directory_group_01E1X5GPMMXF4T1DCERMVEEPVW";
    private const string DirectoryId = "directory_01ECAZ4NV9QMV47GW873HDCX74";

    private static ParsedWebhook Parse(string body) => WorkOSEventParser.Parse(Encoding.UTF8.GetBytes(body));

    private static string Envelope(string eventType, string data, string createdAt = "\"2026-03-01T10:00:00.000Z\"") =>
        $$"""{"id":"event_01TEST","event":"{{eventType}}","data":{{data}},"created_at":{{createdAt}},"context":{}""" + "}";

    private static string User(string fields = "") =>
        $$"""{"id":"{{UserId}}","directory_id":"{{DirectoryId}}","state":"active"{{fields}}""" + "}";

    private static SyncEvent Applied(ParsedWebhook parsed) => Assert.IsType<Applicable>(parsed).Event;

    private static DeadLetter DeadLettered(ParsedWebhook parsed) => Assert.IsType<ParsedWebhook.DeadLettered>(parsed).Letter;

    public static TheoryData<string, SyncEventKind> Examples => new()
    {
        { "dsync.activated.json", SyncEventKind.DirectoryActivated },
        { "dsync.deleted.json", SyncEventKind.DirectoryDeleted },
        { "dsync.user.created.json", SyncEventKind.UserCreated },
        { "dsync.user.updated.json", SyncEventKind.UserUpdated },
        { "dsync.user.deleted.json", SyncEventKind.UserDeleted },
        { "dsync.group.created.json", SyncEventKind.GroupCreated },
        { "dsync.group.updated.json", SyncEventKind.GroupUpdated },
        { "dsync.group.deleted.json", SyncEventKind.GroupDeleted },
        { "dsync.group.user_added.json", SyncEventKind.GroupUserAdded },
        { "dsync.group.user_removed.json", SyncEventKind.GroupUserRemoved },
    };

    [Fact]
    public void An_event_dated_after_its_signature_plus_the_tolerance_is_dead_lettered_and_one_just_inside_is_not()
    {
        var body = Fixture.Bytes("events/dsync.user.created.json");
        var createdAt = new DateTimeOffset(2021, 6, 25, 19, 7, 33, 155, TimeSpan.Zero);

        Assert.Contains("later than its signature's time", DeadLettered(WorkOSEventParser.Parse(body, createdAt.AddMilliseconds(-1))).Reason);
        Assert.Equal(createdAt, Applied(WorkOSEventParser.Parse(body, createdAt)).CreatedAt);
    }

    [Fact]
    public void Every_event_example_in_the_fixtures_is_covered()
    {
        Assert.Equal(Examples.Select(row => (string)row[0]).Order(StringComparer.Ordinal), Fixture.EventExamples());
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Documented_example_becomes_an_applicable_event_of_its_kind(string file, SyncEventKind kind)
    {
        var body = Fixture.Bytes($"events/{file}");

        var parsed = Applied(WorkOSEventParser.Parse(body));

        Assert.Equal(kind, parsed.Kind);
        Assert.Equal(Path.GetFileNameWithoutExtension(file), parsed.EventType);
        Assert.StartsWith("event_", parsed.EventId);
        Assert.Equal(new DateTimeOffset(2021, 6, 25, 19, 7, 33, 155, TimeSpan.Zero), parsed.CreatedAt);
        Assert.Equal(Encoding.UTF8.GetString(body), parsed.Payload);
        Assert.Equal(kind is SyncEventKind.DirectoryActivated or SyncEventKind.DirectoryDeleted
            ? "directory_01EHWNC0FCBHZ3BJ7EGKYXK0E6"
            : DirectoryId, parsed.DirectoryId);
    }

    [Fact]
    public void Activated_directory_carries_its_domains_and_state()
    {
        var directory = Applied(WorkOSEventParser.Parse(Fixture.Bytes("events/dsync.activated.json"))).Directory!;

        Assert.Equal(
            new DirectoryData("directory_01EHWNC0FCBHZ3BJ7EGKYXK0E6", "org_01EZTR6WYX1A0DSE2CYMGXQ24Y", "Foo Corp's Directory",
                "generic scim v2.0", DirectoryStates.Active, [], "UWuccu6o1E0GqkYs", At("2021-06-25T19:07:33.155Z"),
                At("2021-06-25T19:07:33.155Z")) with { Domains = directory.Domains },
            directory);
        Assert.Equal(["foo-corp.com"], directory.Domains);
    }

    [Fact]
    public void Deleted_directory_keeps_the_state_it_had_before_deletion()
    {
        var directory = Applied(WorkOSEventParser.Parse(Fixture.Bytes("events/dsync.deleted.json"))).Directory!;

        Assert.Equal(DirectoryStates.Deleting, directory.State);
        Assert.Empty(directory.Domains);
    }

    [Fact]
    public void Current_generation_user_takes_username_and_job_title_from_custom_attributes()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "events", "dsync.user.created.json"));

        var user = Applied(Parse(text)).User!;

        Assert.Equal(UserId, user.Id);
        Assert.Equal(DirectoryId, user.DirectoryId);
        Assert.Equal("org_01EZTR6WYX1A0DSE2CYMGXQ24Y", user.OrganizationId);
        Assert.Equal("8931", user.IdpId);
        Assert.Equal("lela.block@example.com", user.Email);
        Assert.Equal(("Lela", "Block"), (user.FirstName, user.LastName));
        Assert.Equal("lela.block@example.com", user.Username);
        Assert.Equal("Software Engineer", user.JobTitle);
        Assert.Equal(UserStates.Active, user.State);
        Assert.Equal(["member"], user.RoleSlugs);
        Assert.Contains(user.CustomAttributesJson, text);
        Assert.StartsWith("{", user.CustomAttributesJson);
        Assert.Contains("\"department\": \"Engineering\"", user.CustomAttributesJson);
        Assert.Equal("{}", user.RawAttributesJson);
        Assert.Equal((At("2021-06-25T19:07:33.155Z"), At("2021-06-25T19:07:33.155Z")), (user.CreatedAt, user.UpdatedAt));
    }

    [Fact]
    public void Object_times_that_are_not_timestamps_are_left_out_and_the_event_still_applies()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "events", "dsync.user.created.json"))
            .Replace("\"updated_at\": \"2021-06-25T19:07:33.155Z\"", "\"updated_at\": 17", StringComparison.Ordinal);

        var user = Applied(Parse(text)).User!;

        Assert.Null(user.UpdatedAt);
        Assert.Equal(At("2021-06-25T19:07:33.155Z"), user.CreatedAt);
    }

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Deleted_user_carries_its_state_at_deletion()
    {
        Assert.Equal(UserStates.Inactive, Applied(WorkOSEventParser.Parse(Fixture.Bytes("events/dsync.user.deleted.json"))).User!.State);
    }

    [Fact]
    public void Group_example_maps_onto_the_group_record()
    {
        var group = Applied(WorkOSEventParser.Parse(Fixture.Bytes("events/dsync.group.updated.json"))).Group!;

        Assert.Equal(new DirectoryGroup(GroupId, DirectoryId, "org_01EZTR6WYX1A0DSE2CYMGXQ24Y", "02grqrue4294w24", "Developers", "{}",
            At("2021-06-25T19:07:33.155Z"), At("2021-06-25T19:07:33.155Z")), group);
    }

    [Theory]
    [InlineData("events/dsync.group.user_added.json")]
    [InlineData("events/dsync.group.user_removed.json")]
    public void Membership_example_names_directory_user_and_group(string file)
    {
        var membership = Applied(WorkOSEventParser.Parse(Fixture.Bytes(file))).Membership!;

        Assert.Equal(new GroupMembership(DirectoryId, "directory_user_01E1X56GH84T3FB41SD6PZGDBX", GroupId), membership);
    }

    [Fact]
    public void Old_generation_user_takes_email_username_and_job_title_from_the_top_level()
    {
        var body = Envelope("dsync.user.updated", User("""
            ,"emails":[{"type":"home","value":"lela@home.example","primary":false},{"type":"work","value":"lela@work.example","primary":true}],
            "username":"lblock","job_title":"Engineer","raw_attributes":{"userName":"lblock","active":true}
            """));

        var user = Applied(Parse(body)).User!;

        Assert.Equal("lela@work.example", user.Email);
        Assert.Equal("lblock", user.Username);
        Assert.Equal("Engineer", user.JobTitle);
        Assert.Equal("{}", user.CustomAttributesJson);
        Assert.Equal("""{"userName":"lblock","active":true}""", user.RawAttributesJson);
    }

    [Fact]
    public void Top_level_values_win_over_custom_attributes()
    {
        var body = Envelope("dsync.user.created", User("""
            ,"email":"top@example.com","username":"top","job_title":"Top",
            "custom_attributes":{"emails":[{"value":"custom@example.com","primary":true}],"username":"custom","job_title":"Custom"}
            """));

        var user = Applied(Parse(body)).User!;

        Assert.Equal(("top@example.com", "top", "Top"), (user.Email, user.Username, user.JobTitle));
    }

    [Theory]
    [InlineData("""{"emails":[{"value":"first@example.com"},{"value":"primary@example.com","primary":true}]}""", "primary@example.com")]
    [InlineData("""{"emails":[{"value":"first@example.com"},{"value":"second@example.com","primary":false}]}""", "first@example.com")]
    [InlineData("""{"emails":[{"value":""},{"value":"second@example.com"}]}""", "second@example.com")]
    [InlineData("""{"emails":[]}""", null)]
    [InlineData("""{"department":"Sales"}""", null)]
    public void Without_a_primary_email_field_the_primary_entry_of_custom_attribute_emails_is_used(string customAttributes, string? expected)
    {
        var body = Envelope("dsync.user.created", User($$""","email":null,"custom_attributes":{{customAttributes}}"""));

        Assert.Equal(expected, Applied(Parse(body)).User!.Email);
    }

    [Theory]
    [InlineData("\"2021-06-25T19:07:33.155Z\"", "2021-06-25T19:07:33.155+00:00")]
    [InlineData("\"2021-06-25T19:07:33Z\"", "2021-06-25T19:07:33+00:00")]
    [InlineData("\"2021-06-25T19:07:33.155+02:00\"", "2021-06-25T17:07:33.155+00:00")]
    [InlineData("\"2021-06-25T19:07:33\"", "2021-06-25T19:07:33+00:00")]
    [InlineData("\"2023-04-28 20:05:31.093\"", "2023-04-28T20:05:31.093+00:00")]
    public void Created_at_is_read_leniently_and_a_missing_zone_means_utc(string createdAt, string expected)
    {
        var parsed = Applied(Parse(Envelope("dsync.user.created", User(), createdAt)));

        Assert.Equal(DateTimeOffset.Parse(expected), parsed.CreatedAt);
        Assert.Equal(TimeSpan.Zero, parsed.CreatedAt.Offset);
    }

    [Theory]
    [InlineData("\"yesterday\"", "created_at is not an ISO-8601 time")]
    [InlineData("\"25/06/2021 19:07\"", "created_at is not an ISO-8601 time")]
    [InlineData("1624648053155", "created_at is not a string")]
    [InlineData("null", "created_at is missing")]
    public void Unreadable_created_at_dead_letters_the_event(string createdAt, string reason)
    {
        var letter = DeadLettered(Parse(Envelope("dsync.user.created", User(), createdAt)));

        Assert.Equal(reason, letter.Reason);
        Assert.Null(letter.CreatedAt);
        Assert.Equal(UserId, letter.ObjectId);
    }

    [Fact]
    public void Event_without_created_at_is_dead_lettered_like_the_first_published_vector()
    {
        var body = Fixture.Bytes("signature-vectors/vector1.body");

        var letter = DeadLettered(WorkOSEventParser.Parse(body));

        Assert.Equal(
            new DeadLetter("wh_01FJ27WB8SNT7VN72KRMYJYV8P", "dsync.user.created", UserId, null, "created_at is missing", Encoding.UTF8.GetString(body)),
            letter);
    }

    [Theory]
    [InlineData("suspended", UserStates.Inactive)]
    [InlineData("Inactive", UserStates.Inactive)]
    [InlineData("ACTIVE", UserStates.Active)]
    [InlineData("Pending_Review", "pending_review")]
    public void User_state_is_normalised(string sent, string expected)
    {
        var body = Envelope("dsync.user.updated", $$"""{"id":"{{UserId}}","directory_id":"{{DirectoryId}}","state":"{{sent}}"}""");

        Assert.Equal(expected, Applied(Parse(body)).User!.State);
    }

    [Theory]
    [InlineData("linked", DirectoryStates.Active)]
    [InlineData("unlinked", DirectoryStates.Inactive)]
    [InlineData("invalid_credentials", DirectoryStates.InvalidCredentials)]
    [InlineData("Validating", DirectoryStates.Validating)]
    public void Directory_state_is_normalised_to_the_events_vocabulary(string sent, string expected)
    {
        var body = Envelope("dsync.activated", $$"""{"id":"directory_1","state":"{{sent}}"}""");

        Assert.Equal(expected, Applied(Parse(body)).Directory!.State);
    }

    [Fact]
    public void Role_slugs_come_from_role_and_roles_without_duplicates_in_order()
    {
        var body = Envelope("dsync.user.updated", User("""
            ,"role":{"slug":"admin"},"roles":[{"slug":"member"},{"slug":"admin"},{"slug":"billing"},{"slug":""}]
            """));

        Assert.Equal(["admin", "member", "billing"], Applied(Parse(body)).User!.RoleSlugs);
    }

    [Fact]
    public void User_without_roles_has_no_role_slugs()
    {
        Assert.Empty(Applied(Parse(Envelope("dsync.user.created", User()))).User!.RoleSlugs);
    }

    [Theory]
    [InlineData("dsync.deactivated")]
    [InlineData("dsync.token.created")]
    [InlineData("connection.activated")]
    [InlineData("user.created")]
    [InlineData("DSYNC.USER.CREATED")]
    public void Event_types_this_service_does_not_apply_are_ignored(string eventType)
    {
        var parsed = Parse(Envelope(eventType, "null"));

        Assert.Equal(new Ignored("event_01TEST", eventType), parsed);
    }

    [Theory]
    [InlineData("vector2.body", "connection.activated")]
    [InlineData("vector3.body", "kitten.created")]
    public void Published_vectors_of_other_event_types_are_ignored(string file, string eventType)
    {
        var parsed = WorkOSEventParser.Parse(Fixture.Bytes($"signature-vectors/{file}"));

        Assert.Equal(new Ignored("event_01J44T8116Q5M0RYCFA6KWNXN9", eventType), parsed);
    }

    [Theory]
    [InlineData("dsync.user.created", """{"directory_id":"directory_1","state":"active"}""", "data.id is missing")]
    [InlineData("dsync.user.created", """{"id":"","directory_id":"directory_1","state":"active"}""", "data.id is missing")]
    [InlineData("dsync.user.updated", """{"id":"directory_user_1","state":"active"}""", "data.directory_id is missing")]
    [InlineData("dsync.user.deleted", """{"id":"directory_user_1","directory_id":"directory_1"}""", "data.state is missing")]
    [InlineData("dsync.group.created", """{"directory_id":"directory_1","name":"Developers"}""", "data.id is missing")]
    [InlineData("dsync.group.deleted", """{"id":"directory_group_1"}""", "data.directory_id is missing")]
    [InlineData("dsync.activated", """{"name":"Foo"}""", "data.id is missing")]
    [InlineData("dsync.group.user_added", """{"directory_id":"directory_1","group":{"id":"directory_group_1"}}""", "data.user.id is missing")]
    [InlineData("dsync.group.user_removed", """{"directory_id":"directory_1","user":{"id":"directory_user_1"}}""", "data.group.id is missing")]
    [InlineData("dsync.group.user_added", """{"user":{"id":"directory_user_1"},"group":{"id":"directory_group_1"}}""", "data.directory_id is missing")]
    [InlineData("dsync.deleted", "null", "data is missing or not an object")]
    [InlineData("dsync.user.created", "[]", "data is missing or not an object")]
    public void Missing_ids_dead_letter_the_event_with_the_missing_field(string eventType, string data, string reason)
    {
        var body = Envelope(eventType, data);

        var letter = DeadLettered(Parse(body));

        Assert.Equal(("event_01TEST", eventType, reason, body), (letter.EventId, letter.EventType, letter.Reason, letter.Payload));
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), letter.CreatedAt);
    }

    [Theory]
    [InlineData("dsync.user.created", """{"id":"LONG","directory_id":"directory_1","state":"active"}""", "data.id")]
    [InlineData("dsync.group.created", """{"id":"directory_group_1","directory_id":"LONG"}""", "data.directory_id")]
    [InlineData("dsync.group.user_added", """{"directory_id":"directory_1","user":{"id":"LONG"},"group":{"id":"g1"}}""", "data.user.id")]
    public void Id_too_long_to_index_dead_letters_the_event(string eventType, string data, string field)
    {
        var letter = DeadLettered(Parse(Envelope(eventType, data.Replace("LONG", new string('x', WorkOSEventParser.MaxIdLength + 1)))));

        Assert.Equal($"{field} is longer than {WorkOSEventParser.MaxIdLength} characters", letter.Reason);
    }

    [Fact]
    public void Id_of_the_longest_length_is_accepted() =>
        Applied(Parse(Envelope("dsync.activated", $$$"""{"id":"{{{new string('x', WorkOSEventParser.MaxIdLength)}}}"}""")));

    [Fact]
    public void Event_id_too_long_to_index_is_not_an_envelope()
    {
        var body = $$$"""{"id":"{{{new string('e', WorkOSEventParser.MaxIdLength + 1)}}}","event":"dsync.activated","data":{}}""";

        Assert.Equal(new NotAnEnvelope("id is longer than 255 characters"), Parse(body));
    }

    [Fact]
    public void Dead_lettered_membership_is_named_by_its_membership_key()
    {
        var letter = DeadLettered(Parse(Envelope("dsync.group.user_added", """{"user":{"id":"u1"},"group":{"id":"g1"}}""")));

        Assert.Equal(MembershipKey.For("g1", "u1"), letter.ObjectId);
    }

    [Fact]
    public void Membership_falls_back_to_the_directory_of_its_user_or_group()
    {
        var body = Envelope("dsync.group.user_removed", $$$"""
            {"user":{"id":"u1","first_name":5},"group":{"id":"g1","directory_id":"{{{DirectoryId}}}"}}
            """);

        Assert.Equal(new GroupMembership(DirectoryId, "u1", "g1"), Applied(Parse(body)).Membership);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    [InlineData("\"dsync.user.created\"")]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("{\"id\":\"event_1\",\"event\":\"dsync.user.created\",\"data\":{\"id\":")]
    [InlineData("{\"id\":\"event_1\",\"event\":\"dsync.user.created\"} trailing")]
    [InlineData("{\"event\":\"dsync.user.created\",\"data\":{}}")]
    [InlineData("{\"id\":\"event_1\",\"data\":{}}")]
    [InlineData("{\"id\":\"\",\"event\":\"dsync.user.created\"}")]
    [InlineData("{\"id\":7,\"event\":\"dsync.user.created\"}")]
    [InlineData("{\"id\":\"event_1\",\"event\":[\"dsync.user.created\"]}")]
    [InlineData("{\"id\":\"event_\\u0000\",\"event\":\"dsync.user.created\"}")]
    [InlineData("{\"id\":\"event_1\",\"event\":\"dsync.user.created\",}")]
    public void Body_that_is_not_an_event_envelope_is_refused(string body)
    {
        var parsed = Assert.IsType<NotAnEnvelope>(Parse(body));

        Assert.False(string.IsNullOrWhiteSpace(parsed.Reason));
    }

    [Fact]
    public void Truncated_example_is_not_an_envelope()
    {
        var body = Fixture.Bytes("events/dsync.user.created.json");

        Assert.IsType<NotAnEnvelope>(WorkOSEventParser.Parse(body.AsSpan(0, body.Length / 2)));
    }

    [Fact]
    public void Body_that_is_not_utf8_is_not_an_envelope()
    {
        byte[] body = [.. Encoding.UTF8.GetBytes("{\"id\":\"event_1\",\"event\":\"dsync.user.created\",\"x\":\""), 0xC3, 0x28, .. "\"}"u8];

        Assert.Equal(new NotAnEnvelope("body is not valid UTF-8"), WorkOSEventParser.Parse(body));
    }

    [Fact]
    public void Body_with_a_byte_order_mark_is_not_an_envelope()
    {
        byte[] body = [0xEF, 0xBB, 0xBF, .. Fixture.Bytes("events/dsync.user.created.json")];

        Assert.IsType<NotAnEnvelope>(WorkOSEventParser.Parse(body));
    }

    [Fact]
    public void Nul_in_a_name_dead_letters_the_event_because_postgres_cannot_store_it()
    {
        var body = Envelope("dsync.user.created", User(""",'first_name':'Le\u0000la'""".Replace('\'', '"')));

        var letter = DeadLettered(Parse(body));

        Assert.Contains("U+0000", letter.Reason);
        Assert.Contains($"byte {body.IndexOf("\\u0000", StringComparison.Ordinal)}", letter.Reason);
        Assert.DoesNotContain('\0', letter.Reason);
        Assert.Null(letter.ObjectId);
        Assert.Equal(body, letter.Payload);
    }

    [Fact]
    public void Nul_in_a_custom_attribute_key_dead_letters_the_event()
    {
        var body = Envelope("dsync.user.created", User(""",'custom_attributes':{'a\u0000':1}""".Replace('\'', '"')));

        Assert.Contains("U+0000", DeadLettered(Parse(body)).Reason);
    }

    [Fact]
    public void Unpaired_surrogate_dead_letters_the_event()
    {
        var body = Envelope("dsync.group.created", $$"""{"id":"g1","directory_id":"d1","name":"Dev\ud800s"}""");

        Assert.Contains("unpaired UTF-16 surrogate", DeadLettered(Parse(body)).Reason);
    }

    [Fact]
    public void Escaped_backslash_before_u0000_and_surrogate_pairs_are_ordinary_text()
    {
        var body = Envelope("dsync.group.created", $$"""{"id":"g1","directory_id":"d1","name":"C:\\u0000 \ud83d\ude00"}""");

        Assert.Equal("C:\\u0000 \U0001F600", Applied(Parse(body)).Group!.Name);
    }

    [Fact]
    public void Nul_in_an_ignored_event_does_not_matter()
    {
        Assert.IsType<Ignored>(Parse(Envelope("dsync.token.created", "{\"name\":\"\\u0000\"}")));
    }

    [Theory]
    [InlineData(""","first_name":5""", "data.first_name has the wrong JSON type")]
    [InlineData(""","email":["a@example.com"]""", "data.email has the wrong JSON type")]
    [InlineData(""","roles":"admin" """, "data.roles has the wrong JSON type")]
    [InlineData(""","role":{"slug":7}""", "data.role.slug has the wrong JSON type")]
    [InlineData(""","emails":[{"value":"a@example.com","primary":"yes"}]""", "data.emails[0].primary has the wrong JSON type")]
    [InlineData(""","custom_attributes":"department=Sales" """, "data.custom_attributes is not an object")]
    [InlineData(""","raw_attributes":[1]""", "data.raw_attributes is not an object")]
    public void Documented_field_of_the_wrong_type_dead_letters_the_event_naming_the_field(string fields, string reason)
    {
        var letter = DeadLettered(Parse(Envelope("dsync.user.updated", User(fields))));

        Assert.Equal(reason, letter.Reason);
        Assert.Equal(UserId, letter.ObjectId);
    }

    [Fact]
    public void Custom_attribute_of_the_wrong_type_counts_as_absent()
    {
        var body = Envelope("dsync.user.updated", User("""
            ,"custom_attributes":{"username":5,"job_title":{"title":"x"},"emails":[null,7,{"value":false},{"value":"a@example.com","primary":"yes"}]}
            """));

        var user = Applied(Parse(body)).User!;

        Assert.Equal(((string?)null, (string?)null, "a@example.com"), (user.Username, user.JobTitle, user.Email));
        Assert.Contains("\"username\":5", user.CustomAttributesJson);
    }

    [Fact]
    public void Unknown_fields_are_ignored()
    {
        var body = Envelope("dsync.group.created", """
            {"object":"directory_group","id":"g1","directory_id":"d1","previous_attributes":{"name":"Old"},"future_field":[{"x":1}]}
            """);

        Assert.Equal("g1", Applied(Parse(body)).Group!.Id);
    }

    [Fact]
    public void Null_attributes_are_stored_as_the_empty_object()
    {
        var user = Applied(Parse(Envelope("dsync.user.created", User(""","custom_attributes":null,"raw_attributes":null""")))).User!;

        Assert.Equal(("{}", "{}"), (user.CustomAttributesJson, user.RawAttributesJson));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(100_000)]
    public void Deeply_nested_json_is_answered_without_throwing(int depth)
    {
        var nested = new string('[', depth) + new string(']', depth);

        var parsed = Parse(Envelope("dsync.user.created", User($$""","custom_attributes":{"deep":{{nested}}}""")));

        Assert.IsType<NotAnEnvelope>(parsed);
    }

    [Fact]
    public void Custom_attributes_nested_within_the_depth_limit_are_kept_verbatim()
    {
        var nested = new string('[', 40) + new string(']', 40);

        var user = Applied(Parse(Envelope("dsync.user.created", User($$""","custom_attributes":{"deep":{{nested}}}""")))).User!;

        Assert.Equal("{\"deep\":" + nested + "}", user.CustomAttributesJson);
        Assert.NotNull(JsonNode.Parse(user.CustomAttributesJson));
    }

    [Fact]
    public void Mutated_examples_never_make_the_parser_throw()
    {
        // Fixed seed: a failure reproduces. Each round damages a real payload the way a fuzzer would.
        var random = new Random(20260415);
        byte[][] seeds = [.. Fixture.EventExamples().Select(file => Fixture.Bytes($"events/{file}")), Fixture.Bytes("signature-vectors/vector1.body")];
        byte[][] splices = [.. new[] { "\\u0000", "\\ud800", "null", "[", "]", "{", "}", "\"", ",", ":", "1e999", "-", "\\", "true", "\"\"" }
            .Select(Encoding.UTF8.GetBytes)];
        var outcomes = new HashSet<Type>();

        for (var round = 0; round < 20_000; round++)
        {
            var body = seeds[random.Next(seeds.Length)].ToList();
            for (var edits = random.Next(1, 4); edits > 0 && body.Count > 0; edits--)
            {
                var at = random.Next(body.Count);
                switch (random.Next(4))
                {
                    case 0: body[at] = (byte)random.Next(256); break;
                    case 1: body.RemoveRange(at, Math.Min(random.Next(1, 8), body.Count - at)); break;
                    case 2: body.InsertRange(at, splices[random.Next(splices.Length)]); break;
                    default: body.RemoveRange(at, body.Count - at); break;
                }
            }

            var parsed = WorkOSEventParser.Parse(body.ToArray());

            outcomes.Add(Assert.IsAssignableFrom<ParsedWebhook>(parsed).GetType());
        }

        // The damage must have reached every branch, or the test proves less than it claims.
        Assert.Equal(4, outcomes.Count);
    }
}
