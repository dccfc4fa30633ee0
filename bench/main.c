/* SPDX-License-Identifier: MIT */
/* smbx-bench driver: collects the suites of suites.def, runs the selected
 * metrics interleaved (run 1 of every metric, then run 2, ...), and prints
 * medians, ratios to anchors measured in the same process, and verdicts.
 * Exit status: 0 ok (MISS and SKIP only print), 1 an invariant broke or
 * could not be set up, 2 usage error or bad registration. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_version.h"

#ifndef BENCH_CC
#define BENCH_CC "unknown"
#endif
#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif
#ifndef BENCH_OPTIMIZATION
#define BENCH_OPTIMIZATION "unknown"
#endif
#ifndef BENCH_SANITIZE
#define BENCH_SANITIZE "none"
#endif

#define MAX_RUNS 25
#define TARGET_NS_FULL 50000000.0 /* one calibrated run: 50 ms */
#define TARGET_NS_QUICK 3000000.0 /* --quick: 3 ms */
#define MAX_ITERS ((uint64_t)1 << 40)

static const bench_suite *const suites[] = {
#define BENCH_SUITE(sname) &bench_suite_##sname,
#include "suites.def"
#undef BENCH_SUITE
};

typedef enum verdict {
  V_NONE, /* anchors and metrics without a goal */
  V_PASS,
  V_MISS, /* a goal missed: printed only */
  V_FAIL, /* an invariant broke (or could not be set up): exit 1 */
  V_SKIP, /* its setup, or its anchor's, failed: not measured */
} verdict;

typedef struct entry {
  const bench_metric *m;
  size_t anchor; /* index into entries, or SIZE_MAX */
  bool selected;
  bool set_up;
  bool skipped; /* setup failed */
  void *state;
  uint64_t iters;
  double v[MAX_RUNS];
  double median, min, max, checked, ratio;
  verdict verdict;
} entry;

typedef struct opts {
  bool quick, json, list, selftest;
  const char *filter;
  int runs;
  uint64_t iters; /* --iters: fixed per run, no calibration (profiling) */
} opts;

static entry *entries;
static size_t n_entries;

static void usage(FILE *f)
{
  fputs("usage: smbx-bench [--quick] [--json] [--filter SUBSTR] [--runs N]\n"
        "                  [--iters N] [--list] [--selftest]\n"
        "  --quick          short runs for CI (still the median of 5 runs)\n"
        "  --json           print the results as one JSON object\n"
        "  --filter SUBSTR  only metrics whose name contains SUBSTR (plus\n"
        "                   the anchors they are compared to)\n"
        "  --runs N         runs per metric, 1..25 (default 5)\n"
        "  --iters N        N iterations per run instead of calibrating to a\n"
        "                   duration (for callgrind/perf: exact counts)\n"
        "  --list           list the metrics and exit\n"
        "  --selftest       include the framework's own test metrics\n"
        "exit: 0 ok (MISS/SKIP only print), 1 an invariant broke, 2 error\n",
        f);
}

static int parse_opts(int argc, char **argv, opts *o)
{
  memset(o, 0, sizeof *o);
  o->runs = 5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--quick")) {
      o->quick = true;
    } else if (!strcmp(a, "--json")) {
      o->json = true;
    } else if (!strcmp(a, "--list")) {
      o->list = true;
    } else if (!strcmp(a, "--selftest")) {
      o->selftest = true;
    } else if (!strcmp(a, "--filter") && i + 1 < argc) {
      o->filter = argv[++i];
    } else if (!strcmp(a, "--runs") && i + 1 < argc) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > MAX_RUNS) {
        fprintf(stderr, "smbx-bench: --runs wants 1..%d\n", MAX_RUNS);
        return -1;
      }
      o->runs = (int)n;
    } else if (!strcmp(a, "--iters") && i + 1 < argc) {
      char *end;
      unsigned long long n = strtoull(argv[++i], &end, 10);
      if (*end || n < 1) {
        fprintf(stderr, "smbx-bench: --iters wants a positive count\n");
        return -1;
      }
      o->iters = n;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "smbx-bench: unknown argument '%s'\n", a);
      usage(stderr);
      return -1;
    }
  }
  return 0;
}

/* ---- registry ----------------------------------------------------------- */

