namespace DirectorySync.Storage;

/// <summary>
/// The grain storage every silo registers (Postgres, sql/010): grains keep state there with
/// <c>[PersistentState("stateName", GrainStorage.Name)]</c>.
/// </summary>
public static class GrainStorage
{
    public const string Name = "sync";
}
