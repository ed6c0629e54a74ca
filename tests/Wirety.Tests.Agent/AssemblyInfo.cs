// Like the agent it tests: Linux only (wg, ip, network namespaces, Unix file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
