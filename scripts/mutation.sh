#!/usr/bin/env bash
# make mutation: mutation testing with gremlins, one package at a time (the
# machine is shared: one worker, a raised timeout coefficient), then a score
# table (internal/tools/mutationreport). See docs/testing.md.
#
#   MUTATION_PKGS="pipelines components/processor/topkprocessor" make mutation
#
# Tests run with -short, and PHOENIX_OTELCOL points nowhere so the tests that
# drive the prebuilt collector skip: a mutant of the Go source never reaches
# that binary, so those tests cannot kill it and would only slow the run.
set -euo pipefail
cd "$(dirname "$0")/.."
GREMLINS=${GREMLINS:-bin/gremlins}
OUT=${MUTATION_OUT:-build/mutation}
COEFF=${MUTATION_TIMEOUT_COEFFICIENT:-10}
default_pkgs=(
	components/processor/topkprocessor
	components/processor/adaptivefilterprocessor
	components/processor/cardinalityprocessor
	components/internal/processmetrics
	pipelines
	opamp-server/deployment
	opamp-server/experiment
	opamp-server/experiment/stats
	opamp-server/store/sqlstore
	opamp-server/store/sqlite
	opamp-server/store/postgres
)
read -r -a pkgs <<<"${MUTATION_PKGS:-${default_pkgs[*]}}"
mkdir -p "$OUT"
# The store's tests run the conformance suite on PostgreSQL too; without a
# cluster they skip and every mutant they alone would kill lives.
for pkg in "${pkgs[@]}"; do
	if [[ $pkg == opamp-server/store/* && -z ${PHOENIX_TEST_POSTGRES_DSN:-} ]]; then
		PHOENIX_TEST_POSTGRES_DSN=$(scripts/start-postgres.sh)
		export PHOENIX_TEST_POSTGRES_DSN
		break
	fi
done
for pkg in "${pkgs[@]}"; do
	if ! ls "$pkg"/*.go >/dev/null 2>&1; then
		echo "mutation: $pkg does not exist here, skipped"
		continue
	fi
	name=${pkg//\//_}
	echo "mutation: $pkg (log: $OUT/$name.log)"
	start=$(date +%s)
	# Not in parallel: one package, one worker. A failing baseline (a red
	# test suite) is recorded in the log and the package shows no score.
	# gremlins mutates every .go file under the path, subdirectories too,
	# but runs only the mutated file's own package's tests: --exclude-files
	# '/' (a path relative to the package with a slash is in a subpackage)
	# keeps the count to this package (experiment/stats, postgres/pgtest and
	# the cmd/ tools are scored apart or not at all). -count=1: a coverage
	# run answered from the test cache takes milliseconds, and gremlins sets
	# every mutant's timeout from it (all of them then "time out").
	env -u CI GOFLAGS='-short -count=1' PHOENIX_OTELCOL=/nonexistent/phoenix-otelcol \
		"$GREMLINS" unleash --workers 1 --timeout-coefficient "$COEFF" \
		--exclude-files / --output "$OUT/$name.json" "./$pkg" >"$OUT/$name.log" 2>&1 || true
	echo "$pkg $(($(date +%s) - start))" >"$OUT/$name.seconds"
done
go run ./internal/tools/mutationreport -dir "$OUT"
