using Npgsql;

namespace Wirety.Server.Hosting;

/// <summary>
/// The server's settings, read from WIRETY_* environment variables (or configuration keys of the same name).
/// The connection string gets <c>Application Name=wirety-server</c> unless WIRETY_DB names one: that is how
/// <c>restore</c> (and an operator looking at <c>pg_stat_activity</c>) tells a running server's connections apart.
/// </summary>
public sealed record WiretySettings(string ConnectionString, string DataDir, string? AdminToken)
{
    public static WiretySettings From(IConfiguration config)
    {
        var db = config["WIRETY_DB"];
        if (string.IsNullOrWhiteSpace(db))
            throw new InvalidOperationException(
                "WIRETY_DB is not set. Start Wirety with `make run` (it creates a private PostgreSQL) or set WIRETY_DB to an Npgsql connection string.");
        db = WithApplicationName(db, Operations.RestoreCommand.ServerApplicationName);
        var dataDir = Path.GetFullPath(config["WIRETY_DATA_DIR"] is { Length: > 0 } d ? d : ".wirety");
        return new WiretySettings(db, dataDir, config["WIRETY_ADMIN_TOKEN"] is { Length: > 0 } t ? t : null);
    }

    /// <summary>The connection string with <paramref name="name"/> as its application name, unless it already names one (or cannot be parsed: Npgsql will say why later).</summary>
    public static string WithApplicationName(string connectionString, string name)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (!string.IsNullOrEmpty(builder.ApplicationName)) return connectionString;
            builder.ApplicationName = name;
            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return connectionString;
        }
    }
}
