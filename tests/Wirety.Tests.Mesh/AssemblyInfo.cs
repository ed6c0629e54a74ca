// Network namespaces, veth, bridges and wireguard-go: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
