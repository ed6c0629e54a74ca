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

public sealed class StrictJsonScrubTests
{
    [Fact]
    public void a_serializer_message_in_a_400_is_rewritten_to_the_json_path_alone()
    {
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = 400, Title = "Invalid JSON format", Type = "https://httpstatuses.com/400",
            Detail = "The JSON value could not be converted to Wirety.Server.Networks.UpdateNetworkRequest. Path: $.peers[0].mtu | LineNumber: 0 | BytePositionInLine: 19.",
        };
        StrictJson.Scrub(problem);
        Assert.Equal("The request body does not fit this endpoint: the value at peers[0].mtu is not one it accepts (wrong type, or out of range).", problem.Detail);
        Assert.DoesNotContain("Wirety", problem.Title + problem.Detail + problem.Type);

        var other = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = 400, Detail = "name is required." };
        StrictJson.Scrub(other);
        Assert.Equal("name is required.", other.Detail);
    }
}
