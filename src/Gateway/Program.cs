namespace DirectorySync.Gateway; public static class Program { public static void Main() {} }
