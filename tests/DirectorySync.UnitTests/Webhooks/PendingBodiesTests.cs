using DirectorySync.Webhooks;
using Xunit;

namespace DirectorySync.UnitTests.Webhooks;

public sealed class PendingBodiesTests
{
    [Fact]
    public void Places_up_to_the_limit_are_given_and_come_back_when_left()
    {
        var pending = new PendingBodies(2);

        Assert.True(pending.TryEnter());
        Assert.True(pending.TryEnter());
        Assert.False(pending.TryEnter());
        pending.Leave();
        Assert.True(pending.TryEnter());
        Assert.False(pending.TryEnter());
    }

    [Fact]
    public void A_limit_below_one_is_refused() => Assert.Throws<ArgumentOutOfRangeException>(() => new PendingBodies(0));
}
