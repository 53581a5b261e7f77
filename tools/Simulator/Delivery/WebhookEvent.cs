namespace DirectorySync.Simulator.Delivery;

/// <summary>
/// One webhook to send: its envelope's id, type and time, and the exact body bytes that are signed and posted.
/// <see cref="CreatedAt"/> is null only for replayed envelopes whose <c>created_at</c> is missing or unreadable.
/// </summary>
public sealed record WebhookEvent(string Id, string Type, DateTimeOffset? CreatedAt, ReadOnlyMemory<byte> Body);
