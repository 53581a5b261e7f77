using DirectorySync.WorkOS;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace DirectorySync.UnitTests.WorkOS;

public sealed class WorkOSOptionsTests
{
    private static WorkOSOptions From(params (string Key, string Value)[] settings) =>
        WorkOSOptions.From(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void Without_settings_the_service_has_no_key_and_the_documented_defaults()
    {
        var options = From();

        Assert.False(options.IsConfigured);
        Assert.Equal(new Uri("https://api.workos.com/"), options.BaseUrl);
        Assert.Equal(TimeSpan.FromMinutes(1), options.EventsPollInterval);
        Assert.Equal(EventsQueryStyle.Comma, options.EventsQueryStyle);
        Assert.Equal(TimeSpan.FromHours(1), options.EventsLookback);
        Assert.Equal(TimeSpan.FromHours(6), options.ReconcileInterval);
        Assert.Equal(10, options.MaxDeletionPercent);
        Assert.Equal(6, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(30), options.AttemptTimeout);
        Assert.Equal(6000, options.RequestsPerMinute);
        Assert.Equal(4, options.DirectoryUsersPerSecond);
    }

    [Fact]
    public void The_key_comes_from_the_section_or_else_from_WORKOS_API_KEY_and_is_never_printed()
    {
        var fromSection = From(("WorkOS:ApiKey", "sk_test_section"), ("WORKOS_API_KEY", "sk_test_environment"));
        var fromEnvironment = From(("WorkOS:ApiKey", ""), ("WORKOS_API_KEY", " sk_test_environment\n"));

        Assert.True(fromSection.IsConfigured);
        Assert.True(fromEnvironment.IsConfigured);
        Assert.DoesNotContain("sk_test", fromSection.ToString());
        Assert.DoesNotContain("sk_test", fromEnvironment.ToString());
        Assert.Contains("IsConfigured = True", fromSection.ToString());
    }

    [Fact]
    public void A_key_a_header_cannot_carry_is_refused_without_being_repeated()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => From(("WORKOS_API_KEY", "sk_test_one two")));

        Assert.Contains("WorkOS__ApiKey", refused.Message);
        Assert.DoesNotContain("sk_test", refused.Message);
    }

    [Theory]
    [InlineData("EventsPollInterval")]
    [InlineData("ReconcileInterval")]
    public void Zero_turns_a_schedule_off(string setting) =>
        Assert.Equal(TimeSpan.Zero, typeof(WorkOSOptions).GetProperty(setting)!.GetValue(From(($"WorkOS:{setting}", "0"))));

    [Theory]
    [InlineData("EventsPollInterval", "60", "WorkOS__EventsPollInterval must be a duration")]
    [InlineData("EventsPollInterval", "soon", "WorkOS__EventsPollInterval must be a duration")]
    [InlineData("AttemptTimeout", "0", "WorkOS__AttemptTimeout must be a duration")]
    [InlineData("EventsQueryStyle", "semicolon", "WorkOS__EventsQueryStyle must be comma")]
    [InlineData("MaxDeletionPercent", "101", "WorkOS__MaxDeletionPercent must be a percentage from 0 to 100")]
    [InlineData("MaxDeletionPercent", "-1", "WorkOS__MaxDeletionPercent must be a percentage from 0 to 100")]
    [InlineData("MaxAttempts", "1", "WorkOS__MaxAttempts must be a whole number from 2 to 20")]
    [InlineData("DirectoryUsersPerSecond", "four", "WorkOS__DirectoryUsersPerSecond must be a whole number")]
    [InlineData("BaseUrl", "api.workos.com", "WorkOS__BaseUrl must be an http or https URL")]
    [InlineData("RequestTimeout", "00:00:10", "WorkOS__RequestTimeout (00:00:10) must not be shorter than WorkOS__AttemptTimeout")]
    public void A_bad_setting_stops_the_start_naming_it(string setting, string value, string expected)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => From(($"WorkOS:{setting}", value)));

        Assert.Contains(expected, refused.Message);
    }

    [Fact]
    public void Settings_are_read_from_the_WorkOS_section()
    {
        var options = From(
            ("WorkOS:BaseUrl", "http://simulator:8080/workos"), ("WorkOS:EventsQueryStyle", "Brackets"), ("WorkOS:EventsLookback", "02:00:00"),
            ("WorkOS:MaxDeletionPercent", "2.5"), ("WorkOS:MaxAttempts", "3"));

        Assert.Equal(new Uri("http://simulator:8080/workos/"), options.BaseUrl);
        Assert.Equal(EventsQueryStyle.Brackets, options.EventsQueryStyle);
        Assert.Equal(TimeSpan.FromHours(2), options.EventsLookback);
        Assert.Equal(2.5, options.MaxDeletionPercent);
        Assert.Equal(3, options.MaxAttempts);
    }
}
