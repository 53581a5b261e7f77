namespace DirectorySync.Simulator.History;

/// <summary>What history to generate. Counts are per directory; the same options and seed give the same bytes.</summary>
public sealed record HistoryOptions
{
    public int Directories { get; init; } = 1;
    public int UsersPerDirectory { get; init; } = 10_000;
    public int GroupsPerDirectory { get; init; } = 1_000;
    /// <summary>How many distinct groups each initial user joins (at most the number of groups).</summary>
    public int MembershipsPerUser { get; init; } = 5;
    /// <summary>How many events of day-to-day change follow the initial sync.</summary>
    public int ChurnPerDirectory { get; init; } = 10_000;
    /// <summary>End with <c>dsync.deleted</c> of the last directory.</summary>
    public bool DeleteDirectoryAtEnd { get; init; }
    public PayloadGeneration Generation { get; init; } = PayloadGeneration.New;
    public int Seed { get; init; } = 42;
    /// <summary>The first event's time, give or take a few milliseconds; fixed so a seed always gives the same history.</summary>
    public DateTimeOffset StartAt { get; init; } = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Roughly how many events these options produce, for sizing collections up front.</summary>
    internal int EstimatedEvents =>
        (int)Math.Min(int.MaxValue / 2, (long)Directories * (1 + UsersPerDirectory + GroupsPerDirectory
            + (long)UsersPerDirectory * Math.Min(MembershipsPerUser, GroupsPerDirectory) + ChurnPerDirectory + 1));

    internal void Validate()
    {
        if (Directories < 1) throw new ArgumentOutOfRangeException(nameof(Directories), Directories, "At least one directory.");
        if (UsersPerDirectory < 0) throw new ArgumentOutOfRangeException(nameof(UsersPerDirectory), UsersPerDirectory, "Not negative.");
        if (GroupsPerDirectory < 0) throw new ArgumentOutOfRangeException(nameof(GroupsPerDirectory), GroupsPerDirectory, "Not negative.");
        if (MembershipsPerUser < 0) throw new ArgumentOutOfRangeException(nameof(MembershipsPerUser), MembershipsPerUser, "Not negative.");
        if (ChurnPerDirectory < 0) throw new ArgumentOutOfRangeException(nameof(ChurnPerDirectory), ChurnPerDirectory, "Not negative.");
    }
}
