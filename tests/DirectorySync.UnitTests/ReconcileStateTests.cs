using DirectorySync.Grains;
using DirectorySync.Storage;
using Xunit;

namespace DirectorySync.UnitTests;

/// <summary>The copy a reconciliation step goes back to when it fails: nothing the step changes may reach it.</summary>
public sealed class ReconcileStateTests
{
    [Fact]
    public void A_copy_keeps_the_position_and_counts_the_run_had_when_it_was_taken()
    {
        var run = new ReconcileState
        {
            RunId = 7, Phase = ReconcilePhase.Users, After = "directory_user_09", Group = "directory_group_02",
            Report = new ReconcileReport { UsersListed = 10, GroupsListed = 4 },
        };

        var before = run.Copy();
        run.Report.UsersListed += 10;
        (run.Phase, run.After) = (ReconcilePhase.Memberships, null);
        run.Failures = 3;

        Assert.Equal(10, before.Report.UsersListed);
        Assert.Equal(4, before.Report.GroupsListed);
        Assert.Equal((7L, ReconcilePhase.Users, "directory_user_09", "directory_group_02", 0),
            (before.RunId, before.Phase, before.After, before.Group, before.Failures));
        Assert.NotSame(run.Report, before.Report);
    }
}
