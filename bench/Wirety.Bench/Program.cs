using Wirety.Bench;

// dotnet run -c Release --project bench/Wirety.Bench -- config     [--peers 1000] [--adds 30] [--reads 3000]
// dotnet run -c Release --project bench/Wirety.Bench -- heartbeats [--agents 200] [--concurrency 64] [--seconds 15]
// dotnet run -c Release --project bench/Wirety.Bench -- export     [--events 1000000]
// dotnet run -c Release --project bench/Wirety.Bench -- propagation [--agents 1000] [--rounds 2] [--instances 1|2] [--scenario hub,mesh]
// dotnet run -c Release --project bench/Wirety.Bench -- history    [--events 1000000] [--networks 4] [--peers 25]
// dotnet run -c Release --project bench/Wirety.Bench -- broadcast  [--samples 50]
// dotnet run -c Release --project bench/Wirety.Bench -- scale      [--peers 1000,2000,5000,10000] [--changes 20] [--agents-max 2000] [--rounds 3]
// dotnet run -c Release --project bench/Wirety.Bench -- policies   [--peers 250,500,1000] [--groups 50] [--policies 200] [--rounds 4] [--previews 30]
return args.FirstOrDefault() switch
{
    "heartbeats" => await HeartbeatBench.RunAsync(args),
    "export" => await ExportBench.RunAsync(args),
    "propagation" => await PropagationBench.RunAsync(args),
    "history" => await HistoryBench.RunAsync(args),
    "broadcast" => await BroadcastBench.RunAsync(args),
    "policies" => await PolicyBench.RunAsync(args),
    "scale" => await ScaleBench.RunAsync(args),
    "config" or null => await ConfigBench.RunAsync(args),
    var other => Usage(other),
};

static int Usage(string what)
{
    Console.Error.WriteLine($"unknown benchmark '{what}'; use 'config', 'heartbeats', 'propagation', 'export', 'history', 'broadcast', 'policies' or 'scale'");
    return 2;
}
