// The agent drives Linux networking (wg, ip, nft, /proc/sys): it runs on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
