using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace DirectorySync.Hosting;

/// <summary>
/// Mutual TLS on the Orleans ports (silo to silo, gateway to silo), read from the same <c>Orleans__Tls__*</c> settings
/// by every host. A peer is let in when it presents this host's own certificate (same SHA-256 hash), or, with
/// <c>Orleans__Tls__TrustedCaPath</c>, a certificate that chains to that CA; either way it must be within its validity
/// dates. Host names play no part: cluster members are found by IP through the membership table.
/// </summary>
public sealed class ClusterTls
{
    public const string CertificatePathSetting = "Orleans:Tls:CertificatePath";
    public const string CertificatePasswordSetting = "Orleans:Tls:CertificatePassword";
    public const string CertificateThumbprintSetting = "Orleans:Tls:CertificateThumbprint";
    public const string CertificateStoreSetting = "Orleans:Tls:CertificateStore";
    public const string TrustedCaPathSetting = "Orleans:Tls:TrustedCaPath";
    public const string AllowInsecureNetworkSetting = "Orleans:AllowInsecureNetwork";

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly byte[] _ownHash;

    private ClusterTls(X509Certificate2 certificate, X509Certificate2? trustedCa)
    {
        Certificate = certificate;
        TrustedCa = trustedCa;
        _ownHash = certificate.GetCertHash(HashAlgorithmName.SHA256);
    }

    /// <summary>This host's certificate (with its private key), presented to every peer.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA whose certificates are accepted besides our own, if configured.</summary>
    public X509Certificate2? TrustedCa { get; }

    /// <summary>The configured TLS, or null when no certificate is configured; an unusable setting stops the host.</summary>
    public static ClusterTls? From(IConfiguration configuration)
    {
        var path = configuration[CertificatePathSetting];
        var thumbprint = configuration[CertificateThumbprintSetting];
        var caPath = configuration[TrustedCaPathSetting];
        if (string.IsNullOrWhiteSpace(path) && string.IsNullOrWhiteSpace(thumbprint))
        {
            if (!string.IsNullOrWhiteSpace(caPath))
                throw Invalid(TrustedCaPathSetting, "needs this host's own certificate too: set Orleans__Tls__CertificatePath");
            return null;
        }
        if (!string.IsNullOrWhiteSpace(path) && !string.IsNullOrWhiteSpace(thumbprint))
            throw Invalid(CertificateThumbprintSetting, "and Orleans__Tls__CertificatePath are both set: configure one certificate");

        var certificate = string.IsNullOrWhiteSpace(path)
            ? FromStore(thumbprint!, configuration[CertificateStoreSetting])
            : FromFile(path, configuration[CertificatePasswordSetting]);
        var source = string.IsNullOrWhiteSpace(path) ? CertificateThumbprintSetting : CertificatePathSetting;
        if (!certificate.HasPrivateKey)
            throw Invalid(source, $"names certificate {certificate.Thumbprint}, which has no private key");
        if (!AllowsUsage(certificate, ServerAuthentication) || !AllowsUsage(certificate, ClientAuthentication))
            throw Invalid(source, $"names certificate {certificate.Thumbprint}, whose extended key usage does not allow both "
                + "server and client authentication (every host is both): add both usages or leave the extension out");
        if (!IsWithinValidity(certificate))
            throw Invalid(source, $"names certificate {certificate.Thumbprint}, valid only from {certificate.NotBefore.ToUniversalTime():u} "
                + $"to {certificate.NotAfter.ToUniversalTime():u}");
        return new ClusterTls(certificate, string.IsNullOrWhiteSpace(caPath) ? null : TrustedCaFrom(caPath));
    }

    /// <summary>Whether the Orleans ports are meant to be reachable from other hosts without TLS (a private network).</summary>
    public static bool AllowInsecureNetwork(IConfiguration configuration)
    {
        var value = configuration[AllowInsecureNetworkSetting];
        if (string.IsNullOrWhiteSpace(value)) return false;
        return bool.TryParse(value, out var allowed)
            ? allowed
            : throw Invalid(AllowInsecureNetworkSetting, $"must be true or false, not '{value}'");
    }

    /// <summary>A silo advertising a loopback address listens on loopback only; any other address means all interfaces.</summary>
    public static bool ListensBeyondLoopback(IPAddress advertisedAddress) =>
        !IPAddress.IsLoopback(advertisedAddress.IsIPv4MappedToIPv6 ? advertisedAddress.MapToIPv4() : advertisedAddress);