static size_t find_entry(const char *name)
{
  for (size_t i = 0; i < n_entries; i++)
    if (!strcmp(entries[i].m->name, name))
      return i;
  return SIZE_MAX;
}

static int bad_metric(const bench_metric *m, const char *why)
{
  fprintf(stderr, "smbx-bench: metric '%s': %s\n",
          m->name ? m->name : "(unnamed)", why);
  return -1;
}

/* "ns/msg" and "ns/copy" compare (both ns); "B/s" and "ns/copy" do not. */
static bool same_base_unit(const char *a, const char *b)
{
  size_t na = strcspn(a, "/"), nb = strcspn(b, "/");
  return na == nb && memcmp(a, b, na) == 0;
}

/* Collects every suite's metrics and checks the registrations. */
static int load_registry(void)
{
  size_t n = 0;
  for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++)
    n += suites[s]->count;
  entries = calloc(n ? n : 1, sizeof *entries);
  if (!entries)
    return -1;
  for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++)
    for (size_t k = 0; k < suites[s]->count; k++)
      entries[n_entries++].m = &suites[s]->metrics[k];

  for (size_t i = 0; i < n_entries; i++) {
    const bench_metric *m = entries[i].m;
    entries[i].anchor = SIZE_MAX;
    if (!m->name || !m->unit || !m->run)
      return bad_metric(m, "name, unit and run are required");
    if (find_entry(m->name) != i)
      return bad_metric(m, "name registered twice");
    if ((m->flags & BENCH_F_ANCHOR) &&
        (m->anchor || m->goal.op != BENCH_OP_NONE ||
         (m->flags & BENCH_F_INVARIANT)))
      return bad_metric(m, "an anchor has no anchor, goal or invariant");
    if ((m->flags & BENCH_F_INVARIANT) &&
        (m->anchor || m->goal.op == BENCH_OP_NONE))
      return bad_metric(m, "an invariant needs a fixed goal, no anchor");
    if (m->anchor) {
      size_t a = find_entry(m->anchor);
      if (a == SIZE_MAX || !(entries[a].m->flags & BENCH_F_ANCHOR))
        return bad_metric(m, "its anchor is not a registered anchor");
      if (!same_base_unit(m->unit, entries[a].m->unit))
        return bad_metric(m, "unit differs from its anchor's before the '/'");
      entries[i].anchor = a;
    }
  }
  return 0;
}

static size_t select_entries(const opts *o)
{
  size_t n = 0;
  for (size_t i = 0; i < n_entries; i++) {
    const bench_metric *m = entries[i].m;
    if ((m->flags & BENCH_F_HIDDEN) && !o->selftest)
      continue;
    if (o->filter && !strstr(m->name, o->filter))
      continue;
    entries[i].selected = true;
  }
  for (size_t i = 0; i < n_entries; i++)
    if (entries[i].selected && entries[i].anchor != SIZE_MAX)
      entries[entries[i].anchor].selected = true;
  for (size_t i = 0; i < n_entries; i++)
    n += entries[i].selected;
  return n;
}

/* ---- measuring ---------------------------------------------------------- */

