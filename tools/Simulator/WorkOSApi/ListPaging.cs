namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>The orders WorkOS lists accept (FACTS §8).</summary>
internal enum ListOrder
{
    Asc,
    Desc,
    /// <summary>Descending, with <c>before</c> and <c>after</c> swapped, in the parameters and in <c>list_metadata</c> alike.</summary>
    Normal,
}

/// <summary>The paging parameters every list takes; at most one of the cursors.</summary>
internal sealed record PageRequest(int Limit, ListOrder Order, string? Before, string? After)
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 100;
}

/// <summary>WorkOS's cursor paging over a list sorted by <c>created_at</c>, then id.</summary>
internal static class ListPaging
{
    /// <summary>
    /// One page of <paramref name="rows"/> (given ascending; reordered in place). <c>after</c> is the page's last id only
    /// if rows follow it, <c>before</c> its first id only if rows precede it. A cursor marks a place by its object's key,
    /// so one no longer listed (filtered out, or deleted since) still pages on; <paramref name="cursorKey"/> throws for
    /// an id it never knew.
    /// </summary>
    public static Page<T> Take<T>(List<T> rows, Func<T, SortKey> key, PageRequest request, Func<string, SortKey> cursorKey)
    {
        var descending = request.Order != ListOrder.Asc;
        if (descending) rows.Reverse();
        var (forward, backward) = request.Order == ListOrder.Normal ? (request.Before, request.After) : (request.After, request.Before);
        int start, end;
        if (forward is not null)
        {
            start = FirstAfter(rows, key, cursorKey(forward), descending, includeCursor: false);
            end = Math.Min(rows.Count, start + request.Limit);
        }
        else if (backward is not null)
        {
            end = FirstAfter(rows, key, cursorKey(backward), descending, includeCursor: true);
            start = Math.Max(0, end - request.Limit);
        }
        else
        {
            start = 0;
            end = Math.Min(rows.Count, request.Limit);
        }

        var items = rows.GetRange(start, end - start);
        var later = end < rows.Count && items.Count > 0 ? key(items[^1]).Id : null;
        var earlier = start > 0 && items.Count > 0 ? key(items[0]).Id : null;
        return request.Order == ListOrder.Normal ? new Page<T>(items, Before: later, After: earlier) : new Page<T>(items, earlier, later);
    }

    /// <summary>The index of the first row past the cursor in display order (or at it, with <paramref name="includeCursor"/>).</summary>
    private static int FirstAfter<T>(List<T> rows, Func<T, SortKey> key, SortKey cursor, bool descending, bool includeCursor)
    {
        int low = 0, high = rows.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            var order = key(rows[middle]).CompareTo(cursor);
            if (descending) order = -order;
            if (order < 0 || (order == 0 && !includeCursor)) low = middle + 1;
            else high = middle;
        }
        return low;
    }
}
