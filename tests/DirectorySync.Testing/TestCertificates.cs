using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DirectorySync.Testing;

/// <summary>Certificates made on the spot for the cluster-TLS tests, and the .pfx/.pem files the hosts read them from.</summary>
public static class TestCertificates
{
    public const string Password = "pfx-password-for-tests";

    private static readonly string Folder = CreateFolder();

    // One folder per test run, removed when the run ends, so keys made for tests do not pile up in /tmp.
    private static string CreateFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "directorysync-certificates", Guid.NewGuid().ToString("N"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        };
        return folder;
    }

    /// <summary>A self-signed certificate like the README's openssl recipe: no extended key usage, so usable both ways.</summary>
    public static X509Certificate2 SelfSigned(string name, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A certificate with an extended key usage extension listing only <paramref name="usages"/> (OIDs).</summary>
    public static X509Certificate2 SelfSignedFor(string name, params string[] usages)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var oids = new OidCollection();
        foreach (var usage in usages) oids.Add(new Oid(usage));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A CA certificate (with its key) that can sign host certificates.</summary>
    public static X509Certificate2 CertificateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(60));
    }

    /// <summary>A host certificate (with its key) issued by <paramref name="authority"/>.</summary>
    public static X509Certificate2 IssuedBy(X509Certificate2 authority, string name, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the certificate and its key as a .pfx protected by <see cref="Password"/>; returns its path.</summary>
    public static string WritePfx(X509Certificate2 certificate, string name) =>
        Write($"{name}.pfx", certificate.Export(X509ContentType.Pkcs12, Password));

    /// <summary>Writes the certificate alone (no key) as PEM, as a CA's certificate is handed out; returns its path.</summary>
    public static string WritePem(X509Certificate2 certificate, string name) =>
        Write($"{name}.pem", System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));

    private static string Write(string fileName, byte[] contents)
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, fileName);
        File.WriteAllBytes(path, contents);
        return path;
    }
}
