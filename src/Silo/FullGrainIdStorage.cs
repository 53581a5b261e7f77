using Orleans.Storage;

namespace DirectorySync.Silo;

/// <summary>
/// The ADO.NET grain storage, handed each grain's whole id as its key. On its own the provider keys state by the state
/// name and the grain key only, so two grain types with the same key and state name would share one state
/// (dotnet/orleans#8746), and it reads any key whose text parses as a hex number or a Guid as one, so the string keys
/// "abc", "ABC" and "0abc" would share one state too (dotnet/orleans#9706).
/// </summary>
internal sealed class FullGrainIdStorage(AdoNetGrainStorage provider) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        provider.ReadStateAsync(stateName, Whole(grainId), grainState);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        provider.ReadStateAsync(stateName, Whole(grainId), grainState, cancellationToken);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        provider.WriteStateAsync(stateName, Whole(grainId), grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        provider.WriteStateAsync(stateName, Whole(grainId), grainState, cancellationToken);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        provider.ClearStateAsync(stateName, Whole(grainId), grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        provider.ClearStateAsync(stateName, Whole(grainId), grainState, cancellationToken);

    /// <summary>The provider initialises (loads its queries) in the silo's lifecycle.</summary>
    public void Participate(ISiloLifecycle lifecycle) => provider.Participate(lifecycle);

    // "~" is neither a hex digit nor part of a Guid, so the provider takes "~<grain type>/<key>" whole as a string key.
    private static GrainId Whole(GrainId grainId) => GrainId.Create(grainId.Type, $"~{grainId}");
}
