using DirectorySync.Hosting;
using Xunit;

namespace DirectorySync.UnitTests;

public sealed class OperationsAccessTests
{
    [Fact]
    public void Without_a_token_everyone_is_admitted()
    {
        var access = new OperationsAccess("  ");

        Assert.False(access.IsTokenRequired);
        Assert.True(access.Admits(null));
    }

    [Theory]
    [InlineData("s3cret-token", true)]
    [InlineData("s3cret-toke", false)]
    [InlineData("s3cret-token ", false)]
    [InlineData("S3CRET-TOKEN", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void With_a_token_only_that_exact_token_is_admitted(string? presented, bool admitted) =>
        Assert.Equal(admitted, new OperationsAccess("s3cret-token").Admits(presented));

    [Theory]
    [InlineData("http://127.0.0.1:8081", false)]
    [InlineData("http://127.0.0.5:8081", false)]
    [InlineData("http://[::1]:8081", false)]
    [InlineData("http://localhost:8081", false)]
    [InlineData("http://0.0.0.0:8081", true)]
    [InlineData("http://[::]:8081", true)]
    [InlineData("http://*:8081", true)]
    [InlineData("http://+:8081", true)]
    [InlineData("https://10.1.2.3:443", true)]
    [InlineData("http://silo.internal:8081", true)]
    public void Listening_address_beyond_loopback_is_recognised(string url, bool beyondLoopback) =>
        Assert.Equal(beyondLoopback, OperationsAccess.ListensBeyondLoopback([url]));

    [Fact]
    public void One_open_address_among_loopback_ones_is_enough() =>
        Assert.True(OperationsAccess.ListensBeyondLoopback(["http://127.0.0.1:8081", "http://0.0.0.0:8082"]));
}
