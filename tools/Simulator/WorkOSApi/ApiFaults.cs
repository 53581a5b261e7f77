using System.Collections.Frozen;

namespace DirectorySync.Simulator.WorkOSApi;

/// <summary>How an entry of a list page is broken by <see cref="ApiFaults.MalformNext"/>.</summary>
public enum MalformedEntry
{
    /// <summary>The object is served without its <c>id</c>.</summary>
    MissingId,
    /// <summary>The entry is a JSON string instead of an object.</summary>
    NotAnObject,
}

/// <summary>An answer a fault rule puts in place of the real one.</summary>
internal sealed record InjectedFault(int Status, TimeSpan? RetryAfter, bool RetryAfterAsDate);

/// <summary>
/// Misbehaviour a test switches on while the server runs. A path is matched exactly (<c>"/directory_users"</c> is the
/// list, not <c>/directory_users/{id}</c>); null matches every path. Rules apply in the order set: each request goes to
/// the first rule that fires, and a rule still skipping requests lets it pass on to the next.
/// </summary>
public sealed class ApiFaults
{
    private readonly Lock _gate = new();
    private readonly FakeWorkOS _fake;
    private readonly List<StatusRule> _statusRules = [];
    private readonly List<MalformRule> _malformRules = [];
    private FrozenSet<string> _hiddenUsers = FrozenSet<string>.Empty;
    private TimeSpan _delay;

    internal ApiFaults(FakeWorkOS fake) => _fake = fake;

    /// <summary>Slow mode: every authenticated request waits this long before it is answered.</summary>
    public TimeSpan Delay
    {
        get { lock (_gate) return _delay; }
        set
        {
            if (value < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(value), value, "Not negative.");
            lock (_gate) _delay = value;
        }
    }

    /// <summary>
    /// The next <paramref name="requests"/> requests (to <paramref name="path"/>) answer 429 with <c>Retry-After</c>:
    /// whole seconds, rounded up, or an HTTP date that far ahead.
    /// </summary>
    public void ThrottleNext(int requests, TimeSpan retryAfter, string? path = null, bool retryAfterAsDate = false) =>
        Add(new StatusRule(path, skip: 0, AtLeastOne(requests), until: null, Throttle(retryAfter, retryAfterAsDate)));

    /// <summary>Every request (to <paramref name="path"/>) for <paramref name="duration"/> from now answers 429, as <see cref="ThrottleNext"/>.</summary>
    public void ThrottleFor(TimeSpan duration, TimeSpan retryAfter, string? path = null, bool retryAfterAsDate = false)
    {
        if (duration <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(duration), duration, "Longer than zero.");
        Add(new StatusRule(path, skip: 0, int.MaxValue, _fake.Clock.GetUtcNow() + duration, Throttle(retryAfter, retryAfterAsDate)));
    }

    /// <summary>The next <paramref name="requests"/> requests (to <paramref name="path"/>) fail with <paramref name="status"/> (5xx).</summary>
    public void FailNext(int requests, int status = 500, string? path = null) =>
        Add(new StatusRule(path, skip: 0, AtLeastOne(requests), until: null, Failure(status)));

    /// <summary>
    /// Only the <paramref name="number"/>-th request from now (to <paramref name="path"/>) fails, once: with a listing's
    /// path, its page of that number when nothing else calls that path meanwhile.
    /// </summary>
    public void FailRequest(int number, int status = 500, string? path = null) =>
        Add(new StatusRule(path, skip: AtLeastOne(number) - 1, count: 1, until: null, Failure(status)));

    /// <summary>The next <paramref name="responses"/> non-empty list pages (of <paramref name="path"/>) carry one broken entry, the middle one.</summary>
    public void MalformNext(MalformedEntry kind, int responses = 1, string? path = null)
    {
        var rule = new MalformRule(path, kind) { Remaining = AtLeastOne(responses) };
        lock (_gate) _malformRules.Add(rule);
    }

