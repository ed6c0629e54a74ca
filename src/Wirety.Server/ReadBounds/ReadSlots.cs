using System.Globalization;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using Wirety.Server.Limits;

namespace Wirety.Server.ReadBounds;

/// <summary>The kinds of read that cost the server more than a page: each has its own per-token budget.</summary>
public enum HeavyRead { Export, Replay }

/// <summary>
/// How many heavy reads each API token runs at once on this instance (<see cref="LimitsOptions.ExportsPerToken"/>,
/// <see cref="LimitsOptions.ReplaysPerToken"/>). A request over the budget is refused at once with a 429 problem
/// and <c>Retry-After</c> rather than queued: a queue would hold a connection and memory per waiting request,
/// which is what the bound is there to prevent. Counted in memory, so the bound is per server instance.
/// </summary>
public sealed class ReadSlots(IOptions<LimitsOptions> limits)
{
    private readonly Dictionary<(HeavyRead Kind, string Token), int> _held = [];

    /// <summary>A held slot; disposing it gives the slot back.</summary>
    public sealed class Slot : IDisposable
    {
        private ReadSlots? _owner;
        private readonly (HeavyRead, string) _key;

        internal Slot(ReadSlots owner, (HeavyRead, string) key) => (_owner, _key) = (owner, key);

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Release(_key);
    }

    public int BudgetOf(HeavyRead kind) => kind == HeavyRead.Export ? limits.Value.ExportsPerToken : limits.Value.ReplaysPerToken;

    /// <summary>A slot for the caller's token, or null when it already runs as many reads of this kind as it may.</summary>
    public Slot? TryTake(HeavyRead kind, ClaimsPrincipal user)
    {
        var key = (kind, user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous");
        lock (_held)
        {
            var held = _held.GetValueOrDefault(key);
            if (held >= BudgetOf(kind)) return null;
            _held[key] = held + 1;
        }
        return new Slot(this, key);
    }

    private void Release((HeavyRead, string) key)
    {
        lock (_held)
        {
            if (_held.GetValueOrDefault(key) <= 1) _held.Remove(key);
            else _held[key]--;
        }
    }

    /// <summary>The answer to a read over its budget: 429, <c>Retry-After: 1</c>, and what the budget is.</summary>
    public IResult Refusal(HttpContext http, HeavyRead kind)
    {
        http.Response.Headers.RetryAfter = "1";
        var what = kind == HeavyRead.Export ? "NDJSON exports" : "history replays (state, timeline, config at a point)";
        return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
            detail: string.Create(CultureInfo.InvariantCulture,
                $"This API token already runs {BudgetOf(kind)} {what} at once, as many as it may; retry when one has finished."));
    }
}
