#!/usr/bin/env bash
# Turns the tables scripts/benchmark.sh collected in DIR (stages.tsv, processes.tsv, mirror.tsv, memory.tsv, soak-*.tsv, read.tsv) into
# the human report (markdown, on stdout) and DIR/results.json. The run's settings come from the environment.
set -euo pipefail
DIR=${1:?usage: benchmark-report.sh DIR}

awk -F'\t' -v json="$DIR/results.json" '
function num(x) { return (x == "" || x == "-") ? "null" : x + 0 }
function str(x) { gsub(/\\/, "\\\\", x); gsub(/"/, "\\\"", x); return "\"" x "\"" }
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "-" }
function fmt(n,    out) {  # thousands separators (mawk has no %\047d)
  if (n == "" || n == "-") return "-"
  n = sprintf("%d", n); out = ""
  while (length(n) > 3) { out = "," substr(n, length(n) - 2) out; n = substr(n, 1, length(n) - 3) }
  return n out
}
function verdict(ok, known) { return !known ? "not measured" : (ok ? "MET" : "NOT MET") }
BEGIN {
  order["burst"] = 1; order["churn"] = 2; order["second"] = 3; order["pair"] = 4; order["steady"] = 5; order["memory"] = 6; order["soak"] = 7; order["read"] = 8
  label["burst"] = "burst (cold)"; label["churn"] = "churn (warm)"; label["second"] = "second (warm)"; label["pair"] = "pair (warm, 2 directories)"
  label["steady"] = "steady " ENVIRON["RATE"] "/s"; label["memory"] = "memory sync"; label["read"] = "read API directory sync"
  label["soak"] = "soak " ENVIRON["SOAK_RATE"] "/s, " ENVIRON["SOAK_MINUTES"] " min"
}
FILENAME ~ /stages.tsv$/ {
  n++; for (i = 1; i <= NF; i++) row[n, i] = $i
  key = $1 SUBSEP $2; tput[key] = $6; if ($1 == "soak") soak_retries = $10; ok[key] = ($12 == "OK"); dur[key] = $5; p99[key] = $8; events[key] = $3
  next
}
FILENAME ~ /processes.tsv$/ { pn++; for (i = 1; i <= NF; i++) proc[pn, i] = $i; next }
FILENAME ~ /mirror.tsv$/ { mn++; for (i = 1; i <= NF; i++) mir[mn, i] = $i; mirror_ok[$1] = (($1 in mirror_ok) ? mirror_ok[$1] : 1) && $3 == "OK"; next }
FILENAME ~ /memory.tsv$/ { memn++; for (i = 1; i <= NF; i++) mem[i] = $i; next }
FILENAME ~ /soak-windows.tsv$/ { wn++; for (i = 1; i <= NF; i++) win[wn, i] = $i; next }
FILENAME ~ /soak-rss.tsv$/ { soak_silo[$1] = $2; soak_gateway[$1] = $3; rss_minutes = $1; next }
FILENAME ~ /read.tsv$/ { readn++; for (i = 1; i <= NF; i++) rd[i] = $i; next }
END {
  quick = ENVIRON["QUICK"] == "1"
  print "# DirectorySync benchmark" (quick ? " (quick smoke run: sizes too small to judge the goals)" : "")
  print ""
  print "- run: " ENVIRON["STARTED_AT"] "; " ENVIRON["MACHINE"] "; " ENVIRON["VERSIONS"] "; " ENVIRON["LOAD"]
  printf "- stream, identical for every target, delivered in order with %s requests in flight (retry on any non-2xx, up to 20 attempts):\n", ENVIRON["CONCURRENCY"]
  printf "  - **burst (cold)**: directory 1 initial sync, %s events (%s users, %s groups, %s memberships per user), sent as soon as the freshly started processes report ready\n", fmt(ENVIRON["INITIAL_EVENTS"]), fmt(ENVIRON["USERS"]), fmt(ENVIRON["GROUPS_"]), ENVIRON["MEMBERSHIPS"]
  printf "  - **churn (warm)**: directory 1, %s day-to-day changes, right after\n", fmt(ENVIRON["CHURN"])
  printf "  - **second (warm)**: directory 2 initial sync, another %s events, to the same processes\n", fmt(ENVIRON["INITIAL_EVENTS"])
  printf "  - **pair (warm)**: directories 4 and 5, the same size as directory 2 each, their initial syncs interleaved with %d requests in flight (each directory as many as one alone): two directories at once\n", 2 * ENVIRON["CONCURRENCY"]
  printf "  - **steady**: directory 3 (%s users, %s groups, %s changes), request starts paced at %s events/s; p99 is the latency goal\n", fmt(ENVIRON["STEADY_USERS"]), fmt(ENVIRON["STEADY_GROUPS"]), fmt(ENVIRON["STEADY_USERS"]), fmt(ENVIRON["RATE"])
  print "- **warm** = the same processes, not restarted, right after they handled the burst: JIT tiered up, thread pool, connection pools and caches grown."
  print "- targets: **ours** = one silo + the gateway (Release DLLs, default settings; the goals are judged on it); **feed** = ours with an outbound webhook endpoint configured (a local listener, see *Change feed*); **insilo** = the deployment option Webhooks__ServeInSilo=true: one silo serving the webhook itself, no gateway process and no Orleans client hop; **seed** = the seed recipe (node server.js); **null** = our gateway with Webhooks__NullEndpoint=true (verifies the signature, answers 200; a silo runs beside it because the gateway only serves once its Orleans client is connected)."
  print "- latency: send to response of the acknowledged attempt; events/s: events acknowledged / delivery time. CPU ms per event: CPU time of the service processes (silo + gateway, or node) and Postgres over the events of the stage. CPU: % of one core (200 = both cores), the service processes and Postgres over the delivery time, the simulator and the whole machine (every process, other users included) over the simulator run."
  print ""
  print "## Throughput and latency"
  print ""
  print "| target | stage | events | time s | events/s | p50 ms | p99 ms | max ms | retries | failed | result | ÷ seed | ÷ null | CPU ms per event | CPU silo | CPU gateway | CPU node | CPU postgres | CPU simulator | CPU machine |"
  print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  printf "{\n  \"started_at\": %s,\n  \"quick\": %s,\n  \"machine\": %s,\n  \"versions\": %s,\n  \"load\": %s,\n", str(ENVIRON["STARTED_AT"]), quick ? "true" : "false", str(ENVIRON["MACHINE"]), str(ENVIRON["VERSIONS"]), str(ENVIRON["LOAD"]) > json
  printf "  \"stream\": {\"users\": %d, \"groups\": %d, \"memberships_per_user\": %d, \"initial_sync_events\": %d, \"churn_events\": %d, \"concurrency\": %d, \"steady_rate\": %d},\n", ENVIRON["USERS"], ENVIRON["GROUPS_"], ENVIRON["MEMBERSHIPS"], ENVIRON["INITIAL_EVENTS"], ENVIRON["CHURN"], ENVIRON["CONCURRENCY"], ENVIRON["RATE"] > json
  printf "  \"stages\": [" > json
  for (r = 1; r <= n; r++) {
    t = row[r, 1]; s = row[r, 2]
    # Paced stages run at the same rate everywhere: a ratio would say nothing.
    vs_seed = ((t == "ours" || t == "insilo") && s != "steady") ? ratio(row[r, 6], tput["seed", s]) : "-"
    vs_null = ((t == "ours" || t == "insilo") && s != "steady") ? ratio(row[r, 6], tput["null", s]) : "-"
    # What the service and its database spend per event: less sensitive to a busy machine than events/s.
    per_event = (row[r, 3] > 0) ? sprintf("%.2f", (row[r, 13] + row[r, 14] + row[r, 15] + row[r, 16]) / 100 * row[r, 5] / row[r, 3] * 1000) : "-"
    printf "| %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, (s in label) ? label[s] : s, fmt(row[r, 3]), row[r, 5], fmt(row[r, 6]), row[r, 7], row[r, 8], row[r, 9], fmt(row[r, 10]), fmt(row[r, 11]), row[r, 12], vs_seed == "-" ? "-" : vs_seed "×", vs_null == "-" ? "-" : vs_null "×", per_event, row[r, 13], row[r, 14], row[r, 15], row[r, 16], row[r, 17], row[r, 18]
    printf "%s\n    {\"target\": %s, \"stage\": %s, \"events\": %s, \"requests\": %s, \"seconds\": %s, \"events_per_s\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"max_ms\": %s, \"retries\": %s, \"failed\": %s, \"result\": %s, \"ratio_to_seed\": %s, \"ratio_to_null\": %s, \"cpu_ms_per_event\": %s, \"cpu_percent\": {\"silo\": %s, \"gateway\": %s, \"node\": %s, \"postgres\": %s, \"simulator\": %s, \"machine\": %s}, \"peak_rss_mb_so_far\": {\"silo\": %s, \"gateway\": %s, \"node\": %s}}", (r > 1 ? "," : ""), str(t), str(s), num(row[r, 3]), num(row[r, 4]), num(row[r, 5]), num(row[r, 6]), num(row[r, 7]), num(row[r, 8]), num(row[r, 9]), num(row[r, 10]), num(row[r, 11]), str(row[r, 12]), num(vs_seed), num(vs_null), num(per_event), num(row[r, 13]), num(row[r, 14]), num(row[r, 15]), num(row[r, 16]), num(row[r, 17]), num(row[r, 18]), num(row[r, 19]), num(row[r, 20]), num(row[r, 21]) > json
  }
  printf "\n  ],\n  \"processes\": [" > json
  print ""
  print "## Processes (read at the end of each target run)"
  print ""
  print "| target | process | ready after s | peak RSS MB (VmHWM) | RSS at end MB |"
  print "|---|---|--:|--:|--:|"
  for (r = 1; r <= pn; r++) {
    printf "| %s | %s | %s | %s | %s |\n", proc[r, 1], proc[r, 2] == "node" ? "node (seed recipe)" : proc[r, 2] (proc[r, 1] == "null" && proc[r, 2] == "silo" ? " (idle)" : ""), proc[r, 5], fmt(proc[r, 3]), fmt(proc[r, 4])
    printf "%s\n    {\"target\": %s, \"process\": %s, \"ready_after_s\": %s, \"peak_rss_mb\": %s, \"rss_at_end_mb\": %s}", (r > 1 ? "," : ""), str(proc[r, 1]), str(proc[r, 2]), num(proc[r, 5]), num(proc[r, 3]), num(proc[r, 4]) > json
  }
  printf "\n  ],\n  \"mirror\": [" > json
  print ""
  print "## Mirror check (simulate --verify: the tables against what in-order delivery must produce; the seed recipe has no directories.name or role_slugs, so its check skips those columns)"
  print ""
  print "| target | directory | check |"
  print "|---|---|---|"
  for (r = 1; r <= mn; r++) {
    printf "| %s | %s | %s: %s |\n", mir[r, 1], mir[r, 2], mir[r, 3], mir[r, 4]
    printf "%s\n    {\"target\": %s, \"directory\": %s, \"ok\": %s, \"detail\": %s}", (r > 1 ? "," : ""), str(mir[r, 1]), str(mir[r, 2]), mir[r, 3] == "OK" ? "true" : "false", str(mir[r, 4]) > json
  }
  printf "\n  ],\n" > json
  if (memn) {
    print ""
    print "## Memory"
    print ""
    printf "A fresh silo and gateway synced one directory of %s users and %s groups (%s memberships per user): silo RSS %s MB (peak %s MB), gateway RSS %s MB (peak %s MB), read 5 s after the last acknowledgement.\n", fmt(mem[1]), fmt(mem[2]), mem[3], fmt(mem[4]), fmt(mem[5]), fmt(mem[6]), fmt(mem[7])
    objects = mem[1] + mem[2] + mem[1] * mem[3]
    printf "\nIndex load: fresh processes on the same database, handed the last event of the directory again: its grain loaded %s objects (users, groups, memberships) in %s ms; the silo RSS grew by %s MB (%s bytes per object, the index and what loading it left behind).\n", fmt(objects), mem[8], mem[9], (mem[9] + 0 > 0) ? sprintf("%.0f", mem[9] * 1048576 / objects) : "-"
    printf "  \"memory\": {\"users\": %s, \"groups\": %s, \"memberships_per_user\": %s, \"silo_rss_mb\": %s, \"silo_peak_rss_mb\": %s, \"gateway_rss_mb\": %s, \"gateway_peak_rss_mb\": %s},\n", num(mem[1]), num(mem[2]), num(mem[3]), num(mem[4]), num(mem[5]), num(mem[6]), num(mem[7]) > json
  }
  if (wn) {
    print ""
    print "## Soak"
    print ""
    k = "soak" SUBSEP "soak"
    printf "A fresh silo and gateway, %s directories (5,000 users, 500 groups, 2 memberships per user, 10,000 changes each) delivered in order with request starts paced at %s events/s: %s events in %.0f s, %s events/s, p99 %s ms overall, %s retries, %s. Per minute of the delivery (RSS read at the end of the minute):\n", ENVIRON["SOAK_DIRECTORIES"], ENVIRON["SOAK_RATE"], fmt(events[k]), dur[k], fmt(tput[k]), p99[k], fmt(soak_retries), ok[k] ? "every event acknowledged" : "NOT every event acknowledged"
    print ""
    print "| minute | acknowledged | events/s | p50 ms | p99 ms | max ms | silo RSS MB | gateway RSS MB |"
    print "|--:|--:|--:|--:|--:|--:|--:|--:|"
    printf "  \"soak\": {\"rate\": %s, \"minutes\": %s, \"directories\": %s, \"windows\": [", num(ENVIRON["SOAK_RATE"]), num(ENVIRON["SOAK_MINUTES"]), num(ENVIRON["SOAK_DIRECTORIES"]) > json
    for (r = 1; r <= wn; r++) {
      minute = int(win[r, 1] / 60) + 1
      silo = (minute in soak_silo) ? soak_silo[minute] : "-"; gw = (minute in soak_gateway) ? soak_gateway[minute] : "-"
      printf "| %d | %s | %s | %s | %s | %s | %s | %s |\n", minute, fmt(win[r, 3]), fmt(win[r, 4]), win[r, 5], win[r, 6], win[r, 7], fmt(silo), fmt(gw)
      printf "%s\n    {\"minute\": %d, \"acknowledged\": %s, \"events_per_s\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"max_ms\": %s, \"silo_rss_mb\": %s, \"gateway_rss_mb\": %s}", (r > 1 ? "," : ""), minute, num(win[r, 3]), num(win[r, 4]), num(win[r, 5]), num(win[r, 6]), num(win[r, 7]), num(silo), num(gw) > json
    }
    printf "\n  ]},\n" > json
  }

  if (readn) {
    print ""
    print "## Read API"
    print ""
    printf "A fresh silo and gateway synced one directory of %s users, %s groups and %s memberships per user through webhooks; `simulator read-load` walked it (%s), then requested pages of 100 users (each with its groups) at random, starts scheduled at %s/s for %s s whatever the answers (open loop; latency from the scheduled start): %s pages answered, p50 %s ms, p99 %s ms, max %s ms, %s. CPU during the load (%% of one core): gateway %s, Postgres %s, silo %s; the machine %s.\n", fmt(rd[1]), fmt(rd[2]), rd[3], rd[15], fmt(rd[4]), ENVIRON["READ_SECONDS"], fmt(rd[5]), rd[6], rd[7], rd[8], rd[9] == "OK" ? "every request answered 200" : "NOT every request answered", rd[10], rd[11], rd[12], rd[13]
    printf "  \"read_api\": {\"users\": %s, \"groups\": %s, \"memberships_per_user\": %s, \"rate\": %s, \"pages\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"max_ms\": %s, \"ok\": %s},\n", num(rd[1]), num(rd[2]), num(rd[3]), num(rd[4]), num(rd[5]), num(rd[6]), num(rd[7]), num(rd[8]), rd[9] == "OK" ? "true" : "false" > json
  }

  # The goals: those of the issue that moved the decisions into the grains, and the first round of 50 percent of the null endpoint.
  print ""
  print "## Goals"
  print ""
  print "| goal | measured | verdict |"
  print "|---|---|---|"
  printf "  \"goals\": [" > json
  g = 0
  split("churn second", warm, " ")
  for (w = 1; w <= 2; w++) {
    s = warm[w]; k = "ours" SUBSEP s
    known = (k in tput) && (("seed" SUBSEP s) in tput) && ok[k] && ok["seed", s]
    v = known ? tput[k] / tput["seed", s] : 0
    goal("warm (" s ") throughput ≥ 4× the seed recipe", known ? sprintf("%.2f×", v) : "-", verdict(v >= 4, known))
    known = (k in tput) && (("null" SUBSEP s) in tput) && ok[k] && ok["null", s]
    v = known ? tput[k] / tput["null", s] : 0
    goal("warm (" s ") throughput ≥ 50% of the null endpoint (first round)", known ? sprintf("%.0f%%", 100 * v) : "-", verdict(v >= 0.5, known))
  }
  k = "ours" SUBSEP "pair"
  known = (k in tput) && (("ours" SUBSEP "second") in tput) && ok[k] && ok["ours", "second"]
  goal("two directories at once: more total throughput than one", known ? fmt(tput[k]) " events/s vs " fmt(tput["ours", "second"]) " (second)" : "-", verdict(tput[k] > tput["ours", "second"], known))
  k = "ours" SUBSEP "burst"
  known = (k in tput) && (("seed" SUBSEP "burst") in tput) && ok[k] && ok["seed", "burst"]
  v = known ? tput[k] / tput["seed", "burst"] : 0
  goal("first burst after a fresh start ≥ 2.5× the seed recipe", known ? sprintf("%.2f×", v) : "-", verdict(v >= 2.5, known))
  k = "ours" SUBSEP "steady"
  known = (k in tput) && ok[k]
  goal("p99 ≤ 50 ms at a steady " ENVIRON["RATE"] " events/s", known ? p99[k] " ms (achieved " fmt(tput[k]) " events/s)" : "-", verdict(p99[k] + 0 <= 50, known))
  known = memn > 0 && mem[1] >= 100000 && mem[1] * mem[3] >= 500000 && mem[8] != "-"
  goal("a directory of 100,000 users and 500,000 memberships loads its index in under 5 s", memn ? mem[8] " ms for " fmt(mem[1]) " users and " fmt(mem[1] * mem[3]) " memberships" : "- (run with --memory --memory-users 100000 --memory-memberships 5)", verdict(mem[8] + 0 < 5000, known))
  known = memn > 0 && mem[1] + mem[2] >= 100000
  goal("silo ≤ 1 GB RSS after 100,000 users and groups synced", memn ? fmt(mem[4]) " MB after " fmt(mem[1] + mem[2]) : "- (run with --memory)", verdict(mem[4] + 0 <= 1024, known))
  k = "ours" SUBSEP "burst"
  known = (k in tput) && ok[k] && ENVIRON["INITIAL_EVENTS"] >= 61000
  goal("the 61,000-event initial sync under 20 s end to end (acknowledged = durable)", (k in dur) ? sprintf("%.1f s for %s events (cold); directory 2 (warm): %s s", dur[k], fmt(events[k]), (("ours" SUBSEP "second") in dur) ? sprintf("%.1f", dur["ours", "second"]) : "-") : "-", verdict(dur[k] + 0 < 20, known))
  # Every request must have been answered too: a server that fell behind has its late requests skipped, not measured.
  known = readn > 0 && rd[1] >= 100000 && rd[4] >= 200
  goal("read API: p99 ≤ 20 ms for pages of 100 at 200/s on a 100,000-user directory", readn ? rd[7] " ms at " fmt(rd[4]) "/s on " fmt(rd[1]) " users (" rd[3] " memberships each)" (rd[9] == "OK" ? "" : ", not every request answered") : "- (run with --read)", verdict(rd[7] + 0 <= 20 && rd[9] == "OK", known))
  printf "\n  ]\n}\n" > json
}
function goal(name, measured, result) {
  print "| " name " | " measured " | " result " |"
  printf "%s\n    {\"goal\": %s, \"measured\": %s, \"verdict\": %s}", (g++ ? "," : ""), str(name), str(measured), str(result) > json
}
' "$DIR/stages.tsv" "$DIR/processes.tsv" "$DIR/mirror.tsv" "$DIR/memory.tsv" "$DIR/soak-windows.tsv" "$DIR/soak-rss.tsv" "$DIR/read.tsv"
