// The agent arrives with the agent protocol (enroll, run, status); until then it only says so.
Console.Error.WriteLine("wirety-agent: the agent is not implemented yet; see README.md.");
return 2;
