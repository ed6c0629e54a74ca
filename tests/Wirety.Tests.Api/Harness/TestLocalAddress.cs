using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Wirety.Tests.Api.Harness;

/// <summary>
/// TestServer has no sockets, so a request arrives on no local address. <c>X-Test-Local-Address</c> stands for
/// the server address a request came in on (the routes' cover rules protect it); test-only, like
/// <see cref="Wirety.Testing.TestRemoteAddress"/>.
/// </summary>
public sealed class TestLocalAddress : IStartupFilter
{
    public const string Header = "X-Test-Local-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var value) && IPAddress.TryParse(value, out var address))
                context.Connection.LocalIpAddress = address;
            return nextMiddleware(context);
        });
        next(app);
    };
}
