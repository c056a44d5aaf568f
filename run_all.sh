#!/usr/bin/env bash
# The six searches of a profile end to end, then the thesis's figures and tables (docs/run_all.md).
#
#   ./run_all.sh [PROFILE_DIR] [--repeats K] [--jobs J] [--workers N] [--scheduler ADDR] [--final] [--rankcorr] [--report-with RUNS_DIR]
#
# PROFILE_DIR (default configs/bench: the six searches on the digits benchmark table, 20 seeds each;
# configs/quick trains live on digits) holds one YAML file per search (files with a `strategy:` key)
# and optionally run_all.args, the profile's default flags (flags given here win).
# --jobs J runs J searches at once (for look-up profiles; a training profile's workers use the cores).
# Search S runs into runs/<profile>/S/ (with --repeats K: runs/<profile>/S/seed-k/, seeds 0..K-1),
# always with --resume: a partial run continues, a finished one is skipped, so a second invocation
# trains nothing. Then `era report runs/<profile>`. --final trains each search's best architecture
# and the ResNet-110 baselines (normal, wide) with the profile's full schedule (thesis table 1);
# --rankcorr runs `era rankcorr PROFILE_DIR/rankcorr.yaml` (thesis §4.2). A failed step does not stop
# the others; the script ends with a summary and exits 1 when any step failed (130 on Ctrl-C).
# --report-with RUNS_DIR (repeatable; configs/bench_mf gives runs/bench) also writes
# `era report RUNS_DIR runs/<profile> --out runs/<profile>/report_all`, comparing the two profiles'
# searches on their common table; when RUNS_DIR is missing it prints that command to run later.
set -u

