using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DirectorySync.Hosting;

public static class HealthEndpoints
{
    public const string ReadyTag = "ready";
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// <c>/health/live</c>: the process answers. <c>/health/ready</c>: every check tagged "ready" passes.
    /// <c>/metrics</c>: Prometheus text format (events by outcome, batch sizes and durations, webhook answers, Orleans, runtime),
    /// for callers on this machine or with the operations token: it names event types, silos and traffic volumes.
    /// </summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath).RequireLocalCallerOrOperationsToken(MetricsPath);
        return endpoints;
    }

    /// <summary>Ready needs the database to answer.</summary>
    public static IHealthChecksBuilder AddPostgresCheck(this IHealthChecksBuilder checks, string connectionString) =>
        checks.Add(new HealthCheckRegistration("postgres", _ => new PostgresHealthCheck(connectionString), HealthStatus.Unhealthy, [ReadyTag], TimeSpan.FromSeconds(5)));

    private sealed class PostgresHealthCheck(string connectionString) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var connection = new Npgsql.NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var command = new Npgsql.NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy("Postgres does not answer", e);
            }
        }
    }
}
