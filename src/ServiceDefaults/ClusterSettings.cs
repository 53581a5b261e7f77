using Microsoft.Extensions.Configuration;

namespace DirectorySync.Hosting;

/// <summary>
/// The settings both hosts need, read and checked once at start: a missing or invalid one stops the host with a
/// message that names it (the names are the product's interface, see the README).
/// </summary>
public sealed record ClusterSettings(string ConnectionString, string ClusterId, string ServiceId)
{
    public const string ConnectionStringName = "Postgres";

    public static ClusterSettings From(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                "Setting ConnectionStrings__Postgres is missing: give the Npgsql connection string of the Postgres database.");
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"Setting ConnectionStrings__Postgres is not a valid Npgsql connection string: {e.Message}");
        }
        return new ClusterSettings(
            WithPoolLimit(connectionString),
            configuration["Orleans:ClusterId"] is { Length: > 0 } clusterId ? clusterId : "directorysync",
            configuration["Orleans:ServiceId"] is { Length: > 0 } serviceId ? serviceId : "directorysync");
    }

    public static int Port(IConfiguration configuration, string key, int defaultPort)
    {
        var value = configuration[key];
        if (string.IsNullOrEmpty(value)) return defaultPort;
        return int.TryParse(value, out var port) && port is > 0 and < 65536
            ? port
            : throw new InvalidOperationException($"Setting {key.Replace(":", "__")} must be a TCP port (1-65535), not '{value}'.");
    }

    /// <summary>
    /// Postgres allows 100 connections by default (97 for clients). A silo has two pools of this size (the directory
    /// grains' data source, and the Orleans providers' pool for membership and reminders), a gateway one: with 15,
    /// two silos and a gateway stay at 75.
    /// </summary>
    public const int DefaultPoolLimit = 15;

    private static string WithPoolLimit(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase))
            builder.MaxPoolSize = DefaultPoolLimit;
        return builder.ConnectionString;
    }
}
