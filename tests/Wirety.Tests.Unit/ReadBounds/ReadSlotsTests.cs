using System.Security.Claims;
using Microsoft.Extensions.Options;
using Wirety.Server.Limits;
using Wirety.Server.ReadBounds;

namespace Wirety.Tests.Unit.ReadBounds;

public sealed class ReadSlotsTests
{
    private static ClaimsPrincipal Token(string id) => new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, id)], "test"));

    [Fact]
    public void each_token_holds_at_most_its_budget_per_kind_and_a_finished_read_gives_its_slot_back()
    {
        var slots = new ReadSlots(Options.Create(new LimitsOptions { ExportsPerToken = 2, ReplaysPerToken = 1 }));
        var (a, b) = (Token("a"), Token("b"));

        var first = slots.TryTake(HeavyRead.Export, a);
        var second = slots.TryTake(HeavyRead.Export, a);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(slots.TryTake(HeavyRead.Export, a));
        Assert.NotNull(slots.TryTake(HeavyRead.Export, b)); // another token's own budget
        Assert.NotNull(slots.TryTake(HeavyRead.Replay, a)); // another kind's own budget
        Assert.Null(slots.TryTake(HeavyRead.Replay, a));

        first!.Dispose();
        first.Dispose(); // twice gives back one slot, not two
        Assert.NotNull(slots.TryTake(HeavyRead.Export, a));
        Assert.Null(slots.TryTake(HeavyRead.Export, a));
    }
}