usage() { sed -n '4p' "$0" | sed 's/^#   /usage: /'; }
die() { echo "run_all.sh: ${WHERE:-}$*" >&2; usage >&2; exit 2; }
# posint FLAG VALUE MAX: VALUE is a whole number from 1 to MAX (a typo such as 10^20 would hang or overflow).
posint() { [[ "$2" =~ ^[1-9][0-9]{0,5}$ ]] && [ "$2" -le "$3" ] || die "$1: expected a positive integer up to $3, got '$2'"; }

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
parse() {
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) [ $# -ge 2 ] || die "--repeats: expected a positive integer"
                   posint --repeats "$2" 1000; REPEATS="$2"; shift 2 ;;
        --jobs) [ $# -ge 2 ] || die "--jobs: expected a positive integer"
                posint --jobs "$2" 1024; JOBS="$2"; shift 2 ;;
        --workers) [ $# -ge 2 ] || die "--workers: expected a positive integer"
                   posint --workers "$2" 4096; WORKERS="$2"; shift 2 ;;
        --scheduler) [ $# -ge 2 ] || die "--scheduler: expected an address such as tcp://host:8786"
                     SCHEDULER="$2"; shift 2 ;;
        --final) FINAL=1; shift ;;
        --rankcorr) RANKCORR=1; shift ;;
        --report-with) [ $# -ge 2 ] || die "--report-with: expected a runs folder such as runs/bench"
                       REPORT_WITH+=("$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) PROFILE_DIR="$1"; shift ;;
    esac
done
}
defaults() { PROFILE_DIR="$HERE/configs/bench" REPEATS="" JOBS=1 WORKERS="" SCHEDULER="" FINAL=0 RANKCORR=0 REPORT_WITH=(); }
# The command line names the profile; the profile's run_all.args are defaults the command line overrides.
defaults; parse "$@"
[ -d "$PROFILE_DIR" ] || die "profile folder not found: $PROFILE_DIR"
PROFILE_ARGS=()
if [ -f "$PROFILE_DIR/run_all.args" ]; then
    # Windows line ends (CRLF) are line ends too; a mistake in the file names the file.
    read -r -a PROFILE_ARGS < <(grep -v '^ *#' "$PROFILE_DIR/run_all.args" | tr -d '\r' | tr '\n' ' ')
    GIVEN_PROFILE="$PROFILE_DIR"; defaults; WHERE="$GIVEN_PROFILE/run_all.args: "; parse "${PROFILE_ARGS[@]}"
    WHERE=""; PROFILE_DIR="$GIVEN_PROFILE"; parse "$@"
fi
if [ "$JOBS" -gt 1 ] && { [ "${BASH_VERSINFO[0]}" -lt 5 ] || { [ "${BASH_VERSINFO[0]}" -eq 5 ] && [ "${BASH_VERSINFO[1]}" -lt 1 ]; }; }; then
    echo "run_all.sh: --jobs needs bash 5.1 or newer (this is $BASH_VERSION); running one search at a time" >&2
    JOBS=1
fi
PROFILE="$(basename "$(cd "$PROFILE_DIR" && pwd)")"
RUNS="runs/$PROFILE"

# The installed console script, else the package through the Python that has it.
if [ -n "${ERA:-}" ]; then read -r -a ERA_CMD <<< "$ERA"
elif command -v era > /dev/null; then ERA_CMD=(era)
elif [ -x "$HERE/.venv/bin/era" ]; then ERA_CMD=("$HERE/.venv/bin/era")
else ERA_CMD=(python3 -m era_deap.cli.main)
fi
PROGRESS=(); [ -t 2 ] || PROGRESS=(--no-progress)

FAILED=() DONE=()
on_interrupt() {
    [ ${#RUNNING[@]} -gt 0 ] && kill -INT "${!RUNNING[@]}" 2> /dev/null && wait
    echo; echo "run_all.sh: interrupted; rerun the same command to continue where it stopped" >&2; exit 130
}
trap on_interrupt INT TERM

# step NAME COMMAND...: run one step, time it, remember a failure and carry on (but stop on Ctrl-C).
step() {
    local name="$1"; shift
    local started=$SECONDS
    echo "==> $name: $*"
    "$@"
    finished "$name" $? "$started"
}
finished() {   # NAME EXIT_CODE STARTED
    [ "$2" -eq 130 ] || [ "$2" -eq 143 ] && on_interrupt
    if [ "$2" -eq 0 ]; then DONE+=("$1 ($((SECONDS - $3)) s)")
    else FAILED+=("$1 (exit $2)"); echo "run_all.sh: $1 failed (exit $2); going on" >&2
    fi
}
# step_parallel NAME COMMAND...: as step, but up to JOBS at once; `wait_all` collects the last ones.
declare -A RUNNING=() STARTED=()
step_parallel() {
    [ "$JOBS" -le 1 ] && { step "$@"; return; }
    while [ ${#RUNNING[@]} -ge "$JOBS" ]; do wait_one; done
    local name="$1"; shift
    echo "==> $name: $*"
    "$@" &
    RUNNING[$!]="$name" STARTED[$!]=$SECONDS
}
wait_one() {
    local pid rc
    wait -n -p pid "${!RUNNING[@]}"; rc=$?
    local name="${RUNNING[$pid]}" started="${STARTED[$pid]}"
    unset "RUNNING[$pid]" "STARTED[$pid]"
    finished "$name" $rc "$started"
}
wait_all() { while [ ${#RUNNING[@]} -gt 0 ]; do wait_one; done; }

# run_state CONFIG RUN_DIR SEED (SEED may be empty): "finished" when RUN_DIR holds a finished run of
# this very config (same config hash, budget reached): resuming it would train nothing, so we skip it
# and its journal stays as it is. best_flags RUN_DIR: `era train` flags for the best architecture of a
# finished run (and its space), one per line. Both answered by the run directory's reader
# (`era rundir`, era_deap/cli/rundir.py; era_deap/search/rundir.py's RunDirectory).
run_state() { "${ERA_CMD[@]}" rundir state "$1" "$2" ${3:+--seed "$3"}; }
best_flags() { "${ERA_CMD[@]}" rundir train-flags "$1"; }

SEARCHES=()
for file in "$PROFILE_DIR"/*.yaml; do
    grep -q '^strategy:' "$file" && SEARCHES+=("$file")
done
[ ${#SEARCHES[@]} -gt 0 ] || die "no search files (YAML with a top-level strategy:) in $PROFILE_DIR"
SEEDS=(""); [ -n "$REPEATS" ] && SEEDS=($(seq 0 $((REPEATS - 1))))
[ "$JOBS" -gt 1 ] && PROGRESS=(--no-progress)   # bars of parallel searches would overwrite each other
SEARCH_FLAGS=("${PROGRESS[@]}")
[ -n "$WORKERS" ] && SEARCH_FLAGS+=(--workers "$WORKERS")
[ -n "$SCHEDULER" ] && SEARCH_FLAGS+=(--scheduler "$SCHEDULER")

echo "run_all.sh: profile $PROFILE ($PROFILE_DIR), ${#SEARCHES[@]} searches into $RUNS/, era = ${ERA_CMD[*]}"
RUN_DIRS=()
for config in "${SEARCHES[@]}"; do
    search="$(basename "$config" .yaml)"
    for seed in "${SEEDS[@]}"; do
        if [ -z "$seed" ]; then out="$RUNS/$search" seed_flags=()
        else out="$RUNS/$search/seed-$seed" seed_flags=(--seed "$seed")
        fi
        RUN_DIRS+=("$out|$config")
        if [ "$(run_state "$config" "$out" "$seed" 2> /dev/null)" = finished ]; then
            DONE+=("search $search${seed:+ seed $seed} (finished before)")
            continue
        fi
        step_parallel "search $search${seed:+ seed $seed}" \
            "${ERA_CMD[@]}" search "$config" --out "$out" --resume "${seed_flags[@]}" "${SEARCH_FLAGS[@]}"
    done
done
wait_all

if [ $FINAL -eq 1 ]; then
    for entry in "${RUN_DIRS[@]}"; do
        out="${entry%%|*}" config="${entry#*|}"
        [ -f "$out/final/final.json" ] && { DONE+=("final $out (trained before)"); continue; }
        mapfile -t flags < <(best_flags "$out" 2> /dev/null)
        if [ ${#flags[@]} -eq 0 ]; then
            FAILED+=("final $out (no finished search to take the best architecture from)"); continue
        fi
        step "final $out" "${ERA_CMD[@]}" train "${flags[@]}" --config "$config" --out "$out/final" "${PROGRESS[@]}"
    done
    # The baselines of table 1 with the same schedule and data (the first search file's evaluator).
    for baseline in "resnet110 8 8" "resnet110-wide 16 32"; do
        read -r name filters group <<< "$baseline"
        out="$RUNS/final-$name"
        [ -f "$out/final.json" ] && { DONE+=("final $name (trained before)"); continue; }
        step "final $name" "${ERA_CMD[@]}" train --block basic --sections 0,18,18,18 --filters "$filters" \
            --filter-update 2 --group-size "$group" --name "$name" --config "${SEARCHES[0]}" --out "$out" \
            --space "$HERE/configs/space.yaml" "${PROGRESS[@]}"   # ResNet-110 lies outside small spaces
    done
fi

if [ $RANKCORR -eq 1 ]; then
    if [ -f "$PROFILE_DIR/rankcorr.yaml" ]; then
        step "rankcorr" "${ERA_CMD[@]}" rankcorr "$PROFILE_DIR/rankcorr.yaml" --out "$RUNS/rankcorr" "${PROGRESS[@]}"
    else
        FAILED+=("rankcorr (no $PROFILE_DIR/rankcorr.yaml)")
    fi
fi

step "report" "${ERA_CMD[@]}" report "$RUNS" --out "$RUNS/report"
# The profile's searches beside another profile's (bench_mf beside bench: regret at equal training epochs).
REPORTS="$RUNS/report/report.md"
if [ ${#REPORT_WITH[@]} -gt 0 ]; then
    MISSING=()
    for dir in "${REPORT_WITH[@]}"; do [ -d "$dir" ] || MISSING+=("$dir"); done
    if [ ${#MISSING[@]} -eq 0 ]; then
        step "report with ${REPORT_WITH[*]}" "${ERA_CMD[@]}" report "${REPORT_WITH[@]}" "$RUNS" --out "$RUNS/report_all"
        REPORTS+=", $RUNS/report_all/report.md (with ${REPORT_WITH[*]})"
    else
        echo "run_all.sh: ${MISSING[*]} not found, so no combined report; once it exists: era report ${REPORT_WITH[*]} $RUNS --out $RUNS/report_all"
    fi
fi

echo
echo "run_all.sh: profile $PROFILE done in $SECONDS s; report: $REPORTS"
for line in "${DONE[@]}"; do echo "  ok      $line"; done
for line in "${FAILED[@]+"${FAILED[@]}"}"; do echo "  FAILED  $line"; done
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "run_all.sh: ${#FAILED[@]} step(s) failed; fix them and rerun (finished steps are skipped)" >&2
    exit 1
fi
