using DirectorySync.Gateway;
using DirectorySync.Hosting;

// appsettings.json sits beside the DLL: load it whatever directory the host is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddDirectorySyncGateway(ClusterSettings.From(builder.Configuration));

var app = builder.Build();
app.MapGatewayEndpoints();
await app.RunAsync();
