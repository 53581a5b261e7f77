using System.Runtime.InteropServices;
using DirectorySync.Simulator.Cli;

namespace DirectorySync.Simulator;

public static class Program
{
    private const string Usage = """
        DirectorySync simulator: plays WorkOS Directory Sync (webhooks, REST and Events APIs) against the service.

        simulate [--url URL --secret S] [--users 10000] [--groups 1000] [--memberships-per-user 5] [--churn 10000]
                 [--directories 1] [--delete-directory] [--generation new|old|mixed] [--seed 42] [--start ISO-TIME]
                 [--order in-order|shuffled] [--duplicates 0.1] [--concurrency 32] [--rate EVENTS-PER-S]
                 [--max-attempts 8] [--initial-backoff-ms 50] [--max-backoff-ms 5000] [--timeout-s 30] [--window-s N]
                 [--verify "<npgsql connection string>"] [--inactive-policy retain|delete] [--verify-timeout-s 30]
                 [--verify-columns all|common] [--out events.jsonl]
            Generates a history (counts are per directory), writes it to --out, delivers it to --url, and compares the
            mirror with what in-order delivery must produce. Without --url nothing is sent. Several gateways:
            --url URL1,URL2 spreads the senders over them, and a sender that cannot reach one fails over to the next.
            --rate paces request starts (retries included) to a steady rate; --window-s N adds acknowledgements and
            latencies per N-second window to the summary (a soak's view over time). --verify-columns common skips
            directories.name and role_slugs, for a mirror of only the recipe's minimum tables (the benchmark's peer).

        replay --url URL --secret S (--from events.jsonl | --from-event-log "<connection string>" [--dead-letters-only]
               [--since ISO-TIME]) [delivery options as above]
            Resends the envelopes of a JSONL file (one per line), or the payloads of event_log by received_at.

        serve-api --api-key KEY [--listen http://127.0.0.1:0] [history options as above] [--expired FRACTION]
                  [--retention-days N] [--invalid-cursor-status 400|422] [--api-only-change-after-s N]
                  [--url URL --secret S and delivery options as above]
            Generates a history, publishes it into a fake WorkOS and serves its REST and Events APIs (Bearer KEY) until
            Ctrl-C; prints "api-url <base URL>". --expired F: the oldest fraction F of the history happened long ago:
            the REST lists show it, GET /events does not (its cursors are refused) and no webhook carries it.
            --url: the rest is also delivered as webhooks. --api-only-change-after-s N: N seconds after serving starts,
            one user's first_name changes through the APIs only (no webhook).

        read-load --url GATEWAY-URL --key READ-API-KEY --directory ID [--rate 200] [--seconds 60] [--limit 100]
                  [--max-in-flight 256] [--seed 42]
            Walks the directory's users through the read API page by page, then requests pages at random at --rate
            per second for --seconds (open loop: latency counts from each request's scheduled start) and prints p50,
            p99 and max. Fails if any request fails or more than --max-in-flight would be waiting.

        consume --url GATEWAY-URL --key READ-API-KEY [--after POSITION] [--directory ID] [--idle-s 5]
                [--verify "<npgsql connection string>"] [--verify-timeout-s 30]
            Follows GET /changes from the start of the feed (or after POSITION) until a long-poll of --idle-s brings
            nothing, applying each entry as an application would; --verify then checks that what it rebuilt is exactly
            the mirror (every directory, user and group in its WorkOS shape, and every membership).

        listen --port PORT [--out FILE]
            A local endpoint for the service's outbound webhooks: answers every POST 200 and writes, per message, when
            it came (Unix ms), its webhook-id, its number of entries and its last entry's position (benchmarks).

        Exit code: 0 when every event was acknowledged (or the feed followed) and the mirror (if verified) matched; 1 otherwise; 2 on usage errors.
        """;

    private const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        // Run socket completions on the socket engine's thread instead of hopping to the thread pool: on a small machine
        // shared with the service under test that hop costs more CPU than the request. Read once, before the first socket.
        if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
        }
        using var cancellation = new CancellationTokenSource();
        // Ctrl-C, or the SIGTERM a script sends a background serve-api: the run ends as cancelled, with its summary.
        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            cancellation.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            return args.FirstOrDefault() switch
            {
                "simulate" => await SimulateCommand.RunAsync(
                    CommandLine.Parse(args, SimulateCommand.ValueOptions, SimulateCommand.FlagOptions), cancellation.Token),
                "serve-api" => await ServeApiCommand.RunAsync(
                    CommandLine.Parse(args, ServeApiCommand.ValueOptions, ServeApiCommand.FlagOptions), cancellation.Token),
                "consume" => await ConsumeCommand.RunAsync(
                    CommandLine.Parse(args, ConsumeCommand.ValueOptions, ConsumeCommand.FlagOptions), cancellation.Token),
                "listen" => await ListenCommand.RunAsync(
                    CommandLine.Parse(args, ListenCommand.ValueOptions, ListenCommand.FlagOptions), cancellation.Token),
                "replay" => await ReplayCommand.RunAsync(
                    CommandLine.Parse(args, ReplayCommand.ValueOptions, ReplayCommand.FlagOptions), cancellation.Token),
                "read-load" => await ReadLoadCommand.RunAsync(
                    CommandLine.Parse(args, ReadLoadCommand.ValueOptions, ReadLoadCommand.FlagOptions), cancellation.Token),
                null or "help" or "--help" or "-h" => ShowUsage(null),
                var other => ShowUsage($"Unknown command '{other}'."),
            };
        }
        catch (UsageException usage)
        {
            return ShowUsage(usage.Message);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
        catch (Exception problem) when (problem is IOException or InvalidDataException or UnauthorizedAccessException
            or Npgsql.NpgsqlException or ArgumentException or HttpRequestException or System.Text.Json.JsonException)
        {
            // Files, databases and options the user pointed at: the message says enough, a stack trace does not help.
            Console.Error.WriteLine($"error: {problem.Message}");
            return 1;
        }
    }

    private static int ShowUsage(string? problem)
    {
        if (problem is not null) Console.Error.WriteLine(problem + "\n");
        Console.Error.WriteLine(Usage);
        return problem is null ? 0 : 2;
    }
}
