namespace Wirety.Server.Hosting;

/// <summary>The server's settings, read from WIRETY_* environment variables (or configuration keys of the same name).</summary>
public sealed record WiretySettings(string ConnectionString, string DataDir, string? AdminToken)
{
    public static WiretySettings From(IConfiguration config)
    {
        var db = config["WIRETY_DB"];
        if (string.IsNullOrWhiteSpace(db))
            throw new InvalidOperationException(
                "WIRETY_DB is not set. Start Wirety with `make run` (it creates a private PostgreSQL) or set WIRETY_DB to an Npgsql connection string.");
        var dataDir = Path.GetFullPath(config["WIRETY_DATA_DIR"] is { Length: > 0 } d ? d : ".wirety");
        return new WiretySettings(db, dataDir, config["WIRETY_ADMIN_TOKEN"] is { Length: > 0 } t ? t : null);
    }
}
