namespace DirectorySync.Simulator; public static class Program { public static int Main() => 0; }