static uint64_t calibrate(entry *e, double target_ns)
{
  uint64_t iters = 1;
  for (;;) {
    uint64_t t0 = bench_now_ns();
    (void)e->m->run(e->state, iters);
    double dt = (double)(bench_now_ns() - t0);
    if (dt >= target_ns / 4 || iters >= MAX_ITERS) {
      double scaled = dt > 0 ? (double)iters * target_ns / dt : (double)iters;
      if (scaled < 1)
        scaled = 1;
      if (scaled > (double)MAX_ITERS)
        scaled = (double)MAX_ITERS;
      return (uint64_t)scaled;
    }
    iters *= dt < target_ns / 256 ? 16 : 2;
  }
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static bool goal_holds(bench_goal g, double v)
{
  if (isnan(v))
    return false;
  return g.op == BENCH_OP_LE ? v <= g.value : v >= g.value;
}

static void evaluate(entry *e, int runs)
{
  const bench_metric *m = e->m;
  bool anchor_skipped = e->anchor != SIZE_MAX && entries[e->anchor].skipped;
  if (e->skipped || anchor_skipped) {
    e->median = e->min = e->max = e->ratio = e->checked = NAN;
    for (int r = 0; r < runs; r++)
      e->v[r] = NAN;
    /* an invariant that cannot be checked counts as broken */
    e->verdict = m->flags & BENCH_F_INVARIANT ? V_FAIL : V_SKIP;
    return;
  }
  double sorted[MAX_RUNS];
  memcpy(sorted, e->v, (size_t)runs * sizeof sorted[0]);
  qsort(sorted, (size_t)runs, sizeof sorted[0], cmp_double);
  e->min = sorted[0];
  e->max = sorted[runs - 1];
  e->median = runs % 2 ? sorted[runs / 2]
                       : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
  e->ratio = NAN;
  e->checked = e->median;
  e->verdict = V_NONE;
  if (m->flags & BENCH_F_ANCHOR) {
    e->ratio = 1;
    return;
  }
  if (e->anchor != SIZE_MAX) {
    double a = entries[e->anchor].median;
    e->ratio = a > 0 ? e->median / a : NAN;
    e->checked = e->ratio;
  }
  if (m->goal.op == BENCH_OP_NONE)
    return;
  if (m->flags & BENCH_F_INVARIANT) {
    /* the worst run counts, and NaN in any run breaks it */
    e->checked = m->goal.op == BENCH_OP_LE ? e->max : e->min;
    for (int r = 0; r < runs; r++)
      if (isnan(e->v[r]))
        e->checked = NAN;
    e->verdict = goal_holds(m->goal, e->checked) ? V_PASS : V_FAIL;
    return;
  }
  e->verdict = goal_holds(m->goal, e->checked) ? V_PASS : V_MISS;
}

/* A metric whose setup fails is skipped (an invariant: broken), and so is
 * every metric compared to it; the others still run. */
static void measure(const opts *o)
{
  double target = o->quick ? TARGET_NS_QUICK : TARGET_NS_FULL;
  for (size_t i = 0; i < n_entries; i++) {
    entry *e = &entries[i];
    if (!e->selected)
      continue;
    e->state = NULL;
    if (e->m->setup && e->m->setup(&e->state, e->m->arg) != 0) {
      fprintf(stderr, "smbx-bench: setup of '%s' failed, skipped\n",
              e->m->name);
      e->skipped = true;
      continue;
    }
    e->set_up = true;
    e->iters = e->m->iters ? e->m->iters
               : o->iters  ? o->iters
                           : calibrate(e, target);
  }
  for (int r = 0; r < o->runs; r++)
    for (size_t i = 0; i < n_entries; i++) {
      entry *e = &entries[i];
      if (!e->selected || !e->set_up)
        continue;
      if (!e->m->iters) /* refill caches the other metrics evicted */
        (void)e->m->run(e->state, e->iters / 8 ? e->iters / 8 : 1);
      e->v[r] = e->m->run(e->state, e->iters);
    }
  for (size_t i = 0; i < n_entries; i++) {
    entry *e = &entries[i];
    if (e->set_up && e->m->teardown)
      e->m->teardown(e->state);
    e->set_up = false;
  }
  for (size_t i = 0; i < n_entries; i++)
    if (entries[i].selected)
      evaluate(&entries[i], o->runs);
}

/* ---- output ------------------------------------------------------------- */

static void cpu_model(char *buf, size_t cap)
{
  snprintf(buf, cap, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) != 0)
      continue;
    char *p = strchr(line, ':');
    if (!p)
      break;
    p++;
    while (*p == ' ' || *p == '\t')
      p++;
    size_t n = strcspn(p, "\n");
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      n--;
    if (n)
      snprintf(buf, cap, "%.*s", (int)n, p);
    break;
  }
  fclose(f);
}

static const char *verdict_str(verdict v)
{
  switch (v) {
  case V_PASS:
    return "PASS";
  case V_MISS:
    return "MISS";
  case V_FAIL:
    return "FAIL";
  case V_SKIP:
    return "SKIP";
  default:
    return "-";
  }
}

static void fmt_num(char *buf, size_t cap, double v)
{
  double a = fabs(v);
  if (isnan(v))
    snprintf(buf, cap, "nan");
  else if (isinf(v))
    snprintf(buf, cap, v > 0 ? "inf" : "-inf");
  else if (a >= 1e7)
    snprintf(buf, cap, "%.3e", v);
  else if (v == floor(v))
    snprintf(buf, cap, "%.0f", v);
  else if (a >= 100)
    snprintf(buf, cap, "%.1f", v);
  else
    snprintf(buf, cap, "%.3f", v);
}

