using DirectorySync.Simulator.Delivery;

namespace DirectorySync.FaultTests;

/// <summary>
/// WorkOS delivering events to the cluster's gateways while the test breaks things: signed requests with
/// <see cref="Concurrency"/> in flight, retried on any non-2xx answer or timeout, senders spread over both gateways and
/// failing over when theirs is unreachable. The timeline records how it went.
/// </summary>
public sealed class DeliveryUnderFault
{
    public const int Concurrency = 16;

    /// <summary>
    /// A pace well under what the cluster acknowledges on a slow machine, for scenarios that must still be delivering
    /// long after the first fault: ~3,500 requests then last about 35 s however fast the machine is.
    /// </summary>
    public const int PacedPerSecond = 100;

    private DeliveryUnderFault(Task<DeliveryReport> delivery, DeliveryTimeline timeline, int requests)
    {
        Delivery = delivery;
        Timeline = timeline;
        Requests = requests;
    }

    public Task<DeliveryReport> Delivery { get; }

    public DeliveryTimeline Timeline { get; }

    /// <summary>Requests scheduled: every event once, plus the duplicates.</summary>
    public int Requests { get; }

    public static DeliveryUnderFault Start(
        LoopbackCluster cluster, IReadOnlyList<WebhookEvent> events, DeliveryOrder order, double duplicates, int seed,
        int? ratePerSecond = null)
    {
        var timeline = new DeliveryTimeline();
        var options = Options(cluster, order, duplicates, seed) with { RatePerSecond = ratePerSecond };
        var delivery = Task.Run(() => WebhookDelivery.DeliverAsync(events, options, timeline));
        return new DeliveryUnderFault(delivery, timeline, events.Count + (int)Math.Round(events.Count * duplicates));
    }

    /// <summary>
    /// Attempts enough to outlast any of the scenarios' outages (backoff capped at 1 s); an attempt without an
    /// answer in 15 s counts as failed, longer than the gateways' own 10 s limit.
    /// </summary>
    public static WebhookDeliveryOptions Options(LoopbackCluster cluster, DeliveryOrder order, double duplicates, int seed) => new()
    {
        Endpoint = cluster.WebhookUrls[0],
        AlternateEndpoints = cluster.WebhookUrls.Skip(1).ToList(),
        Secret = LoopbackCluster.Secret,
        Concurrency = Concurrency,
        Order = order,
        DuplicateFraction = duplicates,
        Seed = seed,
        MaxAttempts = 120,
        InitialBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromSeconds(1),
        RequestTimeout = TimeSpan.FromSeconds(15),
        ProgressInterval = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>Waits until this share of the requests is acknowledged: the moment to strike.</summary>
    public Task WaitForShareAcknowledgedAsync(double share) =>
        Timeline.WaitForAcknowledgedAsync((int)(Requests * share), Delivery, TimeSpan.FromMinutes(3));
}
