namespace DirectorySync.Simulator.Mirror;

/// <summary>What one event asks of the mirror, recorded while generating and applied when an expected mirror is asked for.</summary>
internal enum MirrorChangeKind
{
    DirectoryActivated, DirectoryDeleted, UserWritten, UserDeleted, GroupWritten, GroupDeleted, UserAdded, UserRemoved,
}

/// <summary>
/// One event's effect, small enough to keep for every event of a large history: the object id, the group id for
/// membership changes, and the row for writes.
/// </summary>
internal readonly record struct MirrorChange(MirrorChangeKind Kind, string ObjectId, string? GroupId = null, object? Row = null)
{
    public void ApplyTo(ExpectedMirror mirror)
    {
        switch (Kind)
        {
            case MirrorChangeKind.DirectoryActivated: mirror.DirectoryActivated((MirrorDirectory)Row!); break;
            case MirrorChangeKind.DirectoryDeleted: mirror.DirectoryDeleted(ObjectId); break;
            case MirrorChangeKind.UserWritten: mirror.UserWritten((MirrorUser)Row!); break;
            case MirrorChangeKind.UserDeleted: mirror.UserDeleted(ObjectId); break;
            case MirrorChangeKind.GroupWritten: mirror.GroupWritten((MirrorGroup)Row!); break;
            case MirrorChangeKind.GroupDeleted: mirror.GroupDeleted(ObjectId); break;
            case MirrorChangeKind.UserAdded: mirror.UserAdded(ObjectId, GroupId!); break;
            case MirrorChangeKind.UserRemoved: mirror.UserRemoved(ObjectId, GroupId!); break;
        }
    }
}