static void fmt_goal(char *buf, size_t cap, const bench_metric *m)
{
  if (m->goal.op == BENCH_OP_NONE) {
    snprintf(buf, cap, "-");
    return;
  }
  snprintf(buf, cap, "%s%g%s", m->goal.op == BENCH_OP_LE ? "<=" : ">=",
           m->goal.value, m->anchor ? "x" : "");
}

static bool str_eq(const char *a, const char *b)
{
  return strcmp(a, b) == 0;
}

/* -O0 or sanitizers: the ratios compare instrumentation, not code. */
static bool speed_meaningless(void)
{
  return str_eq(BENCH_OPTIMIZATION, "0") || !str_eq(BENCH_SANITIZE, "none");
}

typedef struct header {
  char cpu[256];
  long cores;
} header;

static void print_text(const opts *o, const header *h, double secs)
{
  printf("# smbx-bench smbx=%s commit=%s cpu=\"%s\" cores=%ld cc=\"%s\" "
         "runs=%d mode=%s buildtype=%s opt=%s sanitize=%s\n",
         smbx_version(), BENCH_GIT_COMMIT, h->cpu, h->cores, BENCH_CC,
         o->runs, o->quick ? "quick" : "full", BENCH_BUILDTYPE,
         BENCH_OPTIMIZATION, BENCH_SANITIZE);
  if (speed_meaningless())
    printf("# note: unoptimised or sanitized build: speed ratios mean "
           "nothing here, invariants still do\n");
  printf("# %-32s %-12s %12s %-27s %-26s %8s %-9s %s\n", "name", "unit",
         "median", "[min..max]", "anchor", "ratio", "goal", "verdict");
  int pass = 0, miss = 0, fail = 0, skip = 0, inv = 0;
  for (size_t i = 0; i < n_entries; i++) {
    const entry *e = &entries[i];
    if (!e->selected)
      continue;
    char med[32], lo[32], hi[32], ratio[32], goal[40], range[72];
    fmt_num(med, sizeof med, e->median);
    fmt_num(lo, sizeof lo, e->min);
    fmt_num(hi, sizeof hi, e->max);
    snprintf(range, sizeof range, "[%s..%s]", lo, hi);
    if (isnan(e->ratio))
      snprintf(ratio, sizeof ratio, "-");
    else
      snprintf(ratio, sizeof ratio, "%.2f", e->ratio);
    fmt_goal(goal, sizeof goal, e->m);
    printf("  %-32s %-12s %12s %-27s %-26s %8s %-9s %s%s\n", e->m->name,
           e->m->unit, med, range,
           e->anchor != SIZE_MAX ? entries[e->anchor].m->name : "-", ratio,
           goal, verdict_str(e->verdict),
           e->m->flags & BENCH_F_INVARIANT ? " (invariant)" : "");
    pass += e->verdict == V_PASS;
    miss += e->verdict == V_MISS;
    fail += e->verdict == V_FAIL;
    skip += e->verdict == V_SKIP;
    inv += !!(e->m->flags & BENCH_F_INVARIANT);
  }
  printf("# %d pass, %d miss, %d skipped; invariants: %d checked, %d broken;"
         " %.1f s\n",
         pass, miss, skip, inv, fail, secs);
}

