using System.Diagnostics.CodeAnalysis;

namespace DirectorySync.WorkOS;

/// <summary>
/// One page of a WorkOS list. <see cref="After"/> is the cursor of the next page (null: this is the last), and
/// <see cref="Before"/> that of the previous one. A malformed entry is one failed item, never a failed page.
/// </summary>
public sealed record WorkOSPage<T>(IReadOnlyList<WorkOSItem<T>> Items, string? After, string? Before) where T : class;

/// <summary>One entry of a page: the value read from it, or why it could not be read and the entry's JSON as received.</summary>
public sealed record WorkOSItem<T> where T : class
{
    private WorkOSItem(T? value, string? failure, string? json)
    {
        Value = value;
        Failure = failure;
        Json = json;
    }

    public T? Value { get; }

    public string? Failure { get; }

    /// <summary>The entry as WorkOS sent it, kept for the entries that could not be read.</summary>
    public string? Json { get; }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Failure), nameof(Json))]
    public bool IsRead => Value is not null;

    public static WorkOSItem<T> Read(T value) => new(value, null, null);

    public static WorkOSItem<T> Malformed(string failure, string json) => new(null, failure, json);
}

/// <summary>
/// An event from the Events API, judged by the same parser as a webhook: <see cref="Parsed"/> says whether it applies,
/// is ignored or is dead-lettered. <see cref="Raw"/> is its JSON exactly as listed.
/// </summary>
public sealed record WorkOSEvent(string Id, ParsedWebhook Parsed, ReadOnlyMemory<byte> Raw);
