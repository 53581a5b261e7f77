using DirectorySync.Hosting;
using DirectorySync.Silo;

// appsettings.json sits beside the DLL: load it whatever directory the host is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var settings = ClusterSettings.From(builder.Configuration);

// `migrate`: apply the schema and exit, for operators who run migrations themselves (then set Database__Migrate=false).
if (args.Contains("migrate"))
{
    await SiloExtensions.MigrateDatabaseAsync(settings, builder.Configuration, force: true);
    return;
}

builder.AddDirectorySyncSilo(settings);
var app = builder.Build();
app.MapSiloEndpoints();
await SiloExtensions.MigrateDatabaseAsync(settings, builder.Configuration, force: false);
await app.RunAsync();
