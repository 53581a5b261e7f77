#!/usr/bin/env bash
# Builds and runs every test project in Release; each project prints its results and a summary line.
# Tests use the Postgres in $ConnectionStrings__Postgres if set, otherwise start a throwaway server of their own.
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet test DirectorySync.sln -c Release --logger "console;verbosity=normal"