    /// <summary>Stops a silo whose Orleans ports anyone on the network could call unauthenticated, unless allowed on purpose.</summary>
    public static void EnsureNetworkProtected(IPAddress advertisedAddress, ClusterTls? tls, bool allowInsecureNetwork)
    {
        if (!ListensBeyondLoopback(advertisedAddress) || tls is not null || allowInsecureNetwork) return;
        throw new InvalidOperationException(
            $"Orleans__AdvertisedIP is {advertisedAddress}, so the silo and gateway ports would listen on every interface, and "
            + "anyone who reaches them could call grains. Set Orleans__Tls__CertificatePath (and Orleans__Tls__CertificatePassword) "
            + "on every silo and gateway for mutual TLS, or Orleans__AllowInsecureNetwork=true if only trusted hosts can reach "
            + "these ports (a private network).");
    }

    /// <summary>Mutual TLS with this certificate: the peer must present one too, and it must pass <see cref="IsTrustedPeer"/>.</summary>
    public void Configure(TlsOptions options)
    {
        options.LocalCertificate = Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Replaces the platform's verdict: a self-signed cluster certificate is never in the system's trust store, and
        // peers are addressed by IP, so its chain and name errors say nothing about whether the peer belongs.
        options.RemoteCertificateValidation = (certificate, chain, _) => IsTrustedPeer(certificate, chain);
    }

    /// <summary>Our own certificate, or one issued by the trusted CA (through the intermediates the peer sent), in its validity dates.</summary>
    public bool IsTrustedPeer(X509Certificate2 peer, X509Chain? presented = null)
    {
        if (!IsWithinValidity(peer)) return false;
        if (peer.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(_ownHash)) return true;
        if (TrustedCa is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(TrustedCa);
        // A cluster CA publishes no revocation list; rotating the CA is how access is withdrawn.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(peer);
    }

    private static bool IsWithinValidity(X509Certificate2 certificate)
    {
        var now = DateTime.UtcNow;
        return certificate.NotBefore.ToUniversalTime() <= now && now <= certificate.NotAfter.ToUniversalTime();
    }

    // Orleans's TLS middleware refuses a certificate whose extended key usage leaves out the role it is used in.
    private static bool AllowsUsage(X509Certificate2 certificate, string usage)
    {
        var extensions = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
        return extensions.Count == 0 || extensions.Any(e => e.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == usage));
    }

    private static X509Certificate2 FromFile(string path, string? password)
    {
        if (!File.Exists(path)) throw Invalid(CertificatePathSetting, $"names '{path}', which does not exist");
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (CryptographicException)
        {
            // The exception's text is not echoed: it is about the password, which must not reach a log.
            throw Invalid(CertificatePathSetting, $"names '{path}', which could not be opened as a PKCS#12 (.pfx) file with "
                + "Orleans__Tls__CertificatePassword (wrong password, or not a .pfx file)");
        }
    }

    private static X509Certificate2 FromStore(string thumbprint, string? storeSetting)
    {
        var (location, name) = ParseStore(storeSetting);
        using var store = new X509Store(name, location);
        var found = new X509Certificate2Collection();
        try
        {
            store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            found = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint.Replace(" ", "").Replace(":", ""), validOnly: false);
        }
        catch (CryptographicException)
        {
            // A store that was never created holds no certificate: reported below like any missing one.
        }
        return found.Count > 0
            ? found[0]
            : throw Invalid(CertificateThumbprintSetting, $"is {thumbprint}, which is not in the {location}/{name} certificate store");
    }

    /// <summary><c>Orleans__Tls__CertificateStore</c> is <c>location/name</c>, e.g. <c>CurrentUser/My</c> (the default).</summary>
    private static (StoreLocation Location, StoreName Name) ParseStore(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return (StoreLocation.CurrentUser, StoreName.My);
        var parts = value.Split('/', '\\');
        return parts.Length == 2
               && Enum.TryParse<StoreLocation>(parts[0], ignoreCase: true, out var location)
               && Enum.TryParse<StoreName>(parts[1], ignoreCase: true, out var name)
            ? (location, name)
            : throw Invalid(CertificateStoreSetting, $"must be a store location and name like CurrentUser/My, not '{value}'");
    }

    private static X509Certificate2 TrustedCaFrom(string path)
    {
        if (!File.Exists(path)) throw Invalid(TrustedCaPathSetting, $"names '{path}', which does not exist");
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (CryptographicException e)
        {
            throw Invalid(TrustedCaPathSetting, $"names '{path}', which is not a PEM or DER certificate: {e.Message}");
        }
    }

    private static InvalidOperationException Invalid(string setting, string problem) =>
        new($"Setting {setting.Replace(":", "__")} {problem}.");
}
