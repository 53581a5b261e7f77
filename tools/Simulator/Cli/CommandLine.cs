using System.Globalization;

namespace DirectorySync.Simulator.Cli;

/// <summary>A wrong command line: the message says what, and the usage is shown.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// <c>command --option value --flag …</c> (also <c>--option=value</c>), checked against the options the command knows,
/// with typed getters that name the option in their errors.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private CommandLine(string command) => Command = command;

    public string Command { get; }

    public static CommandLine Parse(string[] args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> flagOptions)
    {
        if (args.Length == 0) throw new UsageException("No command given.");
        var parsed = new CommandLine(args[0]);
        for (var i = 1; i < args.Length; i++)
        {
            var token = args[i];
            if (!token.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"Unexpected argument '{token}'.");
            var name = token[2..];
            string? inlineValue = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }
            if (flagOptions.Contains(name) && inlineValue is null)
            {
                parsed._flags.Add(name);
            }
            else if (valueOptions.Contains(name))
            {
                var value = inlineValue ?? (i + 1 < args.Length ? args[++i] : throw new UsageException($"--{name} needs a value."));
                parsed._values[name] = value;
            }
            else
            {
                throw new UsageException($"Unknown option --{name} for '{parsed.Command}'.");
            }
        }
        return parsed;
    }

    public bool Has(string flag) => _flags.Contains(flag);

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public string RequiredText(string name) => Text(name) ?? throw new UsageException($"--{name} is required.");

    public int Integer(string name, int fallback, int minimum = 0)
    {
        if (Text(name) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < minimum)
        {
            throw new UsageException($"--{name} must be a whole number of at least {minimum}, not '{text}'.");
        }
        return value;
    }

    public double Fraction(string name, double fallback)
    {
        if (Text(name) is not { } text) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value is < 0 or > 1)
        {
            throw new UsageException($"--{name} must be a number from 0 to 1, not '{text}'.");
        }
        return value;
    }

    public TimeSpan Milliseconds(string name, TimeSpan fallback) =>
        Text(name) is null ? fallback : TimeSpan.FromMilliseconds(Integer(name, 0, minimum: 1));

    public TimeSpan Seconds(string name, TimeSpan fallback) =>
        Text(name) is null ? fallback : TimeSpan.FromSeconds(Integer(name, 0, minimum: 0));

    public DateTimeOffset? Time(string name)
    {
        if (Text(name) is not { } text) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new UsageException($"--{name} must be an ISO-8601 time, not '{text}'.");
    }

    public TEnum Choice<TEnum>(string name, TEnum fallback, params (string Text, TEnum Value)[] choices)
    {
        if (Text(name) is not { } text) return fallback;
        foreach (var (choiceText, value) in choices)
        {
            if (string.Equals(choiceText, text, StringComparison.OrdinalIgnoreCase)) return value;
        }
        throw new UsageException($"--{name} must be one of {string.Join(", ", choices.Select(c => c.Text))}, not '{text}'.");
    }

    /// <summary>One or more comma-separated http(s) URLs.</summary>
    public IReadOnlyList<Uri> Urls(string name)
    {
        var urls = RequiredText(name).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0) throw new UsageException($"--{name} needs at least one URL.");
        return urls.Select(text => ParseUrl(name, text)).ToArray();
    }

    private static Uri ParseUrl(string name, string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new UsageException($"--{name} must be an http(s) URL, not '{text}'.");
}
