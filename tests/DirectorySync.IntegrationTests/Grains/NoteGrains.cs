using DirectorySync.Storage;

namespace DirectorySync.IntegrationTests.Grains;

/// <summary>A note kept in the silos' grain storage. Tests address it by <see cref="GrainId"/>, so any kind of key.</summary>
public interface INoteGrain : IGrainWithStringKey
{
    Task<NoteRead> ReadAsync();

    Task WriteAsync(string text);

    Task ClearAsync();

    Task DeactivateAsync();
}

[GenerateSerializer]
public sealed class Note
{
    [Id(0)]
    public string? Text { get; set; }
}

/// <summary>The note a grain holds, and which activation answered (a new one after a deactivation).</summary>
[GenerateSerializer]
public sealed record NoteRead([property: Id(0)] string? Text, [property: Id(1)] Guid Activation);

/// <summary>The behaviour of both note grains: two grain types that keep state under the same state name.</summary>
public abstract class NoteKeeper(IPersistentState<Note> note) : Grain, INoteGrain
{
    public const string StateName = "note";

    private readonly Guid _activation = Guid.NewGuid();

    public Task<NoteRead> ReadAsync() => Task.FromResult(new NoteRead(note.State.Text, _activation));

    public Task WriteAsync(string text)
    {
        note.State.Text = text;
        return note.WriteStateAsync();
    }

    public Task ClearAsync() => note.ClearStateAsync();

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

[GrainType(Type)]
public sealed class NoteGrain([PersistentState(NoteKeeper.StateName, GrainStorage.Name)] IPersistentState<Note> note) : NoteKeeper(note)
{
    public const string Type = "storage-note";
}

[GrainType(Type)]
public sealed class OtherNoteGrain([PersistentState(NoteKeeper.StateName, GrainStorage.Name)] IPersistentState<Note> note) : NoteKeeper(note)
{
    public const string Type = "storage-other-note";
}
