using DirectorySync.Gateway;
using DirectorySync.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddDirectorySyncGateway(ClusterSettings.From(builder.Configuration));

var app = builder.Build();
app.MapGatewayEndpoints();
await app.RunAsync();
