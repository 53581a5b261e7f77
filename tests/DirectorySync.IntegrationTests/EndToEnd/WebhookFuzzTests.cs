using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DirectorySync.Webhooks;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace DirectorySync.IntegrationTests.EndToEnd;

/// <summary>
/// Seeded, bounded fuzzing of <c>POST /webhooks/workos</c> over real HTTP with a real silo and Postgres. Repeat a run
/// with <c>DIRECTORYSYNC_FUZZ_SEED=&lt;seed&gt;</c>; the seed is printed and named in every failure.
/// </summary>
/// <remarks>
/// Alone in its collection, run while no other test class runs: its heap bound is about this process's silo, gateway
/// and fuzzing, not about whatever other tests hold at the same moment.
/// </remarks>
[Collection(nameof(WebhookFuzzTests))]
public sealed class WebhookFuzzTests(WebhookFuzzTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<WebhookFuzzTests.Fixture>
{
    private const int RequestsPerRun = 1500;
    private const int MaxBodyBytes = 256 * 1024;
    private const string Directory = "directory_fuzz";

    private static readonly string[] Tables = ["directories", "directory_users", "directory_groups", "directory_group_memberships", "event_log"];

    private static readonly string[] HostileValues =
    [
        "'); DROP TABLE directory_users; --", "Robert'); DROP TABLE directories;--", "x' OR '1'='1", "1; DELETE FROM event_log",
        "$$; DROP TABLE directory_groups; $$", "$1", "\\'; TRUNCATE event_log; --", "<script>alert(1)</script>",
        "<img src=x onerror=alert('x')>", "\"><svg onload=alert(1)>", "{{7*7}}", "${jndi:ldap://127.0.0.1/a}", "%s%s%n",
        "\\u0000 is not a NUL", "Zoë 名前 🙂 \u202Eevil", "line\r\nbreak\ttab",
    ];

    // Broken JSON with raw characters and escapes in it; the unsafe encoder leaves <, >, ' and & raw as an attacker would.
    private static readonly JsonSerializerOptions Raw = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public sealed class Fixture : IAsyncLifetime
    {
        public SyncSystem System { get; private set; } = null!;

        public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

        public async Task InitializeAsync() => System = await SyncSystem.StartAsync("webhook_fuzz",
            new Dictionary<string, string?>
            {
                ["Webhooks:MaxBodyBytes"] = MaxBodyBytes.ToString(),
                // Thousands of refusals would flood the console at Warning.
                ["Logging:LogLevel:Default"] = "Error",
            });

        public async Task DisposeAsync()
        {
            Http.Dispose();
            await System.DisposeAsync();
        }
    }

    private enum Shape
    {
        ValidEvent,
        RandomBytes,
        TruncatedJson,
        DeeplyNested,
        WrongType,
        HugeString,
        InvalidUtf8,
        ControlCharacters,
        HostileValues,
        EnormousArray,
    }

    /// <summary>A generated body; <see cref="EventId"/> is the envelope's id when the body still carries it intact.</summary>
    private sealed record Sample(Shape Shape, byte[] Body, string? EventId);

    [Fact]
    public Task Unsigned_hostile_requests_are_refused_and_change_no_table() => FuzzAsync(1, async random =>
    {
        var before = await CountRowsAsync();
        var answers = await SendAllAsync(random, (i, r) =>
        {
            var sample = Generate(r, i, Enum.GetValues<Shape>()[r.Next(Enum.GetValues<Shape>().Length)]);
            return (sample, ForgedSignature(r, sample.Body));
        });

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.Unauthorized, Describe(a)));
        Assert.Equal(before, await CountRowsAsync());
        await AssertHealthyAndBoundedAsync();
    });

    [Fact]
    public Task Signed_broken_requests_answer_400_or_200_with_every_dead_letter_explained() => FuzzAsync(2, async random =>
    {
        var answers = await SendAllAsync(random, (i, r) =>
        {
            // Every field of the user template gets every kind of wrong value over a run: WrongType walks them in turn.
            var shapes = Enum.GetValues<Shape>().Where(s => s != Shape.ValidEvent).ToArray();
            var sample = Generate(r, i, i % 3 == 0 ? Shape.WrongType : shapes[r.Next(shapes.Length)]);
            return (sample, Sign(sample.Body));
        });

        Assert.All(answers, a => Assert.True(
            a.Status == HttpStatusCode.BadRequest
            || (a.Status == HttpStatusCode.OK && a.Text is "applied" or "dead_letter" or "ignored" or "stale" or "duplicate"),
            Describe(a)));
        var deadLetters = answers.Where(a => a.Text == "dead_letter" && a.Sample.EventId is not null).Select(a => a.Sample.EventId!).ToArray();
        Assert.NotEmpty(deadLetters);
        Assert.Equal(deadLetters.Length, await CountAsync(
            "SELECT count(*) FROM event_log WHERE event_id = ANY($1) AND outcome = 'dead_letter' AND length(reason) > 0", deadLetters));
        Assert.Contains(answers, a => a.Status == HttpStatusCode.BadRequest);
        await AssertHealthyAndBoundedAsync();
    });

    [Fact]
    public Task SQL_and_script_looking_values_are_stored_verbatim() => FuzzAsync(3, async random =>
    {
        var directory = $"directory_hostile_{random.Next()}";
        Assert.Equal((HttpStatusCode.OK, "applied"), await fixture.System.SendAsync(Payloads.Activated($"event_{directory}", directory, 0)));
        var users = new List<(string Id, string Value)>();
        for (var i = 0; i < 40; i++)
        {
            var value = HostileValues[random.Next(HostileValues.Length)] + (random.Next(2) == 0 ? "" : HostileValues[random.Next(HostileValues.Length)]);
            var user = UserTemplate($"event_{directory}_{i}", directory, $"directory_user_{directory}_{i}");
            user["data"]!["first_name"] = value;
            user["data"]!["last_name"] = value;
            user["data"]!["custom_attributes"] = new JsonObject { ["note"] = value, [value] = "hostile key" };
            var answer = await SendAsync(Encoding.UTF8.GetBytes(user.ToJsonString(Raw)), signed: true);
            Assert.True(answer is (HttpStatusCode.OK, "applied"), $"{value}: {answer}");
            users.Add(($"directory_user_{directory}_{i}", value));
        }

        foreach (var table in Tables) Assert.Equal(1, await CountAsync("SELECT count(*) FROM pg_tables WHERE tablename = $1", table));
        await using var connection = new NpgsqlConnection(fixture.System.ConnectionString);
        await connection.OpenAsync();
        foreach (var (id, value) in users)
        {
            await using var read = new NpgsqlCommand(
                "SELECT first_name, last_name, custom_attributes->>'note', custom_attributes ? $2 FROM directory_users WHERE workos_user_id = $1", connection);
            read.Parameters.Add(new() { Value = id });
            read.Parameters.Add(new() { Value = value });
            await using var row = await read.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync(), $"user {id} with '{value}' is missing");
            Assert.Equal(value, row.GetString(0));
            Assert.Equal(value, row.GetString(1));
            Assert.Equal(value, row.GetString(2));
            Assert.True(row.GetBoolean(3), $"custom attribute key '{value}' was not stored");
        }
    });

    /// <summary>Runs <paramref name="run"/> with a seeded random; a failure names the seed to repeat it with.</summary>
    private async Task FuzzAsync(int offset, Func<Random, Task> run)
    {
        var seed = Environment.GetEnvironmentVariable("DIRECTORYSYNC_FUZZ_SEED") is { Length: > 0 } fixedSeed
            ? int.Parse(fixedSeed)
            : Random.Shared.Next();
        output.WriteLine($"fuzz seed {seed}");
        try
        {
            await run(new Random(seed + offset));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"Fuzz run failed; repeat it with DIRECTORYSYNC_FUZZ_SEED={seed}. {e.Message}", e);
        }
    }

    private sealed record Answer(int Index, Sample Sample, HttpStatusCode Status, string Text);

    private static string Describe(Answer a) =>
        $"request {a.Index} ({a.Sample.Shape}, {a.Sample.Body.Length} bytes) answered {(int)a.Status}: {a.Text}";

    /// <summary>
    /// Sends <see cref="RequestsPerRun"/> requests, several at a time. Each is generated from its own seed, drawn in order
    /// from <paramref name="random"/>, so a run repeats exactly whatever the interleaving.
    /// </summary>
    private async Task<IReadOnlyList<Answer>> SendAllAsync(Random random, Func<int, Random, (Sample Sample, string? Signature)> generate)
    {
        var seeds = Enumerable.Range(0, RequestsPerRun).Select(_ => random.Next()).ToArray();
        var answers = new Answer[RequestsPerRun];
        await Parallel.ForEachAsync(Enumerable.Range(0, RequestsPerRun), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var (sample, signature) = generate(i, new Random(seeds[i]));
            var (status, text) = await SendAsync(sample.Body, signature);
            answers[i] = new Answer(i, sample, status, text);
        });
        return answers;
    }

    private Task<(HttpStatusCode Status, string Text)> SendAsync(byte[] body, bool signed) => SendAsync(body, signed ? Sign(body) : null);

    private async Task<(HttpStatusCode Status, string Text)> SendAsync(byte[] body, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.System.WebhookUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        if (signature is not null) request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
        using var response = await fixture.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Sign(byte[] body, string secret = SyncSystem.Secret, long? at = null) =>
        WebhookSignature.Sign(secret, at ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), body);

    /// <summary>No signature, or one that must not pass: wrong secret, wrong body, too old, malformed, the secret itself.</summary>
    private static string? ForgedSignature(Random random, byte[] body)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return random.Next(8) switch
        {
            0 => null,
            1 => Sign(body, secret: "whsec_not_the_secret"),
            2 => Sign([.. body, (byte)' ']),
            3 => Sign(body, at: now - 600_000),
            4 => $"t={now}, v1={Convert.ToHexStringLower(RandomBytes(random, 32))}",
            5 => SyncSystem.Secret,
            6 => new string(Enumerable.Range(0, random.Next(1, 200)).Select(_ => (char)random.Next(0x20, 0x7F)).ToArray()),
            _ => Sign(body).Replace("v1=", "v0="),
        };
    }

    private static Sample Generate(Random random, int index, Shape shape)
    {
        var eventId = $"event_fuzz_{Guid.NewGuid():N}";
        var user = UserTemplate(eventId, Directory, $"directory_user_fuzz_{index}");
        switch (shape)
        {
            case Shape.ValidEvent:
                return Json(shape, user, eventId);
            case Shape.RandomBytes:
                return new(shape, RandomBytes(random, random.Next(0, 4096)), null);
            case Shape.TruncatedJson:
            {
                var bytes = Encoding.UTF8.GetBytes(user.ToJsonString(Raw));
                return new(shape, bytes[..random.Next(0, bytes.Length)], null);
            }
            case Shape.DeeplyNested:
            {
                // Past the parser's 64 levels (400) as often as below them (stored as jsonb).
                var depth = random.Next(2) == 0 ? random.Next(1, 60) : random.Next(60, 50_000);
                var nested = new string('[', depth) + new string(']', depth);
                var text = user.ToJsonString(Raw).Replace("\"custom_attributes\":{", $"\"custom_attributes\":{{\"deep\":{nested},");
                return new(shape, Encoding.UTF8.GetBytes(text), depth < 60 ? eventId : null);
            }
            case Shape.WrongType:
            {
                var fields = Fields(user);
                var (parent, key, original) = fields[index / 3 % fields.Count];
                var replacement = WrongValue(random, original);
                if (key is string name) parent.AsObject()[name] = replacement;
                else parent.AsArray()[(int)key] = replacement;
                return Json(shape, user, parent == user && Equals(key, "id") ? null : eventId);
            }
            case Shape.HugeString:
            {
                var field = new[] { "first_name", "last_name", "email", "idp_id", "id", "directory_id" }[random.Next(6)];
                user["data"]![field] = RandomText(random, random.Next(10_000, MaxBodyBytes / 4));
                return Json(shape, user, eventId);
            }
            case Shape.InvalidUtf8:
            {
                var bytes = Encoding.UTF8.GetBytes(user.ToJsonString(Raw)).ToList();
                byte[][] invalid = [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80]];
                bytes.InsertRange(random.Next(bytes.Count), invalid[random.Next(invalid.Length)]);
                return new(shape, [.. bytes], null);
            }
            case Shape.ControlCharacters:
            {
                // Raw control characters make the JSON invalid; escaped NULs and lone surrogates are valid JSON Postgres cannot store.
                string[] inserts = ["\u0000", "\u0001", "\u001b[31m", "\u007f", "\\u0000", "\\ud800", "\\udc00x", "\\u0007", "\r\n"];
                var text = user.ToJsonString(Raw).Replace("\"F\"", $"\"F{inserts[random.Next(inserts.Length)]}F\"");
                return new(shape, Encoding.UTF8.GetBytes(text), eventId);
            }
            case Shape.HostileValues:
            {
                var value = HostileValues[random.Next(HostileValues.Length)];
                user["data"]!["first_name"] = value;
                user["data"]!["custom_attributes"] = new JsonObject { ["department_name"] = value, [value] = value };
                return Json(shape, user, eventId);
            }
            default:
            {
                var count = random.Next(1_000, 5_000);
                var field = random.Next(3);
                var items = new JsonArray(Enumerable.Range(0, count).Select(i => (JsonNode?)(field switch
                {
                    0 => new JsonObject { ["slug"] = $"r{i}" },
                    1 => new JsonObject { ["value"] = $"{i}@x.test", ["primary"] = false },
                    _ => JsonValue.Create(i),
                })).ToArray());
                user["data"]![field switch { 0 => "roles", 1 => "emails", _ => "raw_attributes" }] =
                    field == 2 ? new JsonObject { ["list"] = items } : items;
                return Json(shape, user, eventId);
            }
        }
    }

    private static Sample Json(Shape shape, JsonNode node, string? eventId) => new(shape, Encoding.UTF8.GetBytes(node.ToJsonString(Raw)), eventId);

    /// <summary>A complete dsync.user.created of both payload generations' fields.</summary>
    private static JsonNode UserTemplate(string eventId, string directory, string userId) => JsonNode.Parse($$"""
        {"object":"event","id":"{{eventId}}","event":"dsync.user.created","created_at":"2026-11-01T10:00:00.000Z",
         "data":{"object":"directory_user","id":"{{userId}}","idp_id":"idp_1","directory_id":"{{directory}}","organization_id":"org_1",
                 "email":"f@acme.test","emails":[{"primary":true,"type":"work","value":"f@acme.test"}],"first_name":"F","last_name":"L",
                 "username":"f","job_title":"Engineer","state":"active","role":{"slug":"member"},"roles":[{"slug":"member"}],
                 "custom_attributes":{"department_name":"R&D","emails":[{"value":"f@acme.test","primary":true}] },
                 "raw_attributes":{},"created_at":"2026-11-01T10:00:00.000Z","updated_at":"2026-11-01T10:00:00.000Z"},
         "context":{} }
        """)!;

    /// <summary>Every field at every depth: its container, its name or index, and its value.</summary>
    private static List<(JsonNode Parent, object Key, JsonNode? Value)> Fields(JsonNode root)
    {
        var fields = new List<(JsonNode, object, JsonNode?)>();
        void Walk(JsonNode node)
        {
            if (node is JsonObject obj)
                foreach (var (name, value) in obj.ToArray())
                {
                    fields.Add((node, name, value));
                    if (value is not null) Walk(value);
                }
            else if (node is JsonArray array)
                for (var i = 0; i < array.Count; i++)
                {
                    fields.Add((node, i, array[i]));
                    if (array[i] is { } item) Walk(item);
                }
        }
        Walk(root);
        return fields;
    }

    private static JsonNode? WrongValue(Random random, JsonNode? original)
    {
        var kind = original?.GetValueKind() ?? JsonValueKind.Null;
        Func<JsonNode?>[] candidates =
        [
            () => JsonValue.Create(random.Next(2) == 0 ? 42 : -1.5e308),
            () => JsonValue.Create(random.Next(2) == 0),
            () => null,
            () => JsonValue.Create(RandomText(random, random.Next(0, 20))),
            () => new JsonArray(JsonValue.Create("x"), JsonValue.Create(1)),
            () => new JsonObject { ["unexpected"] = new JsonArray() },
        ];
        JsonValueKind[] kinds = [JsonValueKind.Number, JsonValueKind.True, JsonValueKind.Null, JsonValueKind.String, JsonValueKind.Array, JsonValueKind.Object];
        var wrong = Enumerable.Range(0, candidates.Length)
            .Where(i => kinds[i] != kind && !(kinds[i] == JsonValueKind.True && kind == JsonValueKind.False))
            .ToArray();
        return candidates[wrong[random.Next(wrong.Length)]]();
    }

    private static string RandomText(Random random, int length)
    {
        // Whole characters only: half an emoji's surrogate pair could not be sent as UTF-8 at all.
        string[] alphabet = ["a", "b", "X", "0", "9", " ", "'", "\"", ";", "-", "<", ">", "/", "\\", "&", "%", "$", "{", "}", "é", "名", "🙂"];
        var builder = new StringBuilder(length);
        while (builder.Length < length) builder.Append(alphabet[random.Next(alphabet.Length)]);
        return builder.ToString();
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private async Task<long[]> CountRowsAsync()
    {
        var counts = new long[Tables.Length];
        for (var i = 0; i < Tables.Length; i++) counts[i] = await CountAsync($"SELECT count(*) FROM {Tables[i]}");
        return counts;
    }

    private async Task<long> CountAsync(string sql, object? parameter = null)
    {
        await using var connection = new NpgsqlConnection(fixture.System.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (parameter is not null) command.Parameters.Add(new() { Value = parameter });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Still ready, and the heap of this process (silo, gateway and tests) has not grown without bound.</summary>
    private async Task AssertHealthyAndBoundedAsync()
    {
        using var ready = await fixture.Http.GetAsync(new Uri(fixture.System.GatewayUrl, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"GC heap after the run: {heap / 1024 / 1024} MiB");
        Assert.True(heap < 1024L * 1024 * 1024, $"GC heap is {heap / 1024 / 1024} MiB after the run");
    }
}

[CollectionDefinition(nameof(WebhookFuzzTests), DisableParallelization = true)]
public sealed class WebhookFuzzCollection;
