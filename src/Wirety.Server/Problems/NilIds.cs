namespace Wirety.Server.Problems;

/// <summary>
/// The nil GUID (<c>00000000-0000-0000-0000-000000000000</c>) names nothing, in any <c>{...Id}</c> route position:
/// answered 404 before an endpoint runs. Marten refuses it as a stream id with an exception, so without this a
/// write to <c>/networks/{nil}/...</c> would be a 500.
/// </summary>
public static class NilIds
{
    public static IApplicationBuilder UseNilIdsAsMissing(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (name.EndsWith("Id", StringComparison.Ordinal) && value is string text && Guid.TryParse(text, out var id) && id == Guid.Empty)
            {
                var what = name[..^2];
                await ApiProblems.NotFound($"There is no {what} {id}: the nil id names nothing.").ToResult().ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    });
}
