using DirectorySync.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace DirectorySync.Feed;

public static class FeedServices
{
    /// <summary>
    /// The change feed's settings (section <c>ChangeFeed</c>, checked at start), its reader on the host's
    /// <see cref="NpgsqlDataSource"/>, and the read API keys that guard <c>/changes</c>.
    /// </summary>
    public static IServiceCollection AddChangeFeed(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChangeFeedOptions>()
            .Bind(configuration.GetSection(ChangeFeedOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChangeFeedOptions>, ChangeFeedOptionsValidation>();
        services.AddSingleton(sp => new ChangeFeed(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddReadApiKeys(configuration);
        return services;
    }
}

/// <summary>A wrong ChangeFeed setting stops the host at start, named in the message.</summary>
internal sealed class ChangeFeedOptionsValidation : IValidateOptions<ChangeFeedOptions>
{
    public ValidateOptionsResult Validate(string? name, ChangeFeedOptions options) =>
        options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