static void json_str(const char *s)
{
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void json_num(double v)
{
  if (isnan(v) || isinf(v))
    fputs("null", stdout);
  else
    printf("%.17g", v);
}

static void print_json(const opts *o, const header *h, double secs)
{
  fputs("{\"smbx_version\": ", stdout);
  json_str(smbx_version());
  fputs(", \"commit\": ", stdout);
  json_str(BENCH_GIT_COMMIT);
  fputs(", \"cpu\": ", stdout);
  json_str(h->cpu);
  printf(", \"cores\": %ld, \"compiler\": ", h->cores);
  json_str(BENCH_CC);
  printf(", \"runs\": %d, \"quick\": %s, \"buildtype\": ", o->runs,
         o->quick ? "true" : "false");
  json_str(BENCH_BUILDTYPE);
  fputs(", \"optimization\": ", stdout);
  json_str(BENCH_OPTIMIZATION);
  fputs(", \"sanitize\": ", stdout);
  json_str(BENCH_SANITIZE);
  fputs(",\n \"metrics\": [", stdout);
  int pass = 0, miss = 0, fail = 0, skip = 0;
  bool first = true;
  for (size_t i = 0; i < n_entries; i++) {
    const entry *e = &entries[i];
    if (!e->selected)
      continue;
    fputs(first ? "\n  {\"name\": " : ",\n  {\"name\": ", stdout);
    first = false;
    json_str(e->m->name);
    fputs(", \"unit\": ", stdout);
    json_str(e->m->unit);
    fputs(", \"median\": ", stdout);
    json_num(e->median);
    fputs(", \"min\": ", stdout);
    json_num(e->min);
    fputs(", \"max\": ", stdout);
    json_num(e->max);
    fputs(", \"values\": [", stdout);
    for (int r = 0; r < o->runs; r++) {
      if (r)
        fputs(", ", stdout);
      json_num(e->v[r]);
    }
    printf("], \"iters\": %llu, \"anchor\": ", (unsigned long long)e->iters);
    if (e->anchor != SIZE_MAX)
      json_str(entries[e->anchor].m->name);
    else
      fputs("null", stdout);
    fputs(", \"ratio\": ", stdout);
    json_num(e->ratio);
    fputs(", \"goal\": ", stdout);
    if (e->m->goal.op == BENCH_OP_NONE) {
      fputs("null", stdout);
    } else {
      printf("{\"op\": \"%s\", \"value\": ",
             e->m->goal.op == BENCH_OP_LE ? "<=" : ">=");
      json_num(e->m->goal.value);
      printf(", \"of\": \"%s\"}", e->m->anchor ? "ratio" : "value");
    }
    printf(", \"is_anchor\": %s, \"invariant\": %s, \"verdict\": ",
           e->m->flags & BENCH_F_ANCHOR ? "true" : "false",
           e->m->flags & BENCH_F_INVARIANT ? "true" : "false");
    if (e->verdict == V_NONE)
      fputs("null", stdout);
    else
      json_str(verdict_str(e->verdict));
    fputs("}", stdout);
    pass += e->verdict == V_PASS;
    miss += e->verdict == V_MISS;
    fail += e->verdict == V_FAIL;
    skip += e->verdict == V_SKIP;
  }
  printf("\n ],\n \"summary\": {\"pass\": %d, \"miss\": %d, "
         "\"skipped\": %d, \"invariants_broken\": %d, \"seconds\": ",
         pass, miss, skip, fail);
  json_num(secs);
  fputs("}}\n", stdout);
}

static void print_list(void)
{
  for (size_t i = 0; i < n_entries; i++) {
    const entry *e = &entries[i];
    if (!e->selected)
      continue;
    char goal[40];
    fmt_goal(goal, sizeof goal, e->m);
    printf("%-32s %-12s %-26s %-9s%s%s\n", e->m->name, e->m->unit,
           e->m->anchor ? e->m->anchor : "-", goal,
           e->m->flags & BENCH_F_ANCHOR ? " anchor" : "",
           e->m->flags & BENCH_F_INVARIANT ? " invariant" : "");
  }
}

int main(int argc, char **argv)
{
  opts o;
  if (parse_opts(argc, argv, &o) != 0)
    return 2;
  if (load_registry() != 0)
    return 2;
  if (select_entries(&o) == 0) {
    fprintf(stderr, "smbx-bench: no metric matches '%s'\n",
            o.filter ? o.filter : "");
    return 2;
  }
  if (o.list) {
    print_list();
    return 0;
  }
  bench_set_quick(o.quick);
  header h;
  cpu_model(h.cpu, sizeof h.cpu);
  h.cores = sysconf(_SC_NPROCESSORS_ONLN);

  uint64_t t0 = bench_now_ns();
  measure(&o);
  double secs = (double)(bench_now_ns() - t0) / 1e9;
  bench_arena_release();
  if (o.json)
    print_json(&o, &h, secs);
  else
    print_text(&o, &h, secs);
  int broken = 0;
  for (size_t i = 0; i < n_entries; i++)
    broken += entries[i].selected && entries[i].verdict == V_FAIL;
  free(entries);
  if (broken)
    fprintf(stderr, "smbx-bench: %d invariant(s) broken\n", broken);
  return broken ? 1 : 0;
}
