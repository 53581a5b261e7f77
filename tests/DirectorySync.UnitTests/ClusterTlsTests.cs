using System.Net;
using System.Security.Cryptography.X509Certificates;
using DirectorySync.Hosting;
using DirectorySync.Testing;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace DirectorySync.UnitTests;

/// <summary>Reading the <c>Orleans__Tls__*</c> settings, which peers are let in, and when a silo refuses to start.</summary>
public sealed class ClusterTlsTests
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private static IConfiguration Settings(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();

    private static ClusterTls Tls(X509Certificate2 own, X509Certificate2? authority = null) =>
        ClusterTls.From(Settings(
            (ClusterTls.CertificatePathSetting, TestCertificates.WritePfx(own, Guid.NewGuid().ToString("N"))),
            (ClusterTls.CertificatePasswordSetting, TestCertificates.Password),
            (ClusterTls.TrustedCaPathSetting, authority is null ? null : TestCertificates.WritePem(authority, Guid.NewGuid().ToString("N")))))!;

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.1.2.3", false)]
    [InlineData("127.255.255.254", false)]
    [InlineData("::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("10.0.0.5", true)]
    [InlineData("172.28.0.11", true)]
    [InlineData("192.168.1.20", true)]
    [InlineData("128.0.0.1", true)]
    [InlineData("fe80::1", true)]
    public void Advertised_address_beyond_loopback_is_recognised(string address, bool beyondLoopback) =>
        Assert.Equal(beyondLoopback, ClusterTls.ListensBeyondLoopback(IPAddress.Parse(address)));

    [Fact]
    public void A_silo_beyond_loopback_without_tls_is_refused_with_the_settings_named()
    {
        var refusal = Assert.Throws<InvalidOperationException>(() =>
            ClusterTls.EnsureNetworkProtected(IPAddress.Parse("10.0.0.5"), tls: null, allowInsecureNetwork: false));

        Assert.Contains("Orleans__Tls__CertificatePath", refusal.Message);
        Assert.Contains("Orleans__AllowInsecureNetwork=true", refusal.Message);
        Assert.Contains("10.0.0.5", refusal.Message);
    }

    [Fact]
    public void A_silo_on_loopback_with_tls_or_explicitly_allowed_starts()
    {
        ClusterTls.EnsureNetworkProtected(IPAddress.Parse("127.0.0.1"), tls: null, allowInsecureNetwork: false);
        ClusterTls.EnsureNetworkProtected(IPAddress.Parse("127.3.2.1"), tls: null, allowInsecureNetwork: false);
        ClusterTls.EnsureNetworkProtected(IPAddress.Parse("10.0.0.5"), tls: null, allowInsecureNetwork: true);
        ClusterTls.EnsureNetworkProtected(IPAddress.Parse("10.0.0.5"), Tls(TestCertificates.SelfSigned("cluster")), allowInsecureNetwork: false);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("false", false)]
    [InlineData("true", true)]
    [InlineData("True", true)]
    public void Allow_insecure_network_is_off_unless_set(string? value, bool allowed) =>
        Assert.Equal(allowed, ClusterTls.AllowInsecureNetwork(Settings((ClusterTls.AllowInsecureNetworkSetting, value))));

    [Fact]
    public void Allow_insecure_network_that_is_not_a_boolean_stops_the_host()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            ClusterTls.AllowInsecureNetwork(Settings((ClusterTls.AllowInsecureNetworkSetting, "yes"))));
        Assert.Contains("Orleans__AllowInsecureNetwork", e.Message);
    }

    [Fact]
    public void Without_a_certificate_there_is_no_tls() => Assert.Null(ClusterTls.From(Settings()));

    [Fact]
    public void The_configured_pfx_is_loaded_with_its_key()
    {
        using var certificate = TestCertificates.SelfSigned("cluster");

        var tls = Tls(certificate);

        Assert.Equal(certificate.Thumbprint, tls.Certificate.Thumbprint);
        Assert.True(tls.Certificate.HasPrivateKey);
        Assert.Null(tls.TrustedCa);
    }

    [Fact]
    public void A_missing_pfx_stops_the_host_naming_the_setting()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            ClusterTls.From(Settings((ClusterTls.CertificatePathSetting, "/nonexistent/cluster.pfx"))));
        Assert.Contains("Orleans__Tls__CertificatePath", e.Message);
    }

    [Fact]
    public void A_wrong_password_stops_the_host_without_showing_either_password()
    {
        var path = TestCertificates.WritePfx(TestCertificates.SelfSigned("cluster"), "wrong-password");

        var e = Assert.Throws<InvalidOperationException>(() => ClusterTls.From(Settings(
            (ClusterTls.CertificatePathSetting, path),
            (ClusterTls.CertificatePasswordSetting, "not-the-password"))));

        Assert.Contains("Orleans__Tls__CertificatePassword", e.Message);
        Assert.DoesNotContain("not-the-password", e.Message);
        Assert.DoesNotContain(TestCertificates.Password, e.Message);
    }

    [Fact]
    public void A_certificate_only_for_server_authentication_stops_the_host()
    {
        var path = TestCertificates.WritePfx(TestCertificates.SelfSignedFor("web", ServerAuthentication), "server-only");

        var e = Assert.Throws<InvalidOperationException>(() => ClusterTls.From(Settings(
            (ClusterTls.CertificatePathSetting, path), (ClusterTls.CertificatePasswordSetting, TestCertificates.Password))));
        Assert.Contains("client authentication", e.Message);
    }

    [Fact]
    public void A_certificate_for_both_authentications_is_accepted() =>
        Assert.NotNull(Tls(TestCertificates.SelfSignedFor("both", ServerAuthentication, ClientAuthentication)));

    [Fact]
    public void An_expired_certificate_stops_the_host()
    {
        var path = TestCertificates.WritePfx(TestCertificates.SelfSigned("old", DateTimeOffset.UtcNow.AddHours(-1)), "expired");

        var e = Assert.Throws<InvalidOperationException>(() => ClusterTls.From(Settings(
            (ClusterTls.CertificatePathSetting, path), (ClusterTls.CertificatePasswordSetting, TestCertificates.Password))));
        Assert.Contains("valid only", e.Message);
    }

    [Fact]
    public void A_trusted_ca_without_a_certificate_stops_the_host()
    {
        var ca = TestCertificates.WritePem(TestCertificates.CertificateAuthority("ca"), "lonely-ca");

        var e = Assert.Throws<InvalidOperationException>(() => ClusterTls.From(Settings((ClusterTls.TrustedCaPathSetting, ca))));
        Assert.Contains("Orleans__Tls__TrustedCaPath", e.Message);
    }

    [Fact]
    public void A_certificate_in_the_store_is_found_by_thumbprint()
    {
        using var certificate = TestCertificates.SelfSigned("in-store");
        using var withKey = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.PersistKeySet);
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadWrite);
        store.Add(withKey);
        try
        {
            var tls = ClusterTls.From(Settings(
                (ClusterTls.CertificateThumbprintSetting, withKey.Thumbprint.ToLowerInvariant()),
                (ClusterTls.CertificateStoreSetting, "CurrentUser/My")))!;

            Assert.Equal(withKey.Thumbprint, tls.Certificate.Thumbprint);
            Assert.True(tls.Certificate.HasPrivateKey);
        }
        finally
        {
            store.Remove(withKey);
        }
    }

    [Fact]
    public void A_thumbprint_not_in_the_store_stops_the_host()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ClusterTls.From(Settings(
            (ClusterTls.CertificateThumbprintSetting, new string('A', 40)))));
        Assert.Contains("Orleans__Tls__CertificateThumbprint", e.Message);
    }

    [Fact]
    public void A_peer_with_our_own_certificate_is_trusted()
    {
        using var certificate = TestCertificates.SelfSigned("cluster");
        var tls = Tls(certificate);

        Assert.True(tls.IsTrustedPeer(X509CertificateLoader.LoadCertificate(certificate.RawData)));
    }

    [Fact]
    public void A_peer_with_another_self_signed_certificate_is_not_trusted()
    {
        var tls = Tls(TestCertificates.SelfSigned("cluster"));

        Assert.False(tls.IsTrustedPeer(TestCertificates.SelfSigned("cluster")));
    }

    [Fact]
    public void A_peer_issued_by_the_trusted_ca_is_trusted()
    {
        using var ca = TestCertificates.CertificateAuthority("cluster-ca");
        var tls = Tls(TestCertificates.IssuedBy(ca, "silo-1"), ca);

        Assert.True(tls.IsTrustedPeer(TestCertificates.IssuedBy(ca, "silo-2")));
    }

    [Fact]
    public void A_peer_issued_by_a_ca_is_not_trusted_unless_that_ca_is_configured()
    {
        using var ca = TestCertificates.CertificateAuthority("cluster-ca");
        using var other = TestCertificates.CertificateAuthority("other-ca");

        Assert.False(Tls(TestCertificates.IssuedBy(ca, "silo-1")).IsTrustedPeer(TestCertificates.IssuedBy(ca, "silo-2")));
        Assert.False(Tls(TestCertificates.IssuedBy(ca, "silo-1"), ca).IsTrustedPeer(TestCertificates.IssuedBy(other, "intruder")));
        Assert.False(Tls(TestCertificates.IssuedBy(ca, "silo-1"), ca).IsTrustedPeer(TestCertificates.SelfSigned("cluster-ca")));
    }

    [Fact]
    public void An_expired_peer_certificate_is_not_trusted_even_from_the_trusted_ca()
    {
        using var ca = TestCertificates.CertificateAuthority("cluster-ca");
        var tls = Tls(TestCertificates.IssuedBy(ca, "silo-1"), ca);

        Assert.False(tls.IsTrustedPeer(TestCertificates.IssuedBy(ca, "silo-2", notAfter: DateTimeOffset.UtcNow.AddMinutes(-5))));
    }
}
