using DirectorySync.IntegrationTests.Grains;
using DirectorySync.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Xunit;

namespace DirectorySync.IntegrationTests;

/// <summary>
/// The silos' grain storage (<see cref="GrainStorage.Name"/>, sql/010) on real silos and Postgres: through note grains
/// as grains use it, and through the silo's <see cref="IGrainStorage"/> itself where a test needs to hold an old ETag.
/// </summary>
public sealed class GrainStorageTests(GrainStorageTests.Fixture fixture) : IClassFixture<GrainStorageTests.Fixture>
{
    /// <summary>One cluster for the class; each test uses keys of its own.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        internal SyncTestCluster Cluster { get; private set; } = null!;

        public async Task InitializeAsync() => Cluster = await SyncTestCluster.StartAsync("grain_storage");

        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }

    private readonly SyncTestCluster _cluster = fixture.Cluster;

    private IGrainStorage Storage =>
        _cluster.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name);

    private static GrainId NoteId(string key) => GrainId.Create(NoteGrain.Type, key);

    private INoteGrain Note(GrainId id) => _cluster.Grains.GetGrain<INoteGrain>(id);

    private async Task<GrainState<Note>> StoredAsync(GrainId id)
    {
        var state = new GrainState<Note>(new Note());
        await Storage.ReadStateAsync(NoteKeeper.StateName, id, state);
        return state;
    }

    /// <summary>Writes a note through the storage as the holder of <paramref name="state"/> (and its ETag).</summary>
    private Task StoreAsync(GrainId id, GrainState<Note> state, string text)
    {
        state.State = new Note { Text = text };
        return Storage.WriteStateAsync(NoteKeeper.StateName, id, state);
    }

    private async Task<long> RowsAsync(GrainId id) => (long)(await _cluster.ScalarAsync(
        $"SELECT count(*) FROM orleans_grain_state WHERE grain_key = '~{id}'"))!;

    [Fact]
    public async Task State_written_survives_deactivation_and_is_read_back()
    {
        var note = Note(NoteId("survives"));
        await note.WriteAsync("kept");
        var before = await note.ReadAsync();

        await note.DeactivateAsync();
        var after = await note.ReadAsync();

        Assert.NotEqual(before.Activation, after.Activation);
        Assert.Equal("kept", after.Text);
        Assert.Equal(1, await RowsAsync(NoteId("survives")));
    }

    [Theory]
    [InlineData(false)] // both found no state: only one may create it
    [InlineData(true)] // both read the same version
    public async Task Of_two_writers_holding_the_same_etag_only_the_first_writes(bool stateExists)
    {
        var id = NoteId($"two-writers-{stateExists}");
        if (stateExists) await StoreAsync(id, new GrainState<Note>(new Note()), "earlier");
        var winner = await StoredAsync(id);
        var loser = await StoredAsync(id);
        Assert.Equal(stateExists, winner.ETag is not null);
        Assert.Equal(winner.ETag, loser.ETag);

        await StoreAsync(id, winner, "winner");

        await Assert.ThrowsAsync<InconsistentStateException>(() => StoreAsync(id, loser, "loser"));
        Assert.Equal("winner", (await StoredAsync(id)).State?.Text);
        Assert.Equal("winner", (await Note(id).ReadAsync()).Text);
    }

    [Fact]
    public async Task A_grain_whose_state_was_written_behind_its_back_cannot_overwrite_it()
    {
        var id = NoteId("behind");
        var note = Note(id);
        await note.WriteAsync("grain");
        await StoreAsync(id, await StoredAsync(id), "other writer");

        await Assert.ThrowsAsync<InconsistentStateException>(() => note.WriteAsync("stale grain"));
        Assert.Equal("other writer", (await StoredAsync(id)).State?.Text);
    }

    [Fact]
    public async Task Cleared_state_reads_as_fresh_a_new_write_works_and_an_etag_from_before_the_clear_stays_stale()
    {
        var id = NoteId("cleared");
        var note = Note(id);
        await note.WriteAsync("before");
        var beforeClear = await StoredAsync(id);

        await note.ClearAsync();
        await note.DeactivateAsync();

        Assert.Null((await note.ReadAsync()).Text);
        var cleared = await StoredAsync(id);
        Assert.False(cleared.RecordExists);
        Assert.Null(cleared.State?.Text);

        await note.WriteAsync("after");
        await note.DeactivateAsync();
        Assert.Equal("after", (await note.ReadAsync()).Text);
        Assert.True((await StoredAsync(id)).RecordExists);

        // Versions never start over, so the ETag read before the clear cannot match the state written after it.
        await Assert.ThrowsAsync<InconsistentStateException>(() => StoreAsync(id, beforeClear, "resurrected"));
        Assert.Equal("after", (await StoredAsync(id)).State?.Text);
    }

    [Fact]
    public async Task Every_kind_of_key_keeps_its_own_state()
    {
        var guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        GrainId[] ids =
        [
            NoteId("directory_01"),
            NoteId(GrainIdKeyExtensions.CreateGuidKey(guid).ToString()),
            NoteId(GrainIdKeyExtensions.CreateGuidKey(guid, "ext").ToString()),
            NoteId(GrainIdKeyExtensions.CreateGuidKey(Guid.Empty, "abc").ToString()),
            NoteId(GrainIdKeyExtensions.CreateIntegerKey(42).ToString()),
            NoteId(GrainIdKeyExtensions.CreateIntegerKey(42, "ext").ToString()),
            NoteId(GrainIdKeyExtensions.CreateIntegerKey(-1).ToString()),
            NoteId(GrainIdKeyExtensions.CreateIntegerKey(0, "abc").ToString()),
            // String keys the provider alone would read as the integer 0xABC, or as 0 with the extension "abc".
            NoteId("abc"),
            NoteId("0abc"),
            NoteId("ABC"),
        ];
        Assert.Equal(ids.Length, ids.Distinct().Count());

        foreach (var id in ids) await Note(id).WriteAsync($"note of {id}");
        foreach (var id in ids) await Note(id).DeactivateAsync();

        foreach (var id in ids) Assert.Equal($"note of {id}", (await Note(id).ReadAsync()).Text);
        foreach (var id in ids) Assert.Equal(1, await RowsAsync(id));
    }

    [Fact]
    public async Task Two_grain_types_with_the_same_key_and_state_name_keep_their_own_state()
    {
        var note = Note(NoteId("shared"));
        var other = Note(GrainId.Create(OtherNoteGrain.Type, "shared"));
        await note.WriteAsync("note");
        await other.WriteAsync("other");

        await note.DeactivateAsync();
        await other.DeactivateAsync();

        Assert.Equal("note", (await note.ReadAsync()).Text);
        Assert.Equal("other", (await other.ReadAsync()).Text);
    }
}
