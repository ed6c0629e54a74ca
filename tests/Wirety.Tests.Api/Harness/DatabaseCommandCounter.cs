using Marten;
using Marten.Services;
using Npgsql;

namespace Wirety.Tests.Api.Harness;

/// <summary>Counts every command Marten sends to PostgreSQL, so a test can prove a request needed none.</summary>
public sealed class DatabaseCommandCounter : IMartenLogger, IMartenSessionLogger
{
    private long _count;
    public long Count => Interlocked.Read(ref _count);

    public IMartenSessionLogger StartSession(IQuerySession session) => this;
    public void SchemaChange(string sql) { }
    public void OnBeforeExecute(NpgsqlCommand command) => Interlocked.Increment(ref _count);
    public void OnBeforeExecute(NpgsqlBatch batch) => Interlocked.Increment(ref _count);
    public void LogSuccess(NpgsqlCommand command) { }
    public void LogFailure(NpgsqlCommand command, Exception ex) { }
    public void LogSuccess(NpgsqlBatch batch) { }
    public void LogFailure(NpgsqlBatch batch, Exception ex) { }
    public void LogFailure(Exception ex, string message) { }
    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit) { }
}
