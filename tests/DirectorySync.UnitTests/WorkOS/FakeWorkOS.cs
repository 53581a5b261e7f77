using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using DirectorySync.WorkOS;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace DirectorySync.UnitTests.WorkOS;

/// <summary>
/// A stand-in for the WorkOS API on a loopback port (real Kestrel, real HTTP): every request is answered by the test's
/// handler and recorded with the moment it arrived, so tests judge timing on the server's side.
/// </summary>
internal sealed class FakeWorkOS : IAsyncDisposable
{
    public const string ApiKey = "sk_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuV";

    private readonly WebApplication _app;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Received> _received = new();
    private int _count;

    private FakeWorkOS(Func<HttpContext, Received, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(async context =>
        {
            var received = new Received(
                Interlocked.Increment(ref _count), _clock.Elapsed, DateTimeOffset.UtcNow, context.Request.Path, context.Request.QueryString.Value ?? "",
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToArray()), context.Request.Headers.Authorization.ToString());
            _received.Enqueue(received);
            await handler(context, received);
        });
    }

    /// <summary>What reached the server, in arrival order.</summary>
    public IReadOnlyList<Received> Requests => [.. _received];

    public TimeSpan Now => _clock.Elapsed;

    public string BaseUrl => _app.Urls.Single();

    public static async Task<FakeWorkOS> StartAsync(Func<HttpContext, Received, Task> handler)
    {
        var server = new FakeWorkOS(handler);
        await server._app.StartAsync();
        return server;
    }

    /// <summary>A client wired as the service wires it (options, pipeline, limits), with every log line kept.</summary>
    public (WorkOSClient Client, FakeLogCollector Logs) CreateClient(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["WorkOS:ApiKey"] = ApiKey,
            ["WorkOS:BaseUrl"] = BaseUrl,
            // Short backoff: the tests judge that retries happen and Retry-After is honoured, not the default pauses.
            ["WorkOS:RetryBaseDelay"] = "00:00:00.050",
        };
        foreach (var (key, value) in settings)
        {
            values[$"WorkOS:{key}"] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging())
            .AddWorkOSApi(configuration)
            .BuildServiceProvider();
        return (services.GetRequiredService<WorkOSClient>(), services.GetFakeLogCollector());
    }

    public static Task WriteJsonAsync(HttpContext context, string json, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    /// <summary>A list envelope as WorkOS writes it.</summary>
    public static string List(IEnumerable<string> data, string? after = null, string? before = null) =>
        $$$"""{"object":"list","data":[{{{string.Join(",", data)}}}],"list_metadata":{"before":{{{Cursor(before)}}},"after":{{{Cursor(after)}}}}}""";

    public static string User(string id, string directoryId = "directory_1", string extra = "") =>
        $$"""{"object":"directory_user","id":"{{id}}","directory_id":"{{directoryId}}","state":"active","email":"{{id}}@example.com"{{extra}},"created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-15T12:00:00.000Z"}""";

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private static string Cursor(string? id) => id is null ? "null" : $"\"{id}\"";

    /// <summary>A request as it arrived: <see cref="Number"/> counts from 1 in arrival order.</summary>
    public sealed record Received(
        int Number, TimeSpan At, DateTimeOffset Time, string Path, string RawQuery, IReadOnlyDictionary<string, string?[]> Query, string Authorization)
    {
        public string? this[string name] => Query.TryGetValue(name, out var values) ? values.Single() : null;
    }
}

internal static class LogText
{
    /// <summary>Everything a log sink could write for an entry: message, structured values, scopes and exception.</summary>
    public static string Of(FakeLogRecord record)
    {
        var text = new StringBuilder(record.Message);
        foreach (var (key, value) in record.StructuredState ?? [])
        {
            text.Append(' ').Append(key).Append('=').Append(value);
        }

        foreach (var scope in record.Scopes)
        {
            text.Append(" => ").Append(scope);
        }

        return text.Append(' ').Append(record.Exception).ToString();
    }
}
