using System.Runtime.InteropServices;
using Wirety.Agent.Cli;
using Wirety.Agent.Filtering;
using Wirety.Agent.Forwarding;
using Wirety.Agent.Logging;
using Wirety.Agent.Running;
using Wirety.Agent.Server;
using Wirety.Agent.State;
using Wirety.Agent.WireGuard;

// wirety-agent: enroll / run / status / rotate-key. `wirety-agent --help` lists the options; Cli/CommandLine.cs defines them.
var (command, exitCode) = CommandLine.Interpret(args, Console.Out, Console.Error);
if (command is null) return exitCode; // help, version or a usage error (2)

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
void Stop(PosixSignalContext context)
{
    context.Cancel = true; // shut down cleanly instead of being killed
    stop.Cancel();
}

var clock = TimeProvider.System;
try
{
    switch (command)
    {
        case EnrollCommand enroll:
            return await Enroll.RunAsync(enroll, Console.In, Console.Out, AgentLog.Console(verbose: false), clock, stop.Token);
        case StatusCommand status:
        {
            var log = AgentLog.Console(verbose: false);
            return await Status.RunAsync(status, new WgCommandLine(new ProcessCommandRunner(), log), Console.Out, clock, stop.Token);
        }
        case RotateKeyCommand rotate:
            return await RotateKey.RunAsync(rotate, Console.Out, AgentLog.Console(verbose: false), clock, stop.Token);
        case RunCommand run:
        {
            var options = run.Options;
            var log = AgentLog.Console(options.Verbose);
            var store = new StateStore(options.StateDirectory);
            var identity = store.LoadIdentity();
            using var runLock = store.LockForRun();
            var runner = new ProcessCommandRunner();
            var agent = new AgentRunner(options, identity, store,
                new WgCommandLine(runner, log, options.Userspace), new HostForwarding(runner, log), new HostFilter(runner, log), log, clock);
            return await agent.RunAsync(stop.Token);
        }
        default:
            return CommandLine.UsageExitCode;
    }
}
catch (StateException e)
{
    Console.Error.WriteLine($"wirety-agent: {e.Message}");
    return 1;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    return 0;
}
