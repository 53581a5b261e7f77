using DirectorySync.Simulator.Delivery;

namespace DirectorySync.Simulator.Cli;

/// <summary>The delivery options both commands share, and running a delivery with progress and summary.</summary>
internal static class DeliveryArguments
{
    public static readonly string[] ValueOptions =
    [
        "url", "secret", "concurrency", "rate", "order", "duplicates", "seed", "max-attempts", "initial-backoff-ms",
        "max-backoff-ms", "timeout-s", "window-s",
    ];

    public static WebhookDeliveryOptions Read(CommandLine line)
    {
        var defaults = new WebhookDeliveryOptions { Endpoint = new Uri("http://127.0.0.1/"), Secret = "" };
        var urls = line.Urls("url");
        return new WebhookDeliveryOptions
        {
            Endpoint = urls[0],
            AlternateEndpoints = urls.Skip(1).ToArray(),
            Secret = line.RequiredText("secret"),
            Concurrency = line.Integer("concurrency", defaults.Concurrency, minimum: 1),
            RatePerSecond = line.Text("rate") is null ? null : line.Integer("rate", 0, minimum: 1),
            Order = line.Choice("order", defaults.Order, ("in-order", DeliveryOrder.InOrder), ("shuffled", DeliveryOrder.Shuffled)),
            DuplicateFraction = line.Fraction("duplicates", defaults.DuplicateFraction),
            Seed = line.Integer("seed", defaults.Seed, minimum: int.MinValue),
            MaxAttempts = line.Integer("max-attempts", defaults.MaxAttempts, minimum: 1),
            InitialBackoff = line.Milliseconds("initial-backoff-ms", defaults.InitialBackoff),
            MaxBackoff = line.Milliseconds("max-backoff-ms", defaults.MaxBackoff),
            RequestTimeout = line.Seconds("timeout-s", defaults.RequestTimeout),
            Window = line.Text("window-s") is null ? null : TimeSpan.FromSeconds(line.Integer("window-s", 0, minimum: 1)),
        };
    }

    public static async Task<DeliveryReport> DeliverAsync(
        IReadOnlyList<WebhookEvent> events, WebhookDeliveryOptions options, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"delivering {events.Count:N0} events to {string.Join(", ", [options.Endpoint, .. options.AlternateEndpoints])} …");
        var display = new ProgressDisplay();
        DeliveryReport report;
        try
        {
            report = await WebhookDelivery.DeliverAsync(events, options, display, cancellationToken);
        }
        finally
        {
            display.Finish();
        }
        RunSummary.Delivery(report, options);
        return report;
    }
}