    /// <summary>
    /// A short listing: this fraction of a directory's users (spread evenly over its listing order) disappears from
    /// <c>GET /directory_users</c>, while <c>/directory_users/{id}</c>, the directory's <c>metadata</c> counts and the
    /// events still show them. Returns the hidden users' ids.
    /// </summary>
    public IReadOnlyList<string> HideUsers(string directoryId, double fraction)
    {
        if (fraction is < 0 or > 1 || double.IsNaN(fraction)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "From 0 to 1.");
        var users = _fake.UserIds(directoryId);
        return Hide(users, (int)Math.Round(users.Count * fraction));
    }

    /// <summary>As <see cref="HideUsers(string, double)"/>, for a number of users.</summary>
    public IReadOnlyList<string> HideUsers(string directoryId, int count)
    {
        var users = _fake.UserIds(directoryId);
        if (count < 0 || count > users.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"From 0 to the directory's {users.Count} users.");
        }
        return Hide(users, count);
    }

    /// <summary>Ends every fault: no more injected answers, hidden users or delay.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _statusRules.Clear();
            _malformRules.Clear();
            _hiddenUsers = FrozenSet<string>.Empty;
            _delay = TimeSpan.Zero;
        }
    }

    internal IReadOnlySet<string> HiddenUsers
    {
        get { lock (_gate) return _hiddenUsers; }
    }

    /// <summary>The injected answer for this request, if a rule fires.</summary>
    internal InjectedFault? Decide(string path)
    {
        var now = _fake.Clock.GetUtcNow();
        lock (_gate)
        {
            _statusRules.RemoveAll(rule => rule.Remaining <= 0 || rule.Until <= now);
            foreach (var rule in _statusRules)
            {
                if (rule.Path is not null && rule.Path != path) continue;
                if (rule.Skip > 0)
                {
                    rule.Skip--;
                    continue;
                }
                rule.Remaining--;
                return rule.Fault;
            }
            return null;
        }
    }

    /// <summary>How to break the list page about to be written on this path, if a rule asks.</summary>
    internal MalformedEntry? TakeMalformation(string path)
    {
        lock (_gate)
        {
            var rule = _malformRules.FirstOrDefault(r => r.Remaining > 0 && (r.Path is null || r.Path == path));
            if (rule is null) return null;
            rule.Remaining--;
            return rule.Kind;
        }
    }

    private void Add(StatusRule rule)
    {
        lock (_gate) _statusRules.Add(rule);
    }

    private List<string> Hide(IReadOnlyList<string> users, int count)
    {
        // Evenly spread: the i-th user goes when the running share i * count / n passes a whole number.
        var hidden = users.Where((_, i) => (long)(i + 1) * count / users.Count > (long)i * count / users.Count).ToList();
        lock (_gate) _hiddenUsers = _hiddenUsers.Union(hidden).ToFrozenSet(StringComparer.Ordinal);
        return hidden;
    }

    private static int AtLeastOne(int value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string name = "") =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, "At least one.");

    private static InjectedFault Throttle(TimeSpan retryAfter, bool asDate) =>
        retryAfter >= TimeSpan.Zero
            ? new InjectedFault(429, retryAfter, asDate)
            : throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "Not negative.");

    private static InjectedFault Failure(int status) =>
        status is >= 500 and <= 599
            ? new InjectedFault(status, RetryAfter: null, RetryAfterAsDate: false)
            : throw new ArgumentOutOfRangeException(nameof(status), status, "A 5xx status.");

    private sealed class StatusRule(string? path, int skip, int count, DateTimeOffset? until, InjectedFault fault)
    {
        public string? Path { get; } = path;
        public int Skip { get; set; } = skip;
        public int Remaining { get; set; } = count;
        public DateTimeOffset? Until { get; } = until;
        public InjectedFault Fault { get; } = fault;
    }

    private sealed class MalformRule(string? path, MalformedEntry kind)
    {
        public string? Path { get; } = path;
        public MalformedEntry Kind { get; } = kind;
        public int Remaining { get; set; }
    }
}
