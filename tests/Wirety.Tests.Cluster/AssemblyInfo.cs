// Child processes, signals and /proc: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
// Each fixture runs two server processes; one pair at a time keeps the timings the tests report meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
