using System.Collections.Concurrent;
using Microsoft.Playwright;
using Xunit;

namespace DirectorySync.IntegrationTests.OperatorConsole;

/// <summary>
/// Debian's chromium, driven by Playwright (which cannot download a browser of its own here). A missing browser fails
/// the tests that need it, with how to install it (.ci/run does): it is never a reason to skip them.
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException(
                $"{ChromiumPath} is missing: the console's browser tests need Debian's chromium package (apt-get install chromium; .ci/run installs it)");
        // The console refreshes every 5 s; a silo under a full test run may take a few refreshes to show a change.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
    }

    /// <summary>A fresh browser context (no cookies) with one page, whose script errors are collected.</summary>
    public async Task<BrowserPage> OpenAsync()
    {
        var context = await _browser!.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 }, Locale = "en-GB" });
        var page = await context.NewPageAsync();
        var opened = new BrowserPage(context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error") opened.Errors.Enqueue(message.Text);
        };
        page.PageError += (_, error) => opened.Errors.Enqueue(error);
        return opened;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>A page in its own browser context, and what its scripts reported as errors (uncaught or logged).</summary>
public sealed class BrowserPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    public ConcurrentQueue<string> Errors { get; } = new();

    public ValueTask DisposeAsync() => new(context.CloseAsync());
}
