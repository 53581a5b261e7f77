using DirectorySync.Hosting;
using DirectorySync.Silo;

var builder = WebApplication.CreateBuilder(args);
var settings = ClusterSettings.From(builder.Configuration);
builder.AddDirectorySyncSilo(settings);

var app = builder.Build();
app.MapSiloEndpoints();
await app.RunAsync();
