namespace DirectorySync.Simulator.History;

/// <summary>A set that can also hand out a random member, all in constant time (removal swaps the last item in).</summary>
internal sealed class RandomPool<T> where T : class
{
    private readonly List<T> _items = [];
    private readonly Dictionary<T, int> _positions = new(ReferenceEqualityComparer.Instance);

    public int Count => _items.Count;

    public void Add(T item)
    {
        _positions.Add(item, _items.Count);
        _items.Add(item);
    }

    public void Remove(T item)
    {
        var position = _positions[item];
        var last = _items[^1];
        _items[position] = last;
        _positions[last] = position;
        _items.RemoveAt(_items.Count - 1);
        _positions.Remove(item);
    }

    public T Pick(Random random) => _items[random.Next(_items.Count)];
}
