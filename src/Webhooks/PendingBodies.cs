namespace DirectorySync.Webhooks;

/// <summary>
/// Counts requests whose body is being read before its signature can be checked: they come from anyone who can write
/// a well-formed header, so their number is capped (<c>Webhooks:MaxPendingBodies</c>) rather than their memory trusted.
/// </summary>
public sealed class PendingBodies(int limit)
{
    private int _pending;

    public int Limit { get; } = limit > 0 ? limit : throw new ArgumentOutOfRangeException(nameof(limit), "The limit must be positive.");

    /// <summary>Takes a place, or answers false when all <see cref="Limit"/> are taken; a place taken is given back by <see cref="Leave"/>.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _pending) <= Limit) return true;
        Interlocked.Decrement(ref _pending);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _pending);
}
